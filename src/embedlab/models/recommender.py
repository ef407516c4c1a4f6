"""Recommender: user and item embeddings, from explicit ratings or implicit feedback.

    rec = Recommender().fit(users, items, ratings)         # explicit: biased matrix factorisation
    rec.evaluate(test_users, test_items, test_ratings)      # {"rmse": ..., "mae": ...}
    rec = Recommender(implicit=True).fit(users, items)      # implicit: two towers, dot product
    rec.recommend("196", k=10)                              # seen items left out
    rec.similar_items("242", k=10)
    rec.save("bundle"); Recommender.load("bundle")

IDs are normalised to strings everywhere (`embedlab.text.categories.category_strings`), so
the integer 42, the float 42.0 and the text "42" are one user.

Explicit ratings: prediction = rescaled sigmoid(w (p_u . q_i + b_u + b_i) + c), squeezed into
the rating range widened by an eighth of its span on each side (and clipped to the range seen
in training); mean squared error plus an L2 penalty on each looked-up user and item vector,
counted while training only, so early stopping watches the pure validation error.

Implicit feedback (no rating, or `implicit=True` where ratings >= `min_rating` are positives):
score = sigmoid(p_u . q_i + b_i), trained with binary cross-entropy on each positive and
`negatives` items drawn uniformly from the catalogue, drawn afresh at every training step
(validation rows keep fixed draws, so early stopping compares like with like), with the same
training-only L2 penalty.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab import artifacts
from embedlab.errors import BundleError, ConfigError, DataError, LabelError, column_error
from embedlab.layers import check_ids, make_embedding
from embedlab.text.categorical import RESERVED, CategoricalVocabulary
from embedlab.text.categories import category_string, category_strings
from embedlab.training.evaluation import regression_figures
from embedlab.training.metrics import regression_metrics
from embedlab.training.trainer import History, TrainSettings, train

log = logging.getLogger(__name__)

KIND = "recommender"
FIRST_ID = len(RESERVED)  # ids below this are <pad>, <unk>, <missing>

# Defaults per mode, chosen on a validation split carved from MovieLens 100k's training part.
DEFAULTS = {
    "explicit": {"dim": 32, "l2": 0.2, "epochs": 30, "batch_size": 256,
                 "learning_rate": 1e-3},
    "implicit": {"dim": 64, "l2": 0.01, "epochs": 30, "batch_size": 1024,
                 "learning_rate": 3e-3},
}


@dataclass
class Recommendations:
    """What `recommend` returns: the items, their scores, and whether the user was known."""

    user: str
    items: list[str]
    scores: list[float]
    known_user: bool
    basis: str  # "model" or "popularity"

    def rows(self) -> list[list]:
        return [[i + 1, item, score] for i, (item, score) in enumerate(
            zip(self.items, self.scores, strict=True))]


class Recommender:
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
        verbose: Integer. Keras's progress output.
    """

    kind = KIND  # the bundle kind this class writes and loads

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
        verbose: int = 0,
    ):
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
        self.verbose = verbose
        self.users: CategoricalVocabulary | None = None
        self.items: CategoricalVocabulary | None = None
        self.rating_range: tuple[float, float] | None = None
        self.mean_rating: float | None = None
        self.seen: tuple[np.ndarray, np.ndarray] | None = None  # CSR: indptr, item ids
        self.positives: tuple[np.ndarray, np.ndarray] | None = None
        self.popularity: np.ndarray | None = None
        self.model = None
        self.history: History | None = None
        self.metrics: dict = {}
        self.data_summary: dict = {}
        self.evaluation: dict | None = None
        self.attributes: dict[str, dict[str, np.ndarray]] = {}
        self.columns: dict = {}
        self.manifest_data: dict = {}
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
        user_keys = category_strings(users, what="user IDs")
        item_keys = category_strings(items, what="item IDs")
        if len(user_keys) != len(item_keys):
            raise DataError(
                f"users and items must be the same length. Received {len(user_keys)} users "
                f"and {len(item_keys)} items."
            )
        if len(user_keys) == 0:
            raise DataError("no interactions to train on. Pass at least a few rows.")
        keep = np.asarray(user_keys.is_valid()) & np.asarray(item_keys.is_valid())
        values = None
        if ratings is not None:
            values = rating_values(ratings, len(user_keys))
            keep &= ~np.isnan(values)
        if self.implicit is None:
            self.implicit = ratings is None
        if not self.implicit and ratings is None:
            raise ConfigError(
                "explicit ratings need a rating column. Received none. Pass ratings, or "
                "implicit=True (--implicit) for feedback without ratings."
            )
        dropped = int((~keep).sum())
        if dropped:
            log.warning("%d rows without a user, item or rating were dropped.", dropped)
        if not keep.any():
            raise DataError(
                f"no rows to train on: all {len(keep)} lack a user, item or rating. "
                "Check the columns."
            )
        rows = pa.array(np.flatnonzero(keep))
        user_keys, item_keys = user_keys.take(rows), item_keys.take(rows)
        values = values[keep] if values is not None else None
        self.users = CategoricalVocabulary().fit(user_keys, what="user IDs")
        self.items = CategoricalVocabulary().fit(item_keys, what="item IDs")
        u = self.users.encode(user_keys)
        i = self.items.encode(item_keys)
        positive = np.ones(len(u), bool) if values is None or not self.implicit else (
            values >= self.min_rating)
        if self.implicit and not positive.any():
            raise LabelError(
                f"no rating reaches min_rating={self.min_rating:g} (the highest is "
                f"{np.max(values):g}), so there are no positives. Lower --min-rating."
            )
        self.seen = _csr(u, i, self.users.input_dim)
        self.positives = _csr(u[positive], i[positive], self.users.input_dim)
        self.popularity = np.bincount(i[positive], minlength=self.items.input_dim).astype(np.int64)
        options = self._resolved(self.mode)
        self.settings = TrainSettings(class_weight=None, **options)
        self.dim = self.dim or DEFAULTS[self.mode]["dim"]
        self.l2 = DEFAULTS[self.mode]["l2"] if self.l2 is None else self.l2
        import keras

        keras.utils.set_random_seed(self.settings.seed)
        if self.implicit:
            self._fit_implicit(u[positive], i[positive])
        else:
            self._fit_explicit(u, i, values)
        self._zero_reserved_rows()
        self.attributes = {}
        if values is not None:
            for name, ids, vocab in (("items", i, self.items), ("users", u, self.users)):
                seen = np.bincount(ids, minlength=vocab.input_dim)
                total = np.bincount(ids, weights=values, minlength=vocab.input_dim)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(seen > 0, total / np.maximum(seen, 1), np.nan)
                self.attributes[name] = {"mean rating": mean.astype("float32")}
        if not self.implicit and self.history.validation is not None:
            truth, outputs = self.history.validation
            self.evaluation = {"split": "validation", "task": "regression", "rows": len(truth),
                               **regression_figures(truth, outputs)}
        self.data_summary = {
            "mode": self.mode,
            "rows": int(len(u)),
            "dropped": dropped,
            "users": len(self.users.values),
            "items": len(self.items.values),
            "positives": int(positive.sum()),
            "parameters": int(self.model.count_params()),
        }
        return self

    def _fit_explicit(self, u: np.ndarray, i: np.ndarray, values: np.ndarray) -> None:
        low, high = float(values.min()), float(values.max())
        if high == low:
            raise LabelError(
                f"every rating is {low:g}; a rating model needs at least two values. Pass "
                "varied ratings, or --implicit."
            )
        self.rating_range = (low, high)
        self.mean_rating = float(values.mean())
        self.model = self._scoring_model()
        x = {"user": check_ids(u, self.users.input_dim, what="user ids"),
             "item": check_ids(i, self.items.input_dim, what="item ids")}
        self.history = train(self._training_model(), x, values.astype("float32"),
                             task="regression", settings=self.settings, verbose=self.verbose)

    def _fit_implicit(self, u: np.ndarray, i: np.ndarray) -> None:

        self.model = self._scoring_model()
        n = len(u)
        rng = np.random.default_rng(self.settings.seed)
        k = self.negatives
        neg_items = rng.integers(FIRST_ID, self.items.input_dim, size=n * k)
        x = {
            "user": check_ids(np.concatenate([u, np.repeat(u, k)]), self.users.input_dim,
                              what="user ids"),
            "item": check_ids(np.concatenate([i, neg_items]), self.items.input_dim,
                              what="item ids"),
            "negative": np.concatenate([np.zeros(n), np.ones(n * k)]).astype("float32"),
        }
        y = np.concatenate([np.ones(n), np.zeros(n * k)]).astype("float32")
        self.history = train(self._training_model(), x, y, task="binary",
                             settings=self.settings, verbose=self.verbose)

    def _training_model(self):
        """The scoring model wrapped for training: implicit rows flagged `negative` get a
        fresh random item at each step, and the L2 penalty on the looked-up user and item
        vectors joins the loss while training only (validation losses stay pure)."""
        import keras

        user = keras.Input(shape=(), dtype="int32", name="user")
        item = keras.Input(shape=(), dtype="int32", name="item")
        inputs = [user, item]
        if self.implicit:
            flag = keras.Input(shape=(), dtype="float32", name="negative")
            inputs.append(flag)
            item = _negative_sampler(FIRST_ID, self.items.input_dim, self.settings.seed)(
                [item, flag])
        out = self.model([user, item])
        if self.l2:
            p = self.model.get_layer("user_embedding")(user)
            q = self.model.get_layer("item_embedding")(item)
            out = _training_penalty(self.l2)([out, p, q])
        return keras.Model(inputs, out, name=f"{self.mode}_training")

    def _scoring_model(self):
        """(user id, item id) -> rating (explicit) or score in (0, 1) (implicit)."""
        import keras

        user = keras.Input(shape=(), dtype="int32", name="user")
        item = keras.Input(shape=(), dtype="int32", name="item")
        p = make_embedding(self.users.input_dim, self.dim, name="user_embedding")(user)
        q = make_embedding(self.items.input_dim, self.dim, name="item_embedding")(item)
        parts = [keras.layers.Dot(axes=1, name="dot")([p, q]),
                 make_embedding(self.items.input_dim, 1, name="item_bias")(item)]
        if not self.implicit:
            parts.append(make_embedding(self.users.input_dim, 1, name="user_bias")(user))
        x = keras.layers.Add(name="logit")(parts)
        if self.implicit:
            out = keras.layers.Activation("sigmoid", name="score")(x)
        else:
            low, high = self.rating_range
            margin = (high - low) / 8
            low, high = low - margin, high + margin
            share = (self.mean_rating - low) / (high - low)
            s = keras.layers.Dense(
                1, activation="sigmoid", name="squash", kernel_initializer="ones",
                bias_initializer=keras.initializers.Constant(float(np.log(share / (1 - share)))),
            )(x)
            out = keras.layers.Rescaling(high - low, offset=low, name="rating")(s)
        return keras.Model([user, item], out, name=f"{self.mode}_recommender")

    def _zero_reserved_rows(self) -> None:
        """The <pad>, <unk> and <missing> rows never trained: zero them, so an unknown user
        (or item) scores by the item's (user's) bias alone."""
        for name in ("user_embedding", "item_embedding", "user_bias", "item_bias"):
            try:
                layer = self.model.get_layer(name)
            except ValueError:
                continue
            table = np.array(layer.get_weights()[0])
            table[:FIRST_ID] = 0.0
            layer.set_weights([table])

    def _require_fitted(self) -> None:
        if self.model is None:
            raise ConfigError(
                "this Recommender is not trained yet. Call fit() or Recommender.load()."
            )

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
        out = self.model.predict({"user": u, "item": i}, batch_size=65536, verbose=0)
        out = np.asarray(out, "float64").reshape(-1)
        if not np.isfinite(out).all():
            raise ConfigError(
                "the model produced NaN or infinite outputs. Expected finite predictions; "
                "retrain with a smaller --learning-rate."
            )
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
        return self.evaluate_with_figures(users, items, ratings)[0]

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

    # ------------------------------------------------------------------ ranking
    def _catalogue_scores(self, u: np.ndarray) -> np.ndarray:
        """Scores of every catalogue item for each user id: (len(u), items)."""
        n_items = self.items.input_dim - FIRST_ID
        users = np.repeat(u, n_items).astype(np.int32)
        items = np.tile(np.arange(FIRST_ID, self.items.input_dim, dtype=np.int32), len(u))
        return self._score_ids(users, items).reshape(len(u), n_items)

    def recommend(self, user: Any, *, k: int = 10, exclude_seen: bool = True) -> Recommendations:
        """The `k` best items for one user, items the user has seen left out.

        An unknown user gets the most popular items (by training interactions), and
        `known_user` says so.
        """
        self._require_fitted()
        _check_k(k)
        key = category_string(user)
        if key is None:
            raise DataError("the user ID is empty. Pass the ID of a user.")
        uid = self.users.lookup(key)
        if uid < FIRST_ID:
            order = np.argsort(-self.popularity[FIRST_ID:], kind="stable")[:k] + FIRST_ID
            return Recommendations(
                key, [self.items.values[j - FIRST_ID] for j in order],
                [float(self.popularity[j]) for j in order], False, "popularity")
        scores = self._catalogue_scores(np.array([uid]))[0]
        if exclude_seen:
            indptr, seen = self.seen
            scores[seen[indptr[uid]:indptr[uid + 1]] - FIRST_ID] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        order = np.argsort(-scores, kind="stable")[:k]
        return Recommendations(key, [self.items.values[j] for j in order],
                               [float(scores[j]) for j in order], True, "model")

    def similar_items(self, item: Any, *, k: int = 10) -> list[tuple[str, float]]:
        """The `k` items nearest to `item` by cosine in the learned item space."""
        self._require_fitted()
        _check_k(k)
        key = category_string(item)
        if key is None or self.items.lookup(key) < FIRST_ID:
            raise DataError(
                f"item {key!r} was not seen in training, so it has no learned vector. Pass an "
                f"item ID from the training data (e.g. {self.items.values[0]!r})."
            )
        return self.item_vectors().most_similar(key, topn=k)

    def evaluate_ranking(
        self, users: Any, items: Any, *, k: int = 10, scorer: str = "model"
    ) -> dict:
        """HitRate@k and NDCG@k of held-out (user, item) positives against the full catalogue,
        each user's training positives left out of the ranking.

        Args:
            users, items: The held-out pairs (e.g. from `leave_last_out`).
            k: Integer. The cut-off.
            scorer: String. `model`, or `popular` for the most-popular baseline ranked the
                same way (training positives per item).

        An item never seen in training cannot be ranked and counts as a miss; a user never
        seen in training is left out. Ties count in the held-out item's favour.
        """
        self._require_fitted()
        _check_k(k)
        if scorer not in ("model", "popular"):
            raise ConfigError(f"`scorer` must be 'model' or 'popular'. Received: {scorer!r}.")
        u = self.users.encode(users, what="user IDs")
        i = self.items.encode(items, what="item IDs")
        known = u >= FIRST_ID
        u, i = u[known], i[known]
        hits = np.zeros(len(u), bool)
        gains = np.zeros(len(u))
        indptr, positives = self.positives
        popular = self.popularity[FIRST_ID:].astype("float64")
        for start in range(0, len(u), 256):
            block_u, block_i = u[start:start + 256], i[start:start + 256]
            scores = (self._catalogue_scores(block_u) if scorer == "model"
                      else np.tile(popular, (len(block_u), 1)))
            for row, (uid, iid) in enumerate(zip(block_u, block_i, strict=True)):
                if iid < FIRST_ID:
                    continue
                s = scores[row]
                target = s[iid - FIRST_ID]
                own = positives[indptr[uid]:indptr[uid + 1]]
                own = own[own != iid] - FIRST_ID
                rank = int((s > target).sum()) - int((s[own] > target).sum()) + 1
                if rank <= k:
                    hits[start + row] = True
                    gains[start + row] = 1.0 / np.log2(rank + 1)
        n = len(u)
        return {
            f"hit_rate@{k}": float(hits.mean()) if n else float("nan"),
            f"ndcg@{k}": float(gains.mean()) if n else float("nan"),
            "users": n,
            "unknown_users": int((~known).sum()),
            "unknown_items": int((i < FIRST_ID).sum()),
            "candidates": self.items.input_dim - FIRST_ID,
        }

    # ------------------------------------------------------------ the learned tables
    def _vectors(self, layer: str, vocab: CategoricalVocabulary, what: str):
        from embedlab.vectors import WordVectors

        self._require_fitted()
        table = np.asarray(self.model.get_layer(layer).get_weights()[0])
        return WordVectors(list(vocab.values), table[FIRST_ID:], source=f"{what} of a Recommender",
                           counts=vocab.counts[FIRST_ID:])

    def item_vectors(self):
        """The learned item vectors as a `WordVectors` keyed by item ID."""
        return self._vectors("item_embedding", self.items, "item vectors")

    def user_vectors(self):
        """The learned user vectors as a `WordVectors` keyed by user ID."""
        return self._vectors("user_embedding", self.users, "user vectors")

    # ------------------------------------------------------------------ bundles
    def manifest(self) -> dict:
        self._require_fitted()
        return {
            "kind": KIND,
            "task": "implicit" if self.implicit else "regression",
            "mode": self.mode,
            "columns": self.columns,
            "model": {"dim": self.dim, "l2": self.l2, "negatives": self.negatives,
                      "min_rating": self.min_rating, "rating_range": self.rating_range,
                      "mean_rating": self.mean_rating},
            "settings": self.settings.to_dict(),
            **artifacts.run_record(self),
        }

    def save(self, path: str | os.PathLike, *, extra: dict | None = None) -> Path:
        """Write the bundle directory (atomically; an older bundle there is replaced)."""
        from embedlab.text.categorical import save_vocabularies

        manifest = {**self.manifest(), **(extra or {})}
        vocabularies = {"user": self.users, "item": self.items}
        arrays = {"seen_indptr": self.seen[0], "seen_items": self.seen[1],
                  "positive_indptr": self.positives[0], "positive_items": self.positives[1],
                  "popularity": self.popularity}

        def write_interactions(p: Path) -> None:
            with open(p, "wb") as handle:
                np.savez_compressed(handle, **arrays)

        writers = {artifacts.CATEGORICAL: lambda p: save_vocabularies(p, vocabularies),
                   artifacts.INTERACTIONS: write_interactions}
        writers.update(artifacts.run_writers(self))
        return artifacts.write_bundle(path, manifest, model=self.model, writers=writers)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recommender:
        """Load a bundle written by `save` (or `embedlab train recommender`)."""
        from embedlab.text.categorical import load_vocabularies

        manifest = artifacts.read_manifest(path, kind=KIND)
        try:
            spec, settings = manifest["model"], manifest["settings"]
            obj = cls(implicit=manifest["mode"] == "implicit", min_rating=spec["min_rating"],
                      dim=spec["dim"], l2=spec["l2"], negatives=spec["negatives"],
                      **{k: v for k, v in settings.items() if k != "class_weight"})
            obj.settings = TrainSettings(**settings)
            obj.rating_range = tuple(spec["rating_range"]) if spec["rating_range"] else None
            obj.mean_rating = spec["mean_rating"]
        except (KeyError, TypeError) as exc:
            raise BundleError(
                f"the manifest of bundle {str(path)!r} lacks {exc}. Train the bundle again."
            ) from None
        vocabularies = load_vocabularies(Path(path) / artifacts.CATEGORICAL)
        obj.users, obj.items = vocabularies.get("user"), vocabularies.get("item")
        if obj.users is None or obj.items is None:
            raise BundleError(
                f"bundle {str(path)!r} lacks the user or item vocabulary. Train it again."
            )
        try:
            with np.load(Path(path) / artifacts.INTERACTIONS) as arrays:
                obj.seen = (arrays["seen_indptr"], arrays["seen_items"])
                obj.positives = (arrays["positive_indptr"], arrays["positive_items"])
                obj.popularity = arrays["popularity"]
        except (OSError, ValueError, KeyError) as exc:
            raise BundleError(
                f"the interactions of bundle {str(path)!r} are damaged ({exc}). Train it again."
            ) from None
        obj.model = artifacts.load_model(path)
        obj.columns = manifest.get("columns", {})
        artifacts.restore_run(obj, path, manifest)
        return obj


