"""TabularModel: entity embeddings for the categorical columns of a table.

Each categorical column gets its own vocabulary and embedding table; numeric columns are
normalised; an optional text column is encoded by the text encoder and averaged; all of it is
concatenated into an MLP with dropout.

    model = TabularModel().fit(table, "income")     # column types inferred
    model.evaluate(test, "income")                  # {"auc": ..., "accuracy": ...}
    model.predict_proba(new_rows)                   # probability of the positive class
    model.transform(rows)                           # embedding features for another model
    model.column_vectors("occupation").most_similar("Sales")
    model.save("bundle"); TabularModel.load("bundle")
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab import artifacts
from embedlab.errors import BundleError, ConfigError, DataError, column_error
from embedlab.layers import check_ids
from embedlab.layers.categorical import (
    categorical_embedding,
    check_sizes,
    embedding_size,
    rule_text,
)
from embedlab.models.recipes import RECIPES, head_layer
from embedlab.text.categorical import (
    MISSING_ID,
    PAD_ID,
    RESERVED,
    UNKNOWN_ID,
    CategoricalVocabulary,
)
from embedlab.text.categories import category_strings
from embedlab.training.evaluation import summarize
from embedlab.training.label_stats import row_label_attribute
from embedlab.training.metrics import classification_metrics, regression_metrics
from embedlab.training.targets import Target, drop_missing
from embedlab.training.trainer import History, TrainSettings, train

log = logging.getLogger(__name__)

KIND = "tabular"
SCALINGS = ("quantile", "standard")
ENCODINGS = ("embedding", "onehot")
QUANTILES = 101
TEXT_INPUT = "text"
NUMERIC_INPUT = "numeric"


# ------------------------------------------------------------------------- column types
def _as_table(data: Any, what: str = "data") -> pa.Table:
    """A pyarrow Table from a Table, a pandas DataFrame or a dict of columns.

    A dict column whose values mix types (e.g. 42 and "a") becomes normalised strings.
    """
    if isinstance(data, pa.Table):
        table = data
    elif hasattr(data, "columns") and hasattr(data, "dtypes"):  # pandas DataFrame
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif isinstance(data, dict):
        columns = {}
        for name, values in data.items():
            if isinstance(values, pa.Array | pa.ChunkedArray):
                columns[name] = values
                continue
            try:
                columns[name] = pa.array(
                    values.tolist() if isinstance(values, np.ndarray) else list(values),
                    from_pandas=True,
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                columns[name] = category_strings(values, what=f"column {name!r}")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise DataError(
                f"the columns of {what} must have one length. Received lengths "
                f"{sorted(lengths)}. Pass columns of equal length."
            )
        table = pa.table(columns)
    else:
        raise DataError(
            f"{what} must be a pyarrow Table, a pandas DataFrame or a dict of columns. "
            f"Received {type(data).__name__}."
        )
    return table


def numeric_values(column: Any, name: str, missing_values: list[str]) -> np.ndarray:
    """A column as float64, NaN where missing; text that is not a number is an error."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.dictionary_decode(), column.type.value_type
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or (
        pa.types.is_decimal(kind)
    ):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.where(np.isfinite(values), values, np.nan)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        strings = category_strings(column, missing_values=missing_values, what=f"column {name!r}")
        try:
            values = strings.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            texts = strings.to_pylist()
            for row, text in enumerate(texts):
                if text is None:
                    continue
                try:
                    float(text)
                except ValueError:
                    raise DataError(
                        f"column {name!r} is numeric but holds text: {text!r} at row {row}. "
                        f"Pass --categorical {name} to treat it as categories, add the text to "
                        "--missing-values, or clean the column."
                    ) from None
            values = np.array([np.nan if t is None else float(t) for t in texts])
        return np.where(np.isfinite(values), values, np.nan)
    raise DataError(
        f"column {name!r} is numeric but holds values of type {kind}. Expected numbers; "
        f"pass --categorical {name} or --ignore {name}."
    )


