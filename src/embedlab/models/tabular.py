"""TabularModel: entity embeddings for the categorical columns of a table.

Each categorical column gets its own vocabulary and embedding table; each numeric column is
encoded piecewise-linearly over label-aware bins and embedded; an optional text column is
encoded by the text encoder and averaged; all of it is concatenated into an MLP with
dropout. The columns are handled by `embedlab.models.tabular_preprocessor`.

    model = TabularModel().fit(table, "income")     # column types inferred
    model.evaluate(test, "income")                  # {"auc": ..., "accuracy": ...}
    model.predict_proba(new_rows)                   # probability of the positive class
    model.transform(rows)                           # embedding features for another model
    model.column_vectors("occupation").most_similar("Sales")
    model.save("bundle"); TabularModel.load("bundle")
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab import artifacts
from embedlab.data.columns import as_table, labelled_rows, numeric_values
from embedlab.errors import BundleError, ConfigError, DataError
from embedlab.layers.categorical import rule_text
from embedlab.models.base import EmbeddingModel, EmbeddingTable
from embedlab.models.numeric_bins import tree_targets
from embedlab.models.tabular_network import fill_untrained_rows, network_tables, tabular_network
from embedlab.models.tabular_preprocessor import (
    NumericScaler,
    TabularPreprocessor,
    infer_columns,
    input_name,
)
from embedlab.text.categorical import (
    MISSING_ID,
    RESERVED,
    UNKNOWN_ID,
    load_vocabularies,
    save_vocabularies,
)
from embedlab.text.encoder import TextEncoder
from embedlab.training.evaluation import summarize
from embedlab.training.label_stats import row_label_attribute
from embedlab.training.metrics import classification_metrics, regression_metrics
from embedlab.training.targets import Target
from embedlab.training.trainer import TrainSettings, split_validation, train
from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)

KIND = "tabular"
ENCODINGS = ("embedding", "onehot")


class TabularModel(EmbeddingModel):
    """An MLP on entity embeddings of categorical columns, normalised numbers and text.

    Args:
        categorical: Optional list of strings. Columns to treat as categories (forces an
            integer column too). Other columns are inferred: text and booleans categorical,
            numbers numeric.
        numeric: Optional list of strings. Columns to treat as numbers.
        text: Optional string. A text column, encoded as words and hashed bigrams and
            averaged (the `bag` recipe's encoder).
        ignore: Optional list of strings. Columns to leave out.
        task: Optional string. `binary`, `multiclass` or `regression`; from the label if None.
        positive: Optional. The positive class of a binary task (default: the larger value).
        embedding_sizes: Optional dict. Vector size per categorical column; the others follow
            `embedding_size` (fastai's `min(600, round(1.6 * n ** 0.56))`).
        min_count: Optional integer. Values seen fewer times in training share the unknown
            row; None (default): `rare_count` of the training rows (20 from 4,000 rows).
        hash_buckets: Optional dict. Columns to hash into this many buckets each.
        max_values: Optional integer. A column with more distinct values is hashed into
            this many buckets (with a warning); None (default) keeps every value.
        missing_values: List of strings. Text that means a value is missing (default `?`).
        numeric_scaling: String. `ple` (default): each number encoded piecewise-linearly over
            bins that a one-column tree on the label draws, then embedded per column;
            `quantile` or `standard`: the scaled number itself. See `NumericScaler`.
        numeric_dim: Integer. Vector size of each numeric column under `ple`.
        encoding: String. `embedding` (default) learns a table per categorical column;
            `onehot` feeds the same MLP one-hot vectors instead (for comparison; such a
            model has no vectors to export or transform with).
        hidden: Tuple of integers. Units of each hidden ReLU layer.
        dropout: Float. Dropout after each hidden layer.
        text_dim: Integer. Embedding size of the text column's words.
        text_max_tokens: Integer. Vocabulary size of the text column.
        text_max_length: Optional integer. Words kept per text (default: 95th percentile).
        epochs, batch_size, validation_split, patience, learning_rate, class_weight, seed: see
            `embedlab.training.TrainSettings`.
        sparse: Optional boolean. Train the tables row-sparsely
            (`embedlab.layers.sparse_embedding`); None (default): tables of
            `embedlab.layers.SPARSE_FROM_ROWS` rows or more.
        mesh: Optional. Train on many devices (`"data=2,model=4"`, `"auto"`); see
            `embedlab.models.text.TextClassifier`.
        verbose: Integer. Keras's progress output.
    """

    kind = KIND  # the bundle kind this class writes and loads

    def __init__(
        self,
        *,
        categorical: list[str] | None = None,
        numeric: list[str] | None = None,
        text: str | None = None,
        ignore: list[str] | None = None,
        task: str | None = None,
        positive: Any = None,
        embedding_sizes: dict[str, int] | None = None,
        min_count: int | None = None,
        hash_buckets: dict[str, int] | None = None,
        max_values: int | None = None,
        missing_values: list[str] | tuple[str, ...] = ("?",),
        numeric_scaling: str = "ple",
        numeric_dim: int = 16,
        encoding: str = "embedding",
        hidden: tuple[int, ...] | list[int] = (200, 100),
        dropout: float = 0.1,
        text_dim: int = 64,
        text_max_tokens: int = 20000,
        text_max_length: int | None = None,
        epochs: int = 20,
        batch_size: int = 256,
        validation_split: float = 0.1,
        patience: int = 3,
        learning_rate: float = 1e-3,
        class_weight: str | None = None,
        seed: int = 0,
        sparse: bool | None = None,
        mesh: Any = None,
        verbose: int = 0,
    ):
        super().__init__(verbose=verbose, mesh=mesh)
        self.sparse = sparse
        if encoding not in ENCODINGS:
            raise ConfigError(f"`encoding` must be one of {', '.join(ENCODINGS)}. "
                              f"Received: encoding={encoding!r}.")
        hidden = tuple(hidden)
        if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ConfigError("`hidden` must be a non-empty list of positive integers. "
                              f"Received: hidden={hidden!r}.")
        if not 0 <= dropout < 1:
            raise ConfigError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}.")
        values_cap = 1 if max_values is None else max_values
        for name, value in (("min_count", 1 if min_count is None else min_count),
                            ("max_values", values_cap),
                            ("text_dim", text_dim), ("text_max_tokens", text_max_tokens),
                            ("numeric_dim", numeric_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}.")
        self.preprocessor = TabularPreprocessor(
            categorical=categorical, numeric=numeric, text=text, ignore=ignore,
            embedding_sizes=embedding_sizes, min_count=min_count, hash_buckets=hash_buckets,
            max_values=max_values, missing_values=missing_values,
            numeric_scaling=numeric_scaling, text_max_tokens=text_max_tokens,
            text_max_length=text_max_length,
        )
        self.task = task
        self.positive = positive
        self.encoding = encoding
        self.hidden = hidden
        self.dropout = float(dropout)
        self.text_dim = text_dim
        self.numeric_dim = numeric_dim
        self.settings = TrainSettings(
            epochs=epochs, batch_size=batch_size, validation_split=validation_split,
            patience=patience, learning_rate=learning_rate, class_weight=class_weight, seed=seed,
        )
        self.label: str | None = None
        self.last_counts: dict = {}

    # ------------------------------------------------------------------ columns
    plan = property(lambda self: self.preprocessor.plan)
    vocabularies = property(lambda self: self.preprocessor.vocabularies)
    sizes = property(lambda self: self.preprocessor.sizes)
    scalers = property(lambda self: self.preprocessor.scalers)
    encoder = property(lambda self: self.preprocessor.encoder)
    length = property(lambda self: self.preprocessor.length)
    categorical_columns = property(lambda self: self.preprocessor.categorical_columns)
    numeric_columns = property(lambda self: self.preprocessor.numeric_columns)
    text_column = property(lambda self: self.preprocessor.text_column)
    missing_values = property(lambda self: self.preprocessor.missing_values)

    @property
    def input_columns(self) -> list[str]:
        """The columns `predict_table` reads, in table order."""
        return self.preprocessor.input_columns

    def describe_columns(self) -> list[dict]:
        """One dict per feature column: kind, why, and its size or scaling."""
        return self.preprocessor.describe_columns(self.text_dim)

    # ------------------------------------------------------------------ training
    def fit(self, data: Any, y: Any) -> TabularModel:
        """Learn the vocabularies, scalers, label encoding and model from a table.

        Args:
            data: A pyarrow Table, pandas DataFrame or dict of columns.
            y: String (the label column of `data`) or a sequence of labels, one per row.
                Rows whose label is missing are dropped and counted.
        """
        table, labels, dropped = labelled_rows(data, y, "the training data")
        self.label = y if isinstance(y, str) else None
        self.target = Target.infer(labels, task=self.task, positive=self.positive)
        target = self.target.encode(labels)
        held_out = self.settings.validation_split > 0  # bins from the training rows only
        rows = split_validation(len(target), self.settings.validation_split,
                                self.settings.seed)[0] if held_out else None
        bins_by = tree_targets(self.target.task, target, self.target.n_classes)
        self.preprocessor.fit(table, self.label, targets=bins_by, rows=rows)
        x, _ = self.preprocessor.inputs(table)
        import keras

        keras.utils.set_random_seed(self.settings.seed)
        shape = {"encoding": self.encoding, "text_dim": self.text_dim, "sparse": self.sparse}
        with self._distributed(network_tables(self.preprocessor, **shape)):
            self.model = tabular_network(self.preprocessor, self.target, hidden=self.hidden,
                                         dropout=self.dropout, numeric_dim=self.numeric_dim,
                                         **shape)
            self.history = train(self.model, x, target, task=self.target.task,
                                 settings=self.settings, verbose=self.verbose,
                                 checkpoint=self.checkpoint)
        if self.encoding != "onehot":
            fill_untrained_rows(self.model, self.preprocessor)
        if self.history.validation is not None:
            self.evaluation = summarize(self.target, *self.history.validation, split="validation")
        self.attributes = {}
        for i, column in enumerate(self.categorical_columns):
            vocab = self.vocabularies[column]
            name, values = row_label_attribute(
                self.target, x[input_name(i, column)], target, vocab.input_dim)
            self.attributes[column] = {name: values}
        self.data_summary = {"train_rows": table.num_rows, "dropped_missing_label": dropped,
                             "columns": self.describe_columns(),
                             "parameters": int(self.model.count_params())}
        return self

    # ---------------------------------------------------------------- prediction
    def _features(self, data: Any) -> dict[str, np.ndarray]:
        self._require_fitted()
        table = as_table(data)
        self.preprocessor.check_columns(table)
        x, counts = self.preprocessor.inputs(table)
        self.last_counts = counts
        unknown = {c: n for c, n in counts["unknown"].items() if n}
        if unknown:
            shown = ", ".join(f"{c!r}: {n}" for c, n in unknown.items())
            log.warning(
                "values without a row of their own (never seen in training, or rarer there than "
                "min_count; they use the column's unknown row): %s", shown
            )
        return x

    def predict_raw(self, data: Any) -> np.ndarray:
        """The model's outputs for the rows of a table (probabilities, or standardised values)."""
        x = self._features(data)
        if len(next(iter(x.values()))) == 0:
            return np.zeros((0, self.model.output_shape[-1]), dtype="float32")
        return self._outputs(x, batch_size=max(1024, self.settings.batch_size))

    def predict(self, data: Any) -> list:
        """Predicted labels (or values, for regression) for the rows of a table."""
        self._require_fitted()
        labels, _ = self.target.decode(self.predict_raw(data))
        return labels

    def predict_proba(self, data: Any) -> np.ndarray:
        """Binary: probability of the positive class `(n,)`; multiclass: `(n, n_classes)`."""
        self._require_fitted()
        if self.target.task == "regression":
            raise ConfigError(
                "predict_proba needs a classifier. Received a regression model; use predict()."
            )
        return self.target.decode(self.predict_raw(data))[1]

    def predict_table(self, table: pa.Table) -> dict[str, list]:
        """Output columns: `predicted`, and `probability` (binary) or `probability_<class>`."""
        self._require_fitted()
        return self.target.prediction_columns(self.predict_raw(table))

    def evaluate(self, data: Any, y: Any) -> dict:
        """Metrics on labelled rows: accuracy + AUC (binary), accuracy + macro-F1
        (multiclass), RMSE + MAE (regression). Rows without a label are dropped and counted."""
        return super().evaluate(data, y)

    def evaluate_with_figures(self, data: Any, y: Any, *, split: str = "test") -> tuple[dict, dict]:
        """(metrics as `evaluate`, what a report draws of them: confusion counts and ROC
        curve, or errors; see `embedlab.training.evaluation.summarize`), from one pass."""
        self._require_fitted()
        table, labels, dropped = labelled_rows(data, y, "the evaluation data")
        outputs = self.predict_raw(table)
        target = self.target.encode(labels)
        if self.target.task == "regression":
            pred, _ = self.target.decode(outputs)
            result = regression_metrics(np.asarray(labels, "float64"), np.asarray(pred))
        else:
            result = classification_metrics(
                self.target.task, target, outputs, self.target.n_classes
            )
        result["rows"] = table.num_rows
        result["dropped_missing_label"] = dropped
        result["unknown_values"] = {c: n for c, n in self.last_counts["unknown"].items() if n}
        return result, summarize(self.target, target, outputs, split=split)

    # ------------------------------------------------------------ the learned tables
    def _no_tables(self) -> None:
        if self.encoding == "onehot":
            raise ConfigError(
                "this TabularModel was trained with encoding='onehot' and has no learned "
                "vectors. Train it with encoding='embedding' (the default)."
            )

    def table_layers(self) -> list[str]:
        self._no_tables()
        return [f"embedding_{input_name(i, c)}" for i, c in enumerate(self.categorical_columns)]

    @classmethod
    def table_names(cls, manifest: dict) -> list[str]:
        if (manifest.get("options") or {}).get("encoding") == "onehot":
            return []
        plan = manifest.get("columns", {}).get("plan", {})
        return [column for column, (kind, *_) in plan.items() if kind == "categorical"]

    def _tables_from(self, weights: dict[str, np.ndarray]) -> dict[str, EmbeddingTable]:
        tables = {}
        for i, column in enumerate(self.categorical_columns):
            table = weights[f"embedding_{input_name(i, column)}"]
            vocab = self.vocabularies[column]
            rows = self._rows_of(column)
            labels = vocab.index_to_key
            vectors = WordVectors([labels[r] for r in rows], table[rows],
                                  source=f"column {column!r} of a TabularModel",
                                  counts=vocab.counts[rows])
            tables[column] = EmbeddingTable(column, vectors,
                                            attributes=self.table_attributes(column), kind=KIND)
        return tables

    def column_vectors(self, column: str) -> WordVectors:
        """The learned vectors of a categorical column's values as a `WordVectors`
        (neighbors, exports). `<unk>` and `<missing>` are included when training saw them."""
        self._require_fitted()
        self._no_tables()
        if column not in self.vocabularies:
            raise ConfigError(
                f"{column!r} is not a categorical column of this model; those are "
                f"{self.categorical_columns}. Pass one of them."
            )
        return self.embedding_tables()[column].vectors

    def _rows_of(self, column: str) -> list[int]:
        """The table rows `column_vectors` holds: values (or buckets), and `<unk>` and
        `<missing>` when training saw them."""
        vocab = self.vocabularies[column]
        rows = [r for r in (UNKNOWN_ID, MISSING_ID) if vocab.counts[r] > 0]
        return rows + list(range(len(RESERVED), vocab.input_dim))

    def table_attributes(self, column: str) -> dict[str, np.ndarray]:
        """Per-value attributes aligned with `column_vectors(column)` rows (e.g. the mean
        label of the training rows holding each value), for colouring maps."""
        rows = self._rows_of(column)
        return {name: values[rows] for name, values in self.attributes.get(column, {}).items()}

    def transform(self, data: Any, *, numeric: bool = True) -> pa.Table:
        """Embedding features of a table for another model (a gradient-boosted tree, say).

        Each categorical column becomes its vector's dimensions (`<column>_0`, `<column>_1`,
        ...); with `numeric`, the numeric columns follow as given (float, NaN when missing).
        The text column is not included.
        """
        x = self._features(data)
        self._no_tables()
        layers = self.table_layers()
        weights = {name: np.asarray(self.model.get_layer(name).get_weights()[0])
                   for name in layers}
        columns: dict[str, Any] = {}
        for i, (column, layer) in enumerate(zip(self.categorical_columns, layers, strict=True)):
            vectors = weights[layer][x[input_name(i, column)]]
            for d in range(vectors.shape[1]):
                columns[f"{column}_{d}"] = vectors[:, d]
        if numeric:
            table = as_table(data)
            for column in self.numeric_columns:
                columns[column] = numeric_values(table[column], column, self.missing_values)
        return pa.table(columns)


    # ------------------------------------------------------------------ bundles
    def _manifest(self) -> dict:
        encoder = self.encoder
        return {
            "task": self.target.task,
            "target": self.target.to_dict(),
            "columns": {
                "label": self.label,
                "plan": {c: list(v) for c, v in self.plan.items()},
                "sizes": self.sizes,
                "size_rule": rule_text(),
            },
            "numeric": {c: vars(s) for c, s in self.scalers.items()},
            "options": self._options(),
            "text": ({"length": self.length, "encoder": encoder.get_config()}
                     if encoder is not None else None),
            "settings": self.settings.to_dict(),
        }

    def _options(self) -> dict:
        return {
            **self.preprocessor.options, "encoding": self.encoding,
            "hidden": list(self.hidden), "dropout": self.dropout, "text_dim": self.text_dim,
            "numeric_dim": self.numeric_dim,
            "task": self.task, "positive": self.positive,
        }

    def _writers(self) -> dict:
        vocabularies = self.vocabularies
        writers = {artifacts.CATEGORICAL: lambda p: save_vocabularies(
            p, vocabularies, hashes=p.with_name(artifacts.CATEGORICAL_HASHES))}
        if self.encoder is not None:
            writers[artifacts.ENCODER_DIR] = self.encoder.save
        return writers

    @classmethod
    def _restore(cls, path: Path, manifest: dict) -> TabularModel:
        obj = cls(**manifest["options"], **manifest["settings"])
        obj.label = manifest["columns"].get("label")
        obj.target = Target.from_dict(manifest["target"])
        vocabularies = load_vocabularies(path / artifacts.CATEGORICAL,
                                         hashes=path / artifacts.CATEGORICAL_HASHES)
        plan = manifest["columns"]["plan"]
        encoder = None
        if any(kind == "text" for kind, *_ in plan.values()):
            directory = path / artifacts.ENCODER_DIR
            if not directory.exists():
                raise BundleError(
                    f"bundle {str(path)!r} is incomplete: {artifacts.ENCODER_DIR} is missing. "
                    "Copy the whole bundle directory, or train it again."
                )
            try:
                encoder = TextEncoder.load(directory)
            except DataError as exc:
                raise BundleError(f"the bundle's text encoder is damaged: {exc}") from None
        obj.preprocessor.restore(manifest, vocabularies, encoder)
        return obj


__all__ = ["NumericScaler", "TabularModel", "infer_columns"]