# ------------------------------------------------------------------------------- helpers
def _negative_sampler(low: int, high: int, seed: int):
    """A layer that, while training, replaces the item of each row flagged negative with an
    item drawn uniformly from `[low, high)`; outside training it passes the items through."""
    import keras

    class NegativeSampler(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            items, flags = inputs
            if not training:
                return items
            drawn = keras.random.randint(keras.ops.shape(items), low, high, dtype="int32",
                                         seed=self.generator)
            return keras.ops.where(flags > 0.5, drawn, items)

        def compute_output_shape(self, input_shape):
            return input_shape[0]

    return NegativeSampler(name="negative_sampler")


def _training_penalty(l2: float):
    """A layer that passes the prediction through and, while training, adds
    `l2 * mean over rows of (|p|^2 + |q|^2)`: the classic per-rating penalty of matrix
    factorisation. Outside training it adds nothing, so validation losses are pure."""
    import keras

    class TrainingPenalty(keras.layers.Layer):
        def call(self, inputs, training=None):
            out, p, q = inputs
            if training:
                rows = keras.ops.sum(keras.ops.square(p), axis=-1) + keras.ops.sum(
                    keras.ops.square(q), axis=-1)
                self.add_loss(l2 * keras.ops.mean(rows))
            return out

        def compute_output_shape(self, input_shape):
            return input_shape[0]

    return TrainingPenalty(name="l2_penalty")


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs as CSR: indptr (n_rows + 1), cols sorted within each row."""
    pairs = np.unique(np.stack([rows.astype(np.int64), cols.astype(np.int64)], 1), axis=0)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.add.at(indptr, pairs[:, 0] + 1, 1)
    return np.cumsum(indptr), pairs[:, 1].astype(np.int32)


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}.")


def rating_values(ratings: Any, n: int | None) -> np.ndarray:
    """Ratings as float64, NaN where missing; text that is not a number is an error."""
    from embedlab.models.tabular import numeric_values

    if isinstance(ratings, pa.Array | pa.ChunkedArray):
        column = ratings
    else:
        values = ratings.tolist() if isinstance(ratings, np.ndarray) else list(ratings)
        try:
            column = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            column = category_strings(values, what="ratings")
    if n is not None and len(column) != n:
        raise DataError(
            f"ratings must have one value per interaction. Received {len(column)} ratings for "
            f"{n} interactions."
        )
    return numeric_values(column, "rating", [])


def leave_last_out(
    users: Any, times: Any = None, *, positive: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): each user's last positive row held out.

    The last positive is the latest by `times`, ties (or no times) broken by row order, the
    later row counting as last. Users with a single positive keep it for training and are
    not evaluated. Non-positive rows always stay in training.

    Args:
        users: Sequence of user IDs, one per row.
        times: Optional sequence of sortable times, one per row.
        positive: Optional boolean array; by default every row is positive.
    """
    keys = category_strings(users, what="user IDs")
    n = len(keys)
    user_codes = np.asarray(keys.dictionary_encode().indices.fill_null(-1))
    positive = np.ones(n, bool) if positive is None else np.asarray(positive, bool)
    positive = positive & (user_codes >= 0)
    rows = np.flatnonzero(positive)
    if times is not None:
        from embedlab.models.tabular import numeric_values

        t = times if isinstance(times, pa.Array | pa.ChunkedArray) else pa.array(
            times.tolist() if isinstance(times, np.ndarray) else list(times))
        if pa.types.is_timestamp(t.type) or pa.types.is_date(t.type):
            t = t.cast(pa.int64())
        order_time = numeric_values(t, "time", [])[rows]
        if np.isnan(order_time).any():
            raise DataError(
                "the time column has missing values in positive rows. Drop those rows or pass "
                "no time column."
            )
    else:
        order_time = np.zeros(len(rows))
    order = np.lexsort((rows, order_time, user_codes[rows]))
    ordered = rows[order]
    codes = user_codes[ordered]
    last = np.r_[codes[1:] != codes[:-1], True] if len(codes) else np.zeros(0, bool)
    counts = np.bincount(codes, minlength=max(int(user_codes.max(initial=-1)) + 1, 1))
    held = np.sort(ordered[last & (counts[codes] >= 2)])
    train_rows = np.setdiff1d(np.arange(n), held)
    return train_rows, held


# ------------------------------------------------------------------------------- the job
@dataclass
class RecommenderReport:
    """What `train_recommender` did, for printing."""

    mode: str
    mode_reason: str
    rows: int
    dropped: int
    users: int
    items: int
    positives: int
    holdout: str | None = None
    evaluation: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int | None = None
    parameters: int = 0
    seconds: float = 0.0
    output: Path | None = None
    report: Path | None = None


def train_recommender(
    data: str | os.PathLike | pa.Table,
    *,
    user: str,
    item: str,
    output: str | os.PathLike,
    rating: str | None = None,
    time_column: str | None = None,
    implicit: bool | None = None,
    test: str | os.PathLike | pa.Table | None = None,
    holdout: str | None = None,
    k: int = 10,
    verbose: int = 0,
    report: bool = True,
    **options,
) -> tuple[RecommenderReport, Recommender]:
    """Train a Recommender on an interactions file, evaluate, save the bundle and (with
    `report`) its HTML report.

    Args:
        data: A file (CSV, TSV, JSONL, Parquet) or a pyarrow Table of interactions.
        user, item: Strings. The ID columns.
        output: The bundle directory.
        rating: Optional string. The rating column (explicit ratings, or implicit positives
            at >= `min_rating`).
        time_column: Optional string. When each interaction happened (for `holdout="last"`).
        implicit: Optional boolean. Implicit feedback; by default when there is no rating.
        test: Optional file or table. Explicit: RMSE and MAE on its rows; implicit:
            HitRate@k and NDCG@k of its positives, with the most-popular baseline.
        holdout: Optional `"last"` (implicit): hold out each user's last positive (by
            `time_column`, ties by row order), train on the rest, and rank the held-out items.
        k: Integer. The ranking cut-off.
        report: Boolean. Also write the bundle's HTML report (`report.html`).
        **options: Recommender's keyword arguments.
    """
    from embedlab.data import read_table

    start = time.perf_counter()
    artifacts.check_output(output)
    wanted = [c for c in (user, item, rating, time_column) if c]
    if len(set(wanted)) != len(wanted):
        raise ConfigError(
            f"the user, item, rating and time columns must differ. Received {wanted}. "
            "Name a different column for each."
        )
    table = data if isinstance(data, pa.Table) else read_table(data, columns=wanted)
    for column in wanted:
        if column not in table.column_names:
            raise column_error(column, table.column_names)
    if table.num_rows == 0:
        raise DataError("the interactions table has no rows. Pass a table with rows.")
    if implicit is False and rating is None:
        raise ConfigError(
            "explicit ratings need --rating COLUMN. Received none. Pass --rating, or "
            "--implicit."
        )
    is_implicit = implicit if implicit is not None else rating is None
    reason = ("no rating column" if rating is None else
              f"--implicit: ratings >= {options.get('min_rating', 4.0):g} are positives"
              if is_implicit else "explicit ratings in " + repr(rating))
    if holdout not in (None, "last"):
        raise ConfigError(f"`holdout` must be 'last' or None. Received: holdout={holdout!r}.")
    if holdout and not is_implicit:
        raise ConfigError(
            "--holdout last is the implicit-feedback protocol. Received explicit ratings; "
            "pass --test FILE to measure their RMSE, or --implicit."
        )
    if holdout and test is not None:
        raise ConfigError("pass --holdout last or --test FILE, not both.")
    model = Recommender(implicit=is_implicit, verbose=verbose, **options)
    ratings = table[rating] if rating else None
    held_users = held_items = None
    if holdout:
        positive = None
        if ratings is not None:
            values = rating_values(ratings, table.num_rows)
            positive = np.nan_to_num(values, nan=-np.inf) >= model.min_rating
        times = table[time_column] if time_column else None
        train_rows, held = leave_last_out(table[user], times, positive=positive)
        held_users, held_items = table[user].take(pa.array(held)), table[item].take(
            pa.array(held))
        table = table.take(pa.array(train_rows))
        ratings = table[rating] if rating else None
    model.fit(table[user], table[item], ratings)
    model.columns = {"user": user, "item": item, "rating": rating, "time": time_column}
    history = model.history
    validation = history.best_validation() if history else {}
    evaluation: dict = {}
    baseline: dict = {}
    if held_users is not None:
        evaluation = model.evaluate_ranking(held_users, held_items, k=k)
        baseline = model.evaluate_ranking(held_users, held_items, k=k, scorer="popular")
    elif test is not None:
        test_table = test if isinstance(test, pa.Table) else read_table(
            test, columns=[c for c in (user, item, rating) if c])
        if is_implicit:
            keep = np.ones(test_table.num_rows, bool)
            if rating and rating in test_table.column_names:
                values = rating_values(test_table[rating], test_table.num_rows)
                keep = np.nan_to_num(values, nan=-np.inf) >= model.min_rating
            rows = pa.array(np.flatnonzero(keep))
            tu, ti = test_table[user].take(rows), test_table[item].take(rows)
            evaluation = model.evaluate_ranking(tu, ti, k=k)
            baseline = model.evaluate_ranking(tu, ti, k=k, scorer="popular")
        else:
            evaluation, model.evaluation = model.evaluate_with_figures(
                test_table[user], test_table[item], test_table[rating])
    model.metrics = {"validation": validation, "test": evaluation, "baseline": baseline}
    summary = model.data_summary
    draw_report = report
    report = RecommenderReport(
        mode=model.mode, mode_reason=reason, rows=summary["rows"], dropped=summary["dropped"],
        users=summary["users"], items=summary["items"], positives=summary["positives"],
        holdout=holdout, evaluation=evaluation, baseline=baseline, validation=validation,
        epochs_run=len(history.epochs) if history else 0,
        best_epoch=history.best_epoch if history else None, parameters=summary["parameters"],
    )
    from embedlab.jobs import save_with_report

    report.output, report.report = save_with_report(model, output, report=draw_report)
    report.seconds = time.perf_counter() - start
    return report, model


__all__ = [
    "Recommendations",
    "Recommender",
    "RecommenderReport",
    "leave_last_out",
    "train_recommender",
]

