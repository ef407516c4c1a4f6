"""The contract every embedlab model keeps, written once.

`TextClassifier`, `TabularModel` and `Recommender` are the same shape, so tools that take
"any bundle" never ask which one:

    model.fit(...)                       # returns the model
    model.evaluate(...)                  # metrics; evaluate_with_figures adds report figures
    model.predict_table(table)           # {column: values} for the rows of an Arrow table
    model.embedding_tables()             # {name: EmbeddingTable}: every learned table
    model.manifest(); model.save(path); Model.load(path)

A loaded model reads its bundle's state (vocabularies, encoder, label encoding, run
record) at once, and its Keras model only when first needed: reading a bundle's tables
(`embedding_tables`, `inspect`, `map`, `export`, `report`, `similar`) takes them straight
from `model.keras` and never imports Keras.

A subclass sets `kind` and adds what differs: `_manifest` / `_restore` (its own part of the
manifest), `_writers` (its files), `table_layers` / `_tables_from` (its tables) and its
fit, predict and evaluate.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from embedlab import artifacts
from embedlab.errors import BundleError, ConfigError, EmbedlabError
from embedlab.models.manifest_schema import check_manifest
from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)


@dataclass
class EmbeddingTable:
    """One learned embedding table, read back out.

    Attributes:
        name: String. `words`, a column name, `items`, `users`, or `vectors` for a file.
        vectors: WordVectors. The learned rows, keyed by the bundle's vocabulary, with the
            training frequency of each row in `vectors.counts`.
        initial: Optional WordVectors. The same rows before training (text bundles started
            from pre-trained vectors).
        attributes: Dict of name to array, row-aligned with `vectors`: what a map is coloured
            by (a word's share of positive examples, an item's mean rating, a genre...).
        titles: Optional list of strings. Display labels when they differ from the keys
            (movie titles for movie IDs).
        kind: String. The bundle kind (`text`, `tabular`, `recommender`) or `vectors`.
    """

    name: str
    vectors: WordVectors
    initial: WordVectors | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    titles: list[str] | None = None
    kind: str = "vectors"

    def label(self, key: str) -> str:
        """The display label of a key: its title when there are titles, else the key."""
        if self.titles is None:
            return key
        index = self.vectors.get_index(key)
        return key if index is None else self.titles[index]


class FromBundle:
    """A model attribute kept in a bundle file and read on first use, so that a damaged file
    fails only what needs it (`predict` reads neither the attributes nor the seen items).

    Args:
        read: Callable `(model, bundle path) -> value`; a fitted model's value is set.
    """

    def __init__(self, read):
        self.read = read

    def __set_name__(self, owner, name: str) -> None:
        self.key = f"_{name}_from_bundle"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if self.key not in obj.__dict__:
            bundle = obj.__dict__.get("_bundle")
            obj.__dict__[self.key] = None if bundle is None else self.read(obj, bundle)
        return obj.__dict__[self.key]

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.key] = value

    def forget(self, obj) -> None:
        """Drop the value, so the next use reads it from the bundle."""
        obj.__dict__.pop(self.key, None)


class EmbeddingModel:
    """The base of the three models: state, the fitted check, the non-finite guard,
    bundles (manifest, save, load) and the learned tables.

    Attributes (fitted):
        model: The Keras model (loaded from the bundle when first used).
        history: `embedlab.training.trainer.History` of the training run.
        metrics: Dict. Validation (and test) figures of the run.
        evaluation: Optional dict. What a report draws of an evaluation.
        attributes: Dict. Per-row attributes of each table (`{table: {name: array}}`).
        data_summary: Dict. What the training data held.
        checkpoint: Optional `embedlab.training.checkpoint.Checkpoint`. Set before `fit`
            to write a checkpoint after every epoch and to resume from one.
        layout: Optional `embedlab.training.distribution.Layout`. The mesh `fit` ran on
            (None: one device); the model predicts under it too.
    """

    kind: ClassVar[str] = ""
    attributes = FromBundle(lambda obj, path: artifacts.read_attributes(path, obj.manifest_data))

    def __init__(self, *, verbose: int = 0, mesh=None) -> None:
        from embedlab.training.distribution import parse_mesh

        self.verbose = verbose
        self.mesh = parse_mesh(mesh)  # checked against the devices before any data is read
        self.layout = None
        self.target = None
        self.history = None
        self.metrics: dict = {}
        self.data_summary: dict = {}
        self.evaluation: dict | None = None
        self.attributes: dict[str, dict[str, np.ndarray]] = {}
        self.manifest_data: dict = {}
        self.checkpoint = None
        self._model = None
        self._bundle: Path | None = None

    # ------------------------------------------------------------------ state
    @property
    def model(self):
        """The Keras model; a loaded bundle's is read from `model.keras` on first use."""
        if self._model is None and self._bundle is not None:
            self._model = artifacts.load_model(self._bundle)
        return self._model

    @model.setter
    def model(self, value) -> None:
        self._model = value

    @property
    def fitted(self) -> bool:
        """Whether the model is trained (by `fit` or loaded from a bundle)."""
        return self._model is not None or self._bundle is not None

    def _require_fitted(self) -> None:
        if not self.fitted:
            name = type(self).__name__
            raise ConfigError(f"this {name} is not trained yet. Call fit() or {name}.load().")

    @property
    def input_columns(self) -> list[str]:
        """The columns `predict_table` reads."""
        raise NotImplementedError

    def predict_table(self, table) -> dict[str, list]:
        """Output columns for the rows of an Arrow table holding `input_columns`."""
        raise NotImplementedError

    def evaluate(self, *data, **options) -> dict:
        """Metrics on labelled data (see `evaluate_with_figures`)."""
        return self.evaluate_with_figures(*data, **options)[0]

    def evaluate_with_figures(self, *data, **options) -> tuple[dict, dict]:
        """(metrics, what a report draws of them), from one pass over the data."""
        raise NotImplementedError

    def _outputs(self, x, *, batch_size: int) -> np.ndarray:
        """The Keras model's outputs for model inputs `x`, checked to be finite."""
        from embedlab.training.distribution import keep_usable, scope

        with scope(self.layout), keep_usable(self.model):
            out = np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0))
        if not np.isfinite(out).all():
            raise ConfigError(
                "the model produced NaN or infinite outputs. Expected finite predictions; "
                "retrain with a smaller --learning-rate."
            )
        return out

    # ------------------------------------------------------------------ tables
    def table_layers(self) -> list[str]:
        """The names of the Keras layers holding the learned tables."""
        raise NotImplementedError

    def _tables_from(self, weights: dict[str, np.ndarray]) -> dict[str, EmbeddingTable]:
        """The tables, given each table layer's weight matrix."""
        raise NotImplementedError

    def embedding_tables(self) -> dict[str, EmbeddingTable]:
        """Every learned table by name (`words`; each categorical column; `items` and
        `users`), as WordVectors with counts, attributes and the rows before training."""
        self._require_fitted()
        layers = self.table_layers()
        if self._model is not None:
            weights = {name: np.asarray(self._model.get_layer(name).get_weights()[0])
                       for name in layers}
        else:
            weights = artifacts.read_layer_weights(self._bundle, layers)
        rows = self._table_rows()  # a table sharded by rows has padding rows past these
        return self._tables_from({name: w[:rows.get(name, len(w))] for name, w in weights.items()})

    def _table_rows(self) -> dict[str, int]:
        """{table layer: the rows its vocabulary needs}, checked against the saved tables."""
        return {}

    def _check_table_rows(self) -> None:
        """A vocabulary that does not match its table (a file swapped or edited) would send
        ids past the table, which JAX answers with NaN: refuse it at load."""
        wanted = self._table_rows()
        if not wanted:
            return
        from embedlab.training.distribution import padded_rows

        shapes = artifacts.read_layer_shapes(self._bundle, list(wanted))
        for layer, rows in wanted.items():
            if shapes[layer][0] not in (rows, padded_rows(rows, self.manifest_data, layer)):
                raise BundleError(
                    f"bundle {str(self._bundle)!r} does not hold together: its vocabulary for "
                    f"{layer!r} needs {rows} rows, but the model's table has "
                    f"{shapes[layer][0]}. Copy the whole bundle again, or train it again."
                )

    @classmethod
    def table_names(cls, manifest: dict) -> list[str]:
        """The names of the tables a bundle of this kind holds, from its manifest."""
        raise NotImplementedError

    # ------------------------------------------------------------------ bundles
    def _manifest(self) -> dict:
        raise NotImplementedError

    def _writers(self) -> dict:
        """{file name: writer} of the files this kind adds to its bundle."""
        return {}

    @classmethod
    def _restore(cls, path: Path, manifest: dict) -> EmbeddingModel:
        """A model with this kind's state read from a bundle (not the Keras model)."""
        raise NotImplementedError

    def _distributed(self, tables: dict):
        """The context `fit` builds and trains in: the layout of `self.mesh` over `tables`
        (`{table layer: TableSize}`; see `embedlab.training.distribution`)."""
        from embedlab.training.distribution import plan, scope

        self.layout = plan(self.mesh, tables)
        return scope(self.layout)

    def manifest(self) -> dict:
        """What the bundle's manifest.json holds: the kind, its settings and its run (and,
        trained on a mesh, its layout)."""
        self._require_fitted()
        distribution = (self.layout.record(self.model) if self.layout is not None
                        else self.manifest_data.get("distribution"))
        found = {
            "kind": self.kind,
            **self._manifest(),
            "data": self.data_summary,
            "metrics": self.metrics,
            "history": self.history.to_dict() if self.history else None,
            "evaluation": self.evaluation,
            "attributes": artifacts.attributes_index(self.attributes),
        }
        if distribution:
            found["distribution"] = distribution
        return found

    def save(self, path: str | os.PathLike, *, extra: dict | None = None,
             before_commit=None) -> Path:
        """Write the bundle directory (atomically; an older bundle there is replaced).
        `before_commit(tmp)` may add files to the finished bundle before it is swapped in."""
        manifest = {**self.manifest(), **(extra or {})}
        writers = dict(self._writers())
        if self.attributes:
            writers[artifacts.ATTRIBUTES] = artifacts.attributes_writer(self.attributes)
        return artifacts.write_bundle(path, manifest, model=self.model, writers=writers,
                                      before_commit=before_commit)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Load a bundle written by `save` (or `embedlab train`); its Keras model is read
        when first needed."""
        from embedlab.training.trainer import History

        path = Path(path)
        manifest = artifacts.read_manifest(path, kind=cls.kind or None)
        check_manifest(manifest, path)
        try:
            obj = cls._restore(path, manifest)
            history = manifest.get("history")
            obj.history = History(**history) if history else None
        except EmbedlabError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleError(
                f"the manifest of bundle {str(path)!r} is damaged or incomplete "
                f"({type(exc).__name__}: {exc}). Train the bundle again."
            ) from None
        obj.manifest_data = manifest
        obj.metrics = manifest.get("metrics") or {}
        obj.data_summary = manifest.get("data") or {}
        obj.evaluation = manifest.get("evaluation")
        obj._bundle = path
        obj._check_table_rows()
        for owner in type(obj).__mro__:  # state kept in files is read when first used
            for value in vars(owner).values():
                if isinstance(value, FromBundle):
                    value.forget(obj)
        return obj
