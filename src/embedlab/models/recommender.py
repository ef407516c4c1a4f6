"""Recommender: user and item embeddings, from explicit ratings or implicit feedback.

    rec = Recommender().fit(users, items, ratings)         # explicit: biased matrix factorisation
    rec.evaluate(test_users, test_items, test_ratings)      # {"rmse": ..., "mae": ...}
    rec = Recommender(implicit=True).fit(users, items)      # implicit: two towers, dot product
    rec.recommend("196", k=10)                              # seen items left out
    rec.similar_items("242", k=10)
    rec.save("bundle"); Recommender.load("bundle")

IDs are normalised to strings everywhere (`embedlab.text.categories.category_strings`), so
the integer 42, the float 42.0 and the text "42" are one user. The networks (biased matrix
factorisation for ratings, a dot product with sampled negatives for implicit feedback) are
described in `embedlab.models.factorization`; the ranking metrics in `.ranking`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab import artifacts
from embedlab.data.columns import rating_values
from embedlab.errors import BundleError, ConfigError, DataError, LabelError
from embedlab.layers import check_ids, use_sparse
from embedlab.models.base import EmbeddingModel, EmbeddingTable, FromBundle
from embedlab.models.factorization import (
    implicit_rows,
    scoring_network,
    zero_untrained_rows,
)
from embedlab.models.interactions import (
    encode_interactions,
    mean_ratings,
    parse_buckets,
    repeated_pairs,
)
from embedlab.models.ranking import FIRST_ID, RankingMixin, Recommendations, leave_last_out
from embedlab.text.categorical import CategoricalVocabulary, load_vocabularies, save_vocabularies
from embedlab.text.categories import category_strings
from embedlab.training.distribution import table_size
from embedlab.training.evaluation import regression_figures
from embedlab.training.metrics import regression_metrics
from embedlab.training.trainer import TrainSettings, train
from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)

KIND = "recommender"
INTERACTION_ARRAYS = ("seen_indptr", "seen_items", "positive_indptr", "positive_items",
                      "popularity")


def _interactions(obj, path) -> dict:
    """The bundle's interactions.npz, read once (by the first of seen, positives, popularity
    used: scoring pairs needs none of them)."""
    if "_interaction_arrays" not in obj.__dict__:
        obj.__dict__["_interaction_arrays"] = artifacts.read_arrays(
            path, artifacts.INTERACTIONS, list(INTERACTION_ARRAYS))
    return obj.__dict__["_interaction_arrays"]

# Defaults per mode, chosen on a validation split carved from MovieLens 100k's training part.
DEFAULTS = {
    "explicit": {"dim": 32, "l2": 0.2, "epochs": 30, "batch_size": 256,
                 "learning_rate": 1e-3},
    "implicit": {"dim": 64, "l2": 0.01, "epochs": 30, "batch_size": 1024,
                 "learning_rate": 3e-3},
}


class Recommender(RankingMixin, EmbeddingModel):
    """User and item embeddings for explicit ratings or implicit feedback.

    Args:
        implicit: Optional boolean. True: implicit feedback; False: explicit ratings; None
            (default): implicit when `fit` gets no ratings.
        min_rating: Float. With implicit feedback and ratings, the ratings that count as
            positive (>= this).
        dim: Optional integer. Size of the user and item vectors (32 explicit, 64 implicit).
        l2: Optional float. L2 penalty on each looked-up user and item vector, counted while
            training only (0.2 explicit, 0.01 implicit).
        negatives: Integer. Implicit: items drawn per positive as negatives.
        epochs, batch_size, validation_split, patience, learning_rate, seed: see
            `embedlab.training.TrainSettings` (epochs, batch size and rate default by mode).
        min_count: Integer. IDs with fewer interactions share the unknown row.
        hash_buckets: Optional integer (users and items) or dict (`{"user": N, "item": M}`).
            Hash those IDs into N rows by a stable hash (for ID spaces too large to list);
            IDs never seen in training still map to the unknown row, and are counted.
        sparse: Optional boolean. Train the user and item tables row-sparsely
            (`embedlab.layers.sparse_embedding`); None (default): tables of
            `embedlab.layers.SPARSE_FROM_ROWS` rows or more.
        mesh: Optional. Train on many devices: `"data=2,model=4"` (batches split on `data`,
            tables' rows on `model`), `"auto"`, or a dict of axis sizes; None (default):
            one device. See `embedlab.training.distribution`.
        verbose: Integer. Keras's progress output.
    """

    kind = KIND  # the bundle kind this class writes and loads
    # CSR (indptr, item ids) of the items each user has seen / has as positives
    seen = FromBundle(lambda obj, path: (_interactions(obj, path)["seen_indptr"],
                                         _interactions(obj, path)["seen_items"]))
    positives = FromBundle(lambda obj, path: (_interactions(obj, path)["positive_indptr"],
                                              _interactions(obj, path)["positive_items"]))
    popularity = FromBundle(lambda obj, path: _interactions(obj, path)["popularity"])

    def __init__(
        self,
        *,
        implicit: bool | None = None,
        min_rating: float = 4.0,
        dim: int | None = None,
        l2: float | None = None,
        negatives: int = 4,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_split: float = 0.1,
        patience: int = 3,
        learning_rate: float | None = None,
        seed: int = 0,
        sparse: bool | None = None,
        min_count: int = 1,
        hash_buckets: int | dict[str, int] | None = None,
        mesh: Any = None,
        verbose: int = 0,
    ):
        super().__init__(verbose=verbose, mesh=mesh)
        self.min_count = min_count
        self.hash_buckets = parse_buckets(hash_buckets)
        if sparse not in (None, True, False):
            raise ConfigError(f"`sparse` must be True, False or None. Received: {sparse!r}.")
        self.sparse = sparse
        if implicit not in (None, True, False):
            raise ConfigError(f"`implicit` must be True, False or None. Received: {implicit!r}.")
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise ConfigError(f"`dim` must be a positive integer. Received: dim={dim!r}.")
        if l2 is not None and not l2 >= 0:
            raise ConfigError(f"`l2` must be >= 0. Received: l2={l2!r}.")
        if isinstance(negatives, bool) or not isinstance(negatives, int) or negatives < 1:
            raise ConfigError(
                f"`negatives` must be an integer >= 1. Received: negatives={negatives!r}."
            )
        self.implicit = implicit
        self.min_rating = float(min_rating)
        self.dim = dim
        self.l2 = l2
        self.negatives = negatives
        self._train_options = {
            "epochs": epochs, "batch_size": batch_size, "validation_split": validation_split,
            "patience": patience, "learning_rate": learning_rate, "seed": seed,
        }
        TrainSettings(**self._resolved("explicit"))  # check the values at the door
        self.settings: TrainSettings | None = None
        self.users: CategoricalVocabulary | None = None
        self.items: CategoricalVocabulary | None = None
        self.rating_range: tuple[float, float] | None = None
        self.mean_rating: float | None = None
        self.seen = self.positives = self.popularity = None
        self.columns: dict = {}
        self.last_counts: dict = {}

    def _resolved(self, mode: str) -> dict:
        options = dict(self._train_options)
        for key in ("epochs", "batch_size", "learning_rate"):
            if options[key] is None:
                options[key] = DEFAULTS[mode][key]
        return options

    @property
    def mode(self) -> str:
        return "implicit" if self.implicit else "explicit"

    # ------------------------------------------------------------------ training
    def fit(self, users: Any, items: Any, ratings: Any = None) -> Recommender:
        """Learn the ID vocabularies and the user and item vectors.

        Args:
            users: Sequence of user IDs (any scalar type; normalised to strings).
            items: Sequence of item IDs, one per interaction.
            ratings: Optional sequence of numbers. Explicit ratings, or with `implicit=True`
                the values `min_rating` turns into positives.

        Rows with a missing user, item or rating are dropped and counted.
        """
        if self.implicit is None:
            self.implicit = ratings is None
        if not self.implicit and ratings is None:
            raise ConfigError(
                "explicit ratings need a rating column. Received none. Pass ratings, or "
                "implicit=True (--implicit) for feedback without ratings."
            )
        data = encode_interactions(users, items, ratings, implicit=self.implicit,
                                   min_rating=self.min_rating, min_count=self.min_count,
                                   buckets=self.hash_buckets)
        self.users, self.items, self.seen, self.positives, self.popularity = (
            data.users, data.items, data.seen, data.positives, data.popularity)
        u, i, values, positive, dropped = data.u, data.i, data.values, data.positive, data.dropped
        repeated = repeated_pairs(u, i, self.items.input_dim)
        options = self._resolved(self.mode)
        self.settings = TrainSettings(class_weight=None, **options)
        self.dim = self.dim or DEFAULTS[self.mode]["dim"]
        self.l2 = DEFAULTS[self.mode]["l2"] if self.l2 is None else self.l2
        import keras

        keras.utils.set_random_seed(self.settings.seed)
        transform = None
        if self.implicit:
            from embedlab.training.batches import negative_items

            x, y, negative = implicit_rows(u[positive], i[positive], negatives=self.negatives,
                                           items=self.items.input_dim, seed=self.settings.seed)
            transform = negative_items(negative, FIRST_ID, self.items.input_dim)
        else:
            self._rating_scale(values)
            x, y = {"user": u, "item": i}, values.astype("float32")
        x["user"] = check_ids(x["user"], self.users.input_dim, what="user ids")
        x["item"] = check_ids(x["item"], self.items.input_dim, what="item ids")
        with self._distributed(self._table_sizes()):
            self.model = self._scoring_model()
            self.history = train(self.model, x, y, settings=self.settings,
                                 task="binary" if self.implicit else "regression",
                                 verbose=self.verbose, transform=transform,
                                 checkpoint=self.checkpoint)
        zero_untrained_rows(self.model, self.users.counts, self.items.counts)
        self.attributes = {}
        if values is not None:
            for name, ids, vocab in (("items", i, self.items), ("users", u, self.users)):
                self.attributes[name] = {"mean rating": mean_ratings(ids, values,
                                                                     vocab.input_dim)}
        if not self.implicit and self.history.validation is not None:
            truth, outputs = self.history.validation
            self.evaluation = {"split": "validation", "task": "regression", "rows": len(truth),
                               **regression_figures(truth, outputs)}
        self.data_summary = {
            "mode": self.mode,
            "rows": int(len(u)),
            "dropped": dropped,
            "users": self.users.distinct,
            "items": self.items.distinct,
            "tables": {"users": self.users.describe(), "items": self.items.describe()},
            "positives": int(positive.sum()),
            "repeated_pairs": repeated,
            "parameters": int(self.model.count_params()),
        }
        return self

    def fit_stream(self, data: Any, *, user: str, item: str, rating: str | None = None,
                   buffer_rows: int | None = None) -> Recommender:
        """Learn from interactions streamed off disk, never held whole: a Parquet file, a
        directory of Parquet files (hive partitions allowed), or a CSV/TSV file (or an
        `embedlab.data.stream.TableStream`).

        One pass counts the IDs, one builds the seen pairs and the validation rows (those
        whose user and item hash below `validation_split`, the same rows in every pass),
        then each epoch reads the files in a new order through a shuffle buffer of
        `buffer_rows` rows (1M by default). Rows missing a user, item or rating are dropped
        and counted, as in `fit`.
        """
        from embedlab.data.stream import TableStream
        from embedlab.models.recommender_stream import fit_stream

        if self.implicit is None:
            self.implicit = rating is None
        if not self.implicit and rating is None:
            raise ConfigError(
                "explicit ratings need a rating column. Received none. Pass rating=, or "
                "implicit=True (--implicit) for feedback without ratings."
            )
        columns = [c for c in (user, item, rating) if c]
        stream = data if isinstance(data, TableStream) else TableStream(data, columns=columns)
        return fit_stream(self, stream, user=user, item=item, rating=rating,
                          defaults=DEFAULTS[self.mode], buffer_rows=buffer_rows)

    def _rating_scale(self, values: np.ndarray) -> None:
        low, high = float(values.min()), float(values.max())
        if high == low:
            raise LabelError(
                f"every rating is {low:g}; a rating model needs at least two values. Pass "
                "varied ratings, or --implicit."
            )
        if low < 0:
            log.info("%d ratings are negative; ratings are fitted over their range [%g, %g].",
                     int((values < 0).sum()), low, high)
        self.rating_range = (low, high)
        self.mean_rating = float(values.mean())

    def _table_sizes(self) -> dict:
        return {f"{side}_embedding": table_size(vocab.input_dim, self.dim, sparse=use_sparse(
            vocab.input_dim, self.sparse)) for side, vocab in (("user", self.users),
                                                               ("item", self.items))}

    def _scoring_model(self):
        return scoring_network(
            self.users.input_dim, self.items.input_dim, self.dim, implicit=self.implicit,
            rating_range=self.rating_range, mean_rating=self.mean_rating, l2=self.l2,
            sparse_users=use_sparse(self.users.input_dim, self.sparse),
            sparse_items=use_sparse(self.items.input_dim, self.sparse))

    # ---------------------------------------------------------------- prediction
    def _ids(self, users: Any, items: Any) -> tuple[np.ndarray, np.ndarray]:
        u, unknown_users, missing_users = self.users.encode_counted(users, what="user IDs")
        i, unknown_items, missing_items = self.items.encode_counted(items, what="item IDs")
        if len(u) != len(i):
            raise DataError(
                f"users and items must be the same length. Received {len(u)} and {len(i)}."
            )
        self.last_counts = {"unknown_users": unknown_users + missing_users,
                            "unknown_items": unknown_items + missing_items}
        if unknown_users + unknown_items + missing_users + missing_items:
            log.warning(
                "%d users and %d items were not seen in training; they score by the other "
                "side's bias alone.", unknown_users + missing_users, unknown_items + missing_items
            )
        return (check_ids(u, self.users.input_dim, what="user ids"),
                check_ids(i, self.items.input_dim, what="item ids"))

    def _score_ids(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        if len(u) == 0:
            return np.zeros(0, "float64")
        out = self._outputs({"user": u, "item": i}, batch_size=65536)
        out = out.astype("float64").reshape(-1)
        if self.rating_range is not None:
            out = np.clip(out, *self.rating_range)  # no rating beyond those seen in training
        return out

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings (explicit) or scores in (0, 1) (implicit) of (user, item) pairs."""
        self._require_fitted()
        return self._score_ids(*self._ids(users, items))

    @property
    def input_columns(self) -> list[str]:
        """The columns `predict_table` reads: the training user and item columns."""
        return [self.columns.get("user", "user"), self.columns.get("item", "item")]

    def predict_table(self, table: pa.Table) -> dict[str, list]:
        """`predicted`: the rating (explicit) or the score (implicit) of each row's pair."""
        user, item = self.input_columns
        return {"predicted": self.predict(table[user], table[item]).tolist()}

    def table_attributes(self, table: str) -> dict[str, np.ndarray]:
        """Per-row attributes of the `items` or `users` table, aligned with
        `item_vectors()` / `user_vectors()` (the mean training rating)."""
        return {name: values[FIRST_ID:]
                for name, values in self.attributes.get(table, {}).items()}

    def evaluate(self, users: Any, items: Any, ratings: Any) -> dict:
        """RMSE and MAE of explicit ratings (rows without a rating dropped and counted)."""
        return super().evaluate(users, items, ratings)

    def evaluate_with_figures(self, users: Any, items: Any, ratings: Any, *,
                              split: str = "test") -> tuple[dict, dict]:
        """(metrics as `evaluate`, what a report draws of them: the rating-error histogram
        and the predictions per true rating; see `embedlab.training.evaluation`)."""
        self._require_fitted()
        if self.implicit:
            raise ConfigError(
                "evaluate() measures rating error and this model learned implicit feedback. "
                "Use evaluate_ranking()."
            )
        values = rating_values(ratings, None)
        keep = ~np.isnan(values)
        u = category_strings(users, what="user IDs").filter(pa.array(keep))
        i = category_strings(items, what="item IDs").filter(pa.array(keep))
        pred = self.predict(u, i)
        result = regression_metrics(values[keep], pred)
        result.update(rows=int(keep.sum()), dropped=int((~keep).sum()), **self.last_counts)
        figures = {"split": split, "task": "regression", "rows": int(keep.sum()),
                   **regression_figures(values[keep], pred)}
        return result, figures

    # ------------------------------------------------------------ the learned tables
    def table_layers(self) -> list[str]:
        return ["item_embedding", "user_embedding"]

    def _table_rows(self) -> dict[str, int]:
        return {"item_embedding": self.items.input_dim, "user_embedding": self.users.input_dim}

    @classmethod
    def table_names(cls, manifest: dict) -> list[str]:
        return ["items", "users"]

    def _tables_from(self, weights: dict[str, np.ndarray]) -> dict[str, EmbeddingTable]:
        tables = {}
        for name, layer, vocab in (("items", "item_embedding", self.items),
                                   ("users", "user_embedding", self.users)):
            vectors = WordVectors(vocab.index_to_key[FIRST_ID:], weights[layer][FIRST_ID:],
                                  source=f"{name[:-1]} vectors of a Recommender",
                                  counts=vocab.counts[FIRST_ID:])
            tables[name] = EmbeddingTable(name, vectors, attributes=self.table_attributes(name),
                                          kind=KIND)
        return tables

    def item_vectors(self) -> WordVectors:
        """The learned item vectors as a `WordVectors` keyed by item ID."""
        return self.embedding_tables()["items"].vectors

    def user_vectors(self) -> WordVectors:
        """The learned user vectors as a `WordVectors` keyed by user ID."""
        return self.embedding_tables()["users"].vectors

    # ------------------------------------------------------------------ bundles
    def _manifest(self) -> dict:
        return {
            "task": "implicit" if self.implicit else "regression",
            "mode": self.mode,
            "columns": self.columns,
            "model": {"dim": self.dim, "l2": self.l2, "negatives": self.negatives,
                      "min_count": self.min_count, "hash_buckets": self.hash_buckets,
                      "min_rating": self.min_rating, "rating_range": self.rating_range,
                      "mean_rating": self.mean_rating},
            "settings": self.settings.to_dict(),
        }

    def _writers(self) -> dict:
        vocabularies = {"user": self.users, "item": self.items}
        arrays = dict(zip(INTERACTION_ARRAYS, (*self.seen, *self.positives, self.popularity),
                          strict=True))
        return {artifacts.CATEGORICAL: lambda p: save_vocabularies(
            p, vocabularies, hashes=p.with_name(artifacts.CATEGORICAL_HASHES)),
                artifacts.INTERACTIONS: artifacts.npz_writer(arrays)}

    @classmethod
    def _restore(cls, path: Path, manifest: dict) -> Recommender:
        spec, settings = manifest["model"], manifest["settings"]
        obj = cls(implicit=manifest["mode"] == "implicit", min_rating=spec["min_rating"],
                  dim=spec["dim"], l2=spec["l2"], negatives=spec["negatives"],
                  min_count=spec.get("min_count", 1), hash_buckets=spec.get("hash_buckets"),
                  **{k: v for k, v in settings.items() if k != "class_weight"})
        obj.settings = TrainSettings(**settings)
        obj.rating_range = tuple(spec["rating_range"]) if spec["rating_range"] else None
        obj.mean_rating = spec["mean_rating"]
        vocabularies = load_vocabularies(path / artifacts.CATEGORICAL,
                                         hashes=path / artifacts.CATEGORICAL_HASHES)
        obj.users, obj.items = vocabularies.get("user"), vocabularies.get("item")
        if obj.users is None or obj.items is None:
            raise BundleError(
                f"bundle {str(path)!r} lacks the user or item vocabulary. Train it again."
            )
        obj.columns = manifest.get("columns") or {}
        return obj


__all__ = ["Recommendations", "Recommender", "leave_last_out"]