def infer_columns(
    table: pa.Table,
    *,
    label: str | None,
    categorical: list[str] | None = None,
    numeric: list[str] | None = None,
    text: str | None = None,
    ignore: list[str] | None = None,
) -> dict[str, tuple[str, str]]:
    """The type of each feature column: {column: (kind, reason)}.

    Kinds: `categorical`, `numeric`, `text`, or `ignored`. Columns named in `categorical`,
    `numeric` or `text` take that kind; the others are inferred: text and booleans
    categorical, numbers numeric. The label is left out.
    """
    names = table.column_names
    categorical, numeric, ignore = list(categorical or []), list(numeric or []), list(ignore or [])
    for column in [*categorical, *numeric, *ignore, *([text] if text else [])]:
        if column not in names:
            raise column_error(column, names)
    both = set(categorical) & set(numeric)
    if both:
        raise ConfigError(
            f"a column cannot be both categorical and numeric. Received {sorted(both)} in "
            "both --categorical and --numeric. Name each column once."
        )
    if text and (text in categorical or text in numeric):
        raise ConfigError(
            f"--text {text!r} also appears in --categorical or --numeric. Name it once."
        )
    if label is not None and label in [*categorical, *numeric, text]:
        raise ConfigError(
            f"the label column {label!r} cannot also be a feature. Remove it from "
            "--categorical, --numeric and --text."
        )
    plan: dict[str, tuple[str, str]] = {}
    for column in names:
        kind = table.schema.field(column).type
        if column == label:
            continue
        if column in ignore:
            plan[column] = ("ignored", "--ignore")
        elif column == text:
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise DataError(
                    f"--text {column!r} must be a text column. Received values of type {kind}. "
                    "Pass a column of text."
                )
            plan[column] = ("text", "--text")
        elif column in categorical:
            plan[column] = ("categorical", "--categorical")
        elif column in numeric:
            plan[column] = ("numeric", "--numeric")
        elif pa.types.is_null(kind):
            plan[column] = ("ignored", "every value is missing")
        elif pa.types.is_dictionary(kind) or pa.types.is_string(kind) or pa.types.is_large_string(
            kind
        ):
            plan[column] = ("categorical", "text values")
        elif pa.types.is_boolean(kind):
            plan[column] = ("categorical", "boolean values")
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            plan[column] = ("numeric", "numbers")
        elif pa.types.is_temporal(kind):
            plan[column] = ("categorical", "dates or times")
        else:
            plan[column] = ("ignored", f"values of type {kind} (pass --categorical to use it)")
    if not any(kind != "ignored" for kind, _ in plan.values()):
        raise DataError(
            f"no feature columns are left besides the label {label!r}. Pass a table with "
            "columns to learn from."
        )
    return plan


# ------------------------------------------------------------------------- numeric columns
@dataclass
class NumericScaler:
    """How one numeric column is normalised.

    `quantile` maps a value to its place among the training quantiles (101 of them), spread
    to unit variance: robust to the long tails of money and counts. `standard` subtracts the
    mean and divides by the standard deviation. A missing value becomes 0 (the middle), and
    columns with missing values in training get a 0/1 indicator beside them.
    """

    scaling: str = "quantile"
    mean: float = 0.0
    std: float = 1.0
    quantiles: list = field(default_factory=list)
    missing: int = 0

    @classmethod
    def fit(cls, values: np.ndarray, scaling: str, name: str) -> NumericScaler:
        present = values[~np.isnan(values)]
        if present.size == 0:
            raise DataError(
                f"numeric column {name!r} has no values in the training rows. Pass --ignore "
                f"{name}, or rows that have it."
            )
        quantiles = np.unique(np.quantile(present, np.linspace(0, 1, QUANTILES))).tolist()
        return cls(scaling, float(present.mean()), float(present.std()) or 1.0, quantiles,
                   int(np.isnan(values).sum()))

    @property
    def width(self) -> int:
        return 2 if self.missing else 1

    def transform(self, values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        filled = np.where(missing, 0.0, values)
        if self.scaling == "standard":
            scaled = (filled - self.mean) / self.std
        elif len(self.quantiles) < 2:
            scaled = np.zeros_like(filled)
        else:
            q = np.asarray(self.quantiles)
            place = np.interp(filled, q, np.linspace(0.0, 1.0, len(q)))
            scaled = (place - 0.5) * np.sqrt(12.0)
        scaled = np.where(missing, 0.0, scaled)
        if self.missing:
            return np.stack([scaled, missing.astype("float64")], axis=1)
        return scaled[:, None]


# ------------------------------------------------------------------------------- the model
class TabularModel:
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
        min_count: Integer. Values seen fewer times in training share the unknown row.
        hash_buckets: Optional dict. Columns to hash into this many buckets each.
        max_values: Integer. A column with more distinct values is hashed into this many
            buckets.
        missing_values: List of strings. Text that means a value is missing (default `?`).
        numeric_scaling: String. `quantile` (default) or `standard`; see `NumericScaler`.
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
        min_count: int = 1,
        hash_buckets: dict[str, int] | None = None,
        max_values: int = 1_000_000,
        missing_values: list[str] | tuple[str, ...] = ("?",),
        numeric_scaling: str = "quantile",
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
        verbose: int = 0,
    ):
        if numeric_scaling not in SCALINGS:
            raise ConfigError(
                f"`numeric_scaling` must be one of {', '.join(SCALINGS)}. "
                f"Received: numeric_scaling={numeric_scaling!r}."
            )
        if encoding not in ENCODINGS:
            raise ConfigError(
                f"`encoding` must be one of {', '.join(ENCODINGS)}. "
                f"Received: encoding={encoding!r}."
            )
        hidden = tuple(hidden)
        if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ConfigError(
                f"`hidden` must be a non-empty list of positive integers. Received: "
                f"hidden={hidden!r}."
            )
        if not 0 <= dropout < 1:
            raise ConfigError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}.")
        for name, value in (("min_count", min_count), ("max_values", max_values),
                            ("text_dim", text_dim), ("text_max_tokens", text_max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}.")
        self.categorical = list(categorical or [])
        self.numeric = list(numeric or [])
        self.text = text
        self.ignore = list(ignore or [])
        self.task = task
        self.positive = positive
        self.embedding_sizes = dict(embedding_sizes or {})
        self.min_count = min_count
        self.hash_buckets = dict(hash_buckets or {})
        self.max_values = max_values
        self.missing_values = [str(v) for v in missing_values]
        self.numeric_scaling = numeric_scaling
        self.encoding = encoding
        self.hidden = hidden
        self.dropout = float(dropout)
        self.text_dim = text_dim
        self.text_max_tokens = text_max_tokens
        self.text_max_length = text_max_length
        self.settings = TrainSettings(
            epochs=epochs, batch_size=batch_size, validation_split=validation_split,
            patience=patience, learning_rate=learning_rate, class_weight=class_weight, seed=seed,
        )
        self.verbose = verbose
        self.plan: dict[str, tuple[str, str]] = {}
        self.vocabularies: dict[str, CategoricalVocabulary] = {}
        self.sizes: dict[str, int] = {}
        self.scalers: dict[str, NumericScaler] = {}
        self.encoder = None
        self.length: int | None = None
        self.target: Target | None = None
        self.label: str | None = None
        self.model = None
        self.history: History | None = None
        self.metrics: dict = {}
        self.data_summary: dict = {}
        self.evaluation: dict | None = None
        self.attributes: dict[str, dict[str, np.ndarray]] = {}
        self.manifest_data: dict = {}
        self.last_counts: dict = {}

    # ------------------------------------------------------------------ columns
    @property
    def categorical_columns(self) -> list[str]:
        return [c for c, (k, _) in self.plan.items() if k == "categorical"]

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c, (k, _) in self.plan.items() if k == "numeric"]

    @property
    def text_column(self) -> str | None:
        return next((c for c, (k, _) in self.plan.items() if k == "text"), None)

    @property
    def input_columns(self) -> list[str]:
        """The columns `predict_table` reads, in table order."""
        return [c for c, (k, _) in self.plan.items() if k != "ignored"]

    # ------------------------------------------------------------------ training
    def fit(self, data: Any, y: Any) -> TabularModel:
        """Learn the vocabularies, scalers, label encoding and model from a table.

        Args:
            data: A pyarrow Table, pandas DataFrame or dict of columns.
            y: String (the label column of `data`) or a sequence of labels, one per row.
                Rows whose label is missing are dropped and counted.
        """
        table, labels, dropped = self._labelled(data, y, "the training data")
        self.vocabularies, self.sizes, self.scalers, self.encoder = {}, {}, {}, None
        self.label = y if isinstance(y, str) else None
        self.plan = infer_columns(
            table, label=self.label, categorical=self.categorical, numeric=self.numeric,
            text=self.text, ignore=self.ignore,
        )
        for column in self.hash_buckets:
            if column not in self.categorical_columns:
                raise ConfigError(
                    f"hash_buckets names {column!r}, which is not a categorical column; the "
                    f"categorical columns are {self.categorical_columns}. Fix the name."
                )
        check_sizes(self.embedding_sizes, self.categorical_columns)
        self.target = Target.infer(labels, task=self.task, positive=self.positive)
        for column in self.categorical_columns:
            vocab = CategoricalVocabulary(
                min_count=self.min_count, max_values=self.max_values,
                buckets=self.hash_buckets.get(column), missing_values=self.missing_values,
            ).fit(table[column], what=f"column {column!r}")
            self.vocabularies[column] = vocab
            self.sizes[column] = self.embedding_sizes.get(
                column, embedding_size(vocab.input_dim - 1)
            )
        for column in self.numeric_columns:
            values = numeric_values(table[column], column, self.missing_values)
            self.scalers[column] = NumericScaler.fit(values, self.numeric_scaling, column)
        if self.text_column:
            self._fit_text(table[self.text_column])
        x, _ = self._inputs(table)
        target = self.target.encode(labels)
        import keras

        keras.utils.set_random_seed(self.settings.seed)
        self.model = self._build()
        self.history = train(
            self.model, x, target, task=self.target.task, settings=self.settings,
            verbose=self.verbose,
        )
        self._fill_untrained_rows()
        if self.history.validation is not None:
            self.evaluation = summarize(self.target, *self.history.validation, split="validation")
        self.attributes = {}
        for i, column in enumerate(self.categorical_columns):
            vocab = self.vocabularies[column]
            name, values = row_label_attribute(
                self.target, x[_input_name(i, column)], target, vocab.input_dim)
            self.attributes[column] = {name: values}
        self.data_summary = {
            "train_rows": table.num_rows,
            "dropped_missing_label": dropped,
            "columns": self.describe_columns(),
            "parameters": int(self.model.count_params()),
        }
        return self

    def _labelled(self, data: Any, y: Any, what: str) -> tuple[pa.Table, list, int]:
        table = _as_table(data, what)
        if table.num_rows == 0:
            raise DataError(f"{what} has no rows. Pass a table with rows.")
        if isinstance(y, str):
            if y not in table.column_names:
                raise column_error(y, table.column_names, what="label column")
            kept, dropped = drop_missing(table, [y])
            labels = kept[y].to_pylist()
            table = kept
        else:
            labels = y.to_pylist() if hasattr(y, "to_pylist") else list(
                y.tolist() if isinstance(y, np.ndarray) else y
            )
            if len(labels) != table.num_rows:
                raise DataError(
                    f"{what} and its labels must have the same length. Received "
                    f"{table.num_rows} rows and {len(labels)} labels."
                )
            keep = [not _missing(v) for v in labels]
            dropped = len(labels) - sum(keep)
            if dropped:
                table = table.filter(pa.array(keep))
                labels = [v for v, k in zip(labels, keep, strict=True) if k]
        if dropped:
            log.warning("%d rows of %s have no label and were dropped.", dropped, what)
        if not labels:
            raise DataError(
                f"every row of {what} lacks a label ({dropped} rows). Check the label column."
            )
        return table, labels, dropped

    def _fit_text(self, column) -> None:
        from embedlab.text import TextEncoder

        bag = RECIPES["bag"]
        self.encoder = TextEncoder(
            max_tokens=self.text_max_tokens, ngrams=bag.ngrams, ngram_buckets=bag.ngram_buckets,
            padding="post", truncation="post",
        ).fit(_text_values(column))
        self.length = self.text_max_length or self.encoder.suggest_length()

    def _build(self):
        import keras

        inputs, parts = [], []
        for i, column in enumerate(self.categorical_columns):
            ids = keras.Input(shape=(), dtype="int32", name=_input_name(i, column))
            if self.encoding == "onehot":
                table = keras.layers.CategoryEncoding(
                    self.vocabularies[column].input_dim, output_mode="one_hot",
                    name=f"onehot_{_input_name(i, column)}",
                )
            else:
                table = categorical_embedding(
                    self.vocabularies[column], dim=self.sizes[column],
                    name=f"embedding_{_input_name(i, column)}",
                )
            inputs.append(ids)
            parts.append(table(ids))
        width = sum(self.scalers[c].width for c in self.numeric_columns)
        if width:
            numbers = keras.Input(shape=(width,), dtype="float32", name=NUMERIC_INPUT)
            inputs.append(numbers)
            parts.append(numbers)
        if self.text_column:
            from embedlab.layers import make_embedding

            ids = keras.Input(shape=(self.length,), dtype="int32", name=TEXT_INPUT)
            words = make_embedding(self.encoder.input_dim, self.text_dim, mask_zero=True,
                                   name="embedding_text")(ids)
            inputs.append(ids)
            parts.append(keras.layers.GlobalAveragePooling1D(name="text_pool")(words))
        x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)
        for i, units in enumerate(self.hidden):
            x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
            if self.dropout:
                x = keras.layers.Dropout(self.dropout, name=f"dropout_{i}")(x)
        head = head_layer(self.target.task, max(self.target.n_classes, 2))
        return keras.Model(inputs, head(x), name="tabular")

    def _inputs(self, table: pa.Table) -> tuple[dict[str, np.ndarray], dict]:
        """Model inputs of a table, and the unknown and missing values counted per column."""
        x: dict[str, np.ndarray] = {}
        counts: dict = {"unknown": {}, "missing": {}}
        for i, column in enumerate(self.categorical_columns):
            vocab = self.vocabularies[column]
            ids, unknown, missing = vocab.encode_counted(table[column], what=f"column {column!r}")
            x[_input_name(i, column)] = check_ids(ids, vocab.input_dim, what=f"ids of {column!r}")
            counts["unknown"][column], counts["missing"][column] = unknown, missing
        blocks = []
        for column in self.numeric_columns:
            values = numeric_values(table[column], column, self.missing_values)
            counts["missing"][column] = int(np.isnan(values).sum())
            blocks.append(self.scalers[column].transform(values))
        if blocks:
            x[NUMERIC_INPUT] = np.concatenate(blocks, axis=1).astype("float32")
        if self.text_column:
            ids = self.encoder.encode(_text_values(table[self.text_column]), length=self.length)
            x[TEXT_INPUT] = check_ids(ids, self.encoder.input_dim, what="text ids")
        return x, counts

    def _fill_untrained_rows(self) -> None:
        """Rows no training value reached (unknown, missing, empty hash buckets) get the
        column's mean vector weighted by value counts, so a new value lands in the middle of
        the learned space instead of at a random point."""
        if self.encoding == "onehot":
            return
        for i, column in enumerate(self.categorical_columns):
            vocab = self.vocabularies[column]
            layer = self.model.get_layer(f"embedding_{_input_name(i, column)}")
            table = np.array(layer.get_weights()[0])
            counts = vocab.counts.astype("float64")
            if counts[len(RESERVED):].sum() == 0:
                continue
            mean = (counts[len(RESERVED):, None] * table[len(RESERVED):]).sum(0)
            mean /= counts[len(RESERVED):].sum()
            untrained = np.flatnonzero(counts == 0)
            table[untrained[untrained != PAD_ID]] = mean
            layer.set_weights([table.astype("float32")])

    def describe_columns(self) -> list[dict]:
        """One dict per feature column: kind, why, and its size or scaling."""
        rows = []
        for column, (kind, reason) in self.plan.items():
            row: dict[str, Any] = {"column": column, "kind": kind, "reason": reason}
            if kind == "categorical":
                vocab = self.vocabularies[column]
                row.update(values=len(vocab.values), hashed=vocab.buckets if vocab.hashed else 0,
                           rows=vocab.input_dim, dim=self.sizes[column],
                           rare=int(vocab.counts[UNKNOWN_ID]),
                           missing=int(vocab.counts[MISSING_ID]))
            elif kind == "numeric":
                scaler = self.scalers[column]
                row.update(scaling=scaler.scaling, missing=scaler.missing)
            elif kind == "text":
                row.update(vocabulary=len(self.encoder.vocabulary), length=self.length,
                           dim=self.text_dim)
            rows.append(row)
        return rows

    def _require_fitted(self) -> None:
        if self.model is None:
            raise ConfigError(
                "this TabularModel is not trained yet. Call fit() or TabularModel.load()."
            )

    # ---------------------------------------------------------------- prediction
    def _features(self, data: Any) -> dict[str, np.ndarray]:
        self._require_fitted()
        table = _as_table(data)
        missing = [c for c in self.input_columns if c not in table.column_names]
        if missing:
            raise column_error(missing[0], table.column_names)
        x, counts = self._inputs(table)
        self.last_counts = counts
        unknown = {c: n for c, n in counts["unknown"].items() if n}
        if unknown:
            shown = ", ".join(f"{c!r}: {n}" for c, n in unknown.items())
            log.warning(
                "values never seen in training (they use the column's unknown row): %s", shown
            )
        return x

    def predict_raw(self, data: Any) -> np.ndarray:
        """The model's outputs for the rows of a table (probabilities, or standardised values)."""
        x = self._features(data)
        n = len(next(iter(x.values())))
        if n == 0:
            return np.zeros((0, self.model.output_shape[-1]), dtype="float32")
        out = np.asarray(self.model.predict(x, batch_size=max(1024, self.settings.batch_size),
                                            verbose=0))
        if not np.isfinite(out).all():
            raise ConfigError(
                "the model produced NaN or infinite outputs. Expected finite predictions; "
                "retrain with a smaller --learning-rate."
            )
        return out

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
        return self.evaluate_with_figures(data, y)[0]

    def evaluate_with_figures(self, data: Any, y: Any, *, split: str = "test") -> tuple[dict, dict]:
        """(metrics as `evaluate`, what a report draws of them: confusion counts and ROC
        curve, or errors; see `embedlab.training.evaluation.summarize`), from one pass."""
        self._require_fitted()
        table, labels, dropped = self._labelled(data, y, "the evaluation data")
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
    def _table_of(self, column: str) -> np.ndarray:
        self._require_fitted()
        if self.encoding == "onehot":
            raise ConfigError(
                "this TabularModel was trained with encoding='onehot' and has no learned "
                "vectors. Train it with encoding='embedding' (the default)."
            )
        if column not in self.vocabularies:
            raise ConfigError(
                f"{column!r} is not a categorical column of this model; those are "
                f"{self.categorical_columns}. Pass one of them."
            )
        i = self.categorical_columns.index(column)
        layer = self.model.get_layer(f"embedding_{_input_name(i, column)}")
        return np.asarray(layer.get_weights()[0])

    def column_vectors(self, column: str):
        """The learned vectors of a categorical column's values as a `WordVectors`
        (neighbours, exports). `<unk>` and `<missing>` are included when training saw them."""
        from embedlab.vectors import WordVectors

        table = self._table_of(column)
        vocab = self.vocabularies[column]
        labels = vocab.index_to_key
        rows = self._rows_of(column)
        return WordVectors([labels[r] for r in rows], table[rows],
                           source=f"column {column!r} of a TabularModel",
                           counts=vocab.counts[rows])

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
        columns: dict[str, Any] = {}
        for i, column in enumerate(self.categorical_columns):
            vectors = self._table_of(column)[x[_input_name(i, column)]]
            for d in range(vectors.shape[1]):
                columns[f"{column}_{d}"] = vectors[:, d]
        if numeric:
            table = _as_table(data)
            for column in self.numeric_columns:
                columns[column] = numeric_values(table[column], column, self.missing_values)
        return pa.table(columns)

    # ------------------------------------------------------------------ bundles
    def manifest(self) -> dict:
        self._require_fitted()
        return {
            "kind": KIND,
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
            "text": ({"length": self.length, "encoder": self.encoder.get_config()}
                     if self.encoder is not None else None),
            "settings": self.settings.to_dict(),
            **artifacts.run_record(self),
        }

    def _options(self) -> dict:
        return {
            "embedding_sizes": self.embedding_sizes, "min_count": self.min_count,
            "hash_buckets": self.hash_buckets, "max_values": self.max_values,
            "missing_values": self.missing_values, "numeric_scaling": self.numeric_scaling,
            "encoding": self.encoding,
            "hidden": list(self.hidden), "dropout": self.dropout, "text_dim": self.text_dim,
            "text_max_tokens": self.text_max_tokens, "text_max_length": self.text_max_length,
            "task": self.task, "positive": self.positive,
        }

    def save(self, path: str | os.PathLike, *, extra: dict | None = None) -> Path:
        """Write the bundle directory (atomically; an older bundle there is replaced)."""
        from embedlab.text.categorical import save_vocabularies

        manifest = {**self.manifest(), **(extra or {})}
        vocabularies = self.vocabularies
        writers = {artifacts.CATEGORICAL: lambda p: save_vocabularies(p, vocabularies)}
        if self.encoder is not None:
            writers[artifacts.ENCODER_DIR] = self.encoder.save
        writers.update(artifacts.run_writers(self))
        return artifacts.write_bundle(path, manifest, model=self.model, writers=writers)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TabularModel:
        """Load a bundle written by `save` (or `embedlab train tabular`)."""
        from embedlab.text.categorical import load_vocabularies

        manifest = artifacts.read_manifest(path, kind=KIND)
        try:
            obj = cls(**manifest["options"], **manifest["settings"])
            obj.plan = {c: tuple(v) for c, v in manifest["columns"]["plan"].items()}
            obj.label = manifest["columns"].get("label")
            obj.sizes = {c: int(v) for c, v in manifest["columns"]["sizes"].items()}
            obj.scalers = {c: NumericScaler(**v) for c, v in manifest["numeric"].items()}
            obj.target = Target.from_dict(manifest["target"])
        except (KeyError, TypeError) as exc:
            raise BundleError(
                f"the manifest of bundle {str(path)!r} lacks {exc}. Train the bundle again."
            ) from None
        obj.vocabularies = load_vocabularies(Path(path) / artifacts.CATEGORICAL)
        if obj.text_column:
            from embedlab.text import TextEncoder

            directory = Path(path) / artifacts.ENCODER_DIR
            if not directory.exists():
                raise BundleError(
                    f"bundle {str(path)!r} is incomplete: {artifacts.ENCODER_DIR} is missing. "
                    "Copy the whole bundle directory, or train it again."
                )
            try:
                obj.encoder = TextEncoder.load(directory)
            except DataError as exc:
                raise BundleError(f"the bundle's text encoder is damaged: {exc}") from None
            obj.length = manifest["text"]["length"]
        obj.model = artifacts.load_model(path)
        artifacts.restore_run(obj, path, manifest)
        return obj


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text_values(column) -> pa.ChunkedArray:
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return column.fill_null("")


def _input_name(index: int, column: str) -> str:
    """A Keras-safe input name for a column, unique by its index."""
    safe = re.sub(r"[^0-9A-Za-z_]+", "_", column).strip("_")[:40]
    return f"c{index}_{safe}" if safe else f"c{index}"


# ------------------------------------------------------------------------------- the job
@dataclass
class TabularReport:
    """What `train_tabular` did, for printing."""

    task: str
    task_reason: str
    positive: Any
    classes: list
    columns: list[dict]
    train_rows: int
    dropped: int
    test_rows: int = 0
    test_dropped: int = 0
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int | None = None
    parameters: int = 0
    seconds: float = 0.0
    output: Path | None = None
    report: Path | None = None


def train_tabular(
    data: str | os.PathLike | pa.Table,
    *,
    label: str,
    output: str | os.PathLike,
    test: str | os.PathLike | pa.Table | None = None,
    verbose: int = 0,
    report: bool = True,
    **options,
) -> tuple[TabularReport, TabularModel]:
    """Train a TabularModel on a labelled file, evaluate once on `test`, save the bundle
    and (with `report`) its HTML report.

    `options` are TabularModel's keyword arguments. Returns (report, model).
    """
    from embedlab.data import read_table

    start = time.perf_counter()
    artifacts.check_output(output)
    table = data if isinstance(data, pa.Table) else read_table(data)
    if label not in table.column_names:
        raise column_error(label, table.column_names, what="label column")
    test_table = None
    if test is not None:
        test_table = test if isinstance(test, pa.Table) else read_table(test)
    model = TabularModel(verbose=verbose, **options).fit(table, label)
    history = model.history
    validation = history.best_validation() if history else {}
    test_metrics: dict = {}
    if test_table is not None:
        test_metrics, model.evaluation = model.evaluate_with_figures(test_table, label)
    model.metrics = {"validation": validation, "test": test_metrics}
    draw_report = report
    report = TabularReport(
        task=model.target.task, task_reason=model.target.reason,
        positive=model.target.positive, classes=model.target.classes,
        columns=model.describe_columns(), train_rows=model.data_summary["train_rows"],
        dropped=model.data_summary["dropped_missing_label"],
        test_rows=test_metrics.get("rows", 0),
        test_dropped=test_metrics.get("dropped_missing_label", 0),
        validation=validation, test=test_metrics,
        epochs_run=len(history.epochs) if history else 0,
        best_epoch=history.best_epoch if history else None,
        parameters=model.data_summary["parameters"],
    )
    from embedlab.jobs import save_with_report

    report.output, report.report = save_with_report(model, output, report=draw_report)
    report.seconds = time.perf_counter() - start
    return report, model


__all__ = ["NumericScaler", "TabularModel", "TabularReport", "infer_columns", "train_tabular"]
