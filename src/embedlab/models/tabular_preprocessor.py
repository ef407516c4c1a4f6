"""The tabular preprocessor: a table's columns to model inputs.

It decides each column's kind (`infer_columns`), learns one vocabulary per categorical
column, a scaler per numeric column (`NumericScaler`) and the text encoder of a text
column, and turns the rows of a table into the arrays the Keras model reads, counting the
values never seen in training. numpy and pyarrow only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.data.columns import numeric_values, text_values
from embedlab.errors import ConfigError, DataError, column_error
from embedlab.layers import check_ids
from embedlab.layers.categorical import check_sizes, embedding_size
from embedlab.models.numeric_bins import label_edges, piecewise_linear, quantile_edges
from embedlab.models.recipes import RECIPES
from embedlab.text.categorical import MISSING_ID, UNKNOWN_ID, CategoricalVocabulary
from embedlab.text.encoder import TextEncoder

SCALINGS = ("ple", "quantile", "standard")
QUANTILES = 101
TEXT_INPUT = "text"
NUMERIC_INPUT = "numeric"


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



@dataclass
class NumericScaler:
    """How one numeric column becomes model input.

    `ple` (the default) encodes a value piecewise-linearly over the column's bins
    (`embedlab.models.numeric_bins`: the leaves of a one-column tree on the label), a vector
    the network embeds per column (`embedlab.layers.numeric.NumericEmbedding`); a missing
    value encodes as zeros. `quantile` maps a value to its place among the training
    quantiles (101 of them), spread to unit variance: robust to the long tails of money and
    counts. `standard` subtracts the mean and divides by the standard deviation; a missing
    value becomes 0 (the middle). Under every scaling, columns with missing values in
    training get a 0/1 indicator beside them.
    """

    scaling: str = "quantile"
    mean: float = 0.0
    std: float = 1.0
    quantiles: list = field(default_factory=list)
    missing: int = 0
    edges: list = field(default_factory=list)

    @classmethod
    def fit(cls, values: np.ndarray, scaling: str, name: str,
            targets: np.ndarray | None = None) -> NumericScaler:
        """Learn a column's scaling from its training values; `ple` bins follow `targets`
        (one row per value, see `label_edges`) when given, else the quantiles."""
        present = values[~np.isnan(values)]
        if present.size == 0:
            raise DataError(
                f"numeric column {name!r} has no values in the training rows. Pass --ignore "
                f"{name}, or rows that have it."
            )
        quantiles = np.unique(np.quantile(present, np.linspace(0, 1, QUANTILES))).tolist()
        edges = []
        if scaling == "ple":
            edges = (label_edges(values, targets) if targets is not None
                     else quantile_edges(values)).tolist()
        return cls(scaling, float(present.mean()), float(present.std()) or 1.0, quantiles,
                   int(np.isnan(values).sum()), edges)

    @property
    def bins(self) -> int:
        """Places of the piecewise-linear encoding (`ple` only)."""
        return max(1, len(self.edges) - 1)

    @property
    def width(self) -> int:
        base = self.bins if self.scaling == "ple" else 1
        return base + 1 if self.missing else base

    def transform(self, values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        if self.scaling == "ple":
            encoded = piecewise_linear(values, np.asarray(self.edges))
            if self.missing:
                return np.concatenate([encoded, missing[:, None].astype("float32")], axis=1)
            return encoded
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



class TabularPreprocessor:
    """What a TabularModel learns of its columns before the network: their kinds, the
    vocabularies, scalers and text encoder, and each categorical column's table size.

    Args: as `TabularModel`'s column options.
    """

    def __init__(
        self,
        *,
        categorical: list[str] | None = None,
        numeric: list[str] | None = None,
        text: str | None = None,
        ignore: list[str] | None = None,
        embedding_sizes: dict[str, int] | None = None,
        min_count: int | None = None,
        hash_buckets: dict[str, int] | None = None,
        max_values: int | None = None,
        missing_values: list[str] | tuple[str, ...] = ("?",),
        numeric_scaling: str = "ple",
        text_max_tokens: int = 20000,
        text_max_length: int | None = None,
    ):
        if numeric_scaling not in SCALINGS:
            raise ConfigError(
                f"`numeric_scaling` must be one of {', '.join(SCALINGS)}. "
                f"Received: numeric_scaling={numeric_scaling!r}."
            )
        self.categorical = list(categorical or [])
        self.numeric = list(numeric or [])
        self.text = text
        self.ignore = list(ignore or [])
        self.embedding_sizes = dict(embedding_sizes or {})
        self.min_count = min_count
        self.hash_buckets = dict(hash_buckets or {})
        self.max_values = max_values
        self.missing_values = [str(v) for v in missing_values]
        self.numeric_scaling = numeric_scaling
        self.text_max_tokens = text_max_tokens
        self.text_max_length = text_max_length
        self.plan: dict[str, tuple[str, str]] = {}
        self.vocabularies: dict[str, CategoricalVocabulary] = {}
        self.sizes: dict[str, int] = {}
        self.scalers: dict[str, NumericScaler] = {}
        self.encoder: TextEncoder | None = None
        self.length: int | None = None

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
        """The columns the model reads, in table order."""
        return [c for c, (k, _) in self.plan.items() if k != "ignored"]

    def fit(self, table: pa.Table, label: str | None, *, targets: np.ndarray | None = None,
            rows: np.ndarray | None = None) -> TabularPreprocessor:
        """Learn the column kinds, vocabularies, scalers and text encoder of `table`.

        `targets` (one row per table row, see `label_edges`) places the `ple` bins; only
        the `rows` given (the training rows, not those held out for validation) are used."""
        self.vocabularies, self.sizes, self.scalers, self.encoder = {}, {}, {}, None
        self.plan = infer_columns(
            table, label=label, categorical=self.categorical, numeric=self.numeric,
            text=self.text, ignore=self.ignore,
        )
        for column in self.hash_buckets:
            if column not in self.categorical_columns:
                raise ConfigError(
                    f"hash_buckets names {column!r}, which is not a categorical column; the "
                    f"categorical columns are {self.categorical_columns}. Fix the name."
                )
        check_sizes(self.embedding_sizes, self.categorical_columns)
        for column in self.categorical_columns:
            vocab = CategoricalVocabulary(
                min_count=self.min_count or rare_count(len(table) if rows is None else len(rows)),
                max_values=self.max_values,
                buckets=self.hash_buckets.get(column), missing_values=self.missing_values,
            ).fit(table[column], what=f"column {column!r}")
            self.vocabularies[column] = vocab
            self.sizes[column] = self.embedding_sizes.get(
                column, embedding_size(vocab.input_dim - 1)
            )
        for column in self.numeric_columns:
            values = numeric_values(table[column], column, self.missing_values)
            chosen = targets
            if rows is not None:
                values, chosen = values[rows], None if targets is None else targets[rows]
            self.scalers[column] = NumericScaler.fit(values, self.numeric_scaling, column,
                                                     targets=chosen)
        if self.text_column:
            self._fit_text(table[self.text_column])
        return self

    def _fit_text(self, column) -> None:
        bag = RECIPES["bag"]
        self.encoder = TextEncoder(
            max_tokens=self.text_max_tokens, ngrams=bag.ngrams, ngram_buckets=bag.ngram_buckets,
            padding="post", truncation="post",
        ).fit(text_values(column))
        self.length = self.text_max_length or self.encoder.suggest_length()

    @property
    def numeric_width(self) -> int:
        """Width of the numeric input: per column under `ple` (columns x width), else in all."""
        widths = [self.scalers[c].width for c in self.numeric_columns]
        if self.numeric_scaling == "ple":
            return max(widths, default=0)
        return sum(widths)

    def inputs(self, table: pa.Table) -> tuple[dict[str, np.ndarray], dict]:
        """Model inputs of a table, and the unknown and missing values counted per column."""
        x: dict[str, np.ndarray] = {}
        counts: dict = {"unknown": {}, "missing": {}}
        for i, column in enumerate(self.categorical_columns):
            vocab = self.vocabularies[column]
            ids, unknown, missing = vocab.encode_counted(table[column], what=f"column {column!r}")
            x[input_name(i, column)] = check_ids(ids, vocab.input_dim, what=f"ids of {column!r}")
            counts["unknown"][column], counts["missing"][column] = unknown, missing
        blocks = []
        for column in self.numeric_columns:
            values = numeric_values(table[column], column, self.missing_values)
            counts["missing"][column] = int(np.isnan(values).sum())
            blocks.append(self.scalers[column].transform(values))
        if blocks and self.numeric_scaling == "ple":
            width = self.numeric_width
            x[NUMERIC_INPUT] = np.stack(
                [np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks], axis=1
            ).astype("float32")
        elif blocks:
            x[NUMERIC_INPUT] = np.concatenate(blocks, axis=1).astype("float32")
        if self.text_column:
            ids = self.encoder.encode(text_values(table[self.text_column]), length=self.length)
            x[TEXT_INPUT] = check_ids(ids, self.encoder.input_dim, what="text ids")
        return x, counts

    def describe_columns(self, text_dim: int | None = None) -> list[dict]:
        """One dict per feature column: kind, why, and its size or scaling."""
        rows = []
        for column, (kind, reason) in self.plan.items():
            row: dict[str, Any] = {"column": column, "kind": kind, "reason": reason}
            if kind == "categorical":
                vocab = self.vocabularies[column]
                row.update(values=vocab.distinct, hashed=vocab.buckets if vocab.hashed else 0,
                           collisions=vocab.collisions,
                           rows=vocab.input_dim, dim=self.sizes[column],
                           rare=int(vocab.counts[UNKNOWN_ID]),
                           missing=int(vocab.counts[MISSING_ID]))
            elif kind == "numeric":
                scaler = self.scalers[column]
                row.update(scaling=scaler.scaling, missing=scaler.missing)
                if scaler.scaling == "ple":
                    row.update(bins=scaler.bins)
            elif kind == "text":
                row.update(vocabulary=len(self.encoder.vocabulary), length=self.length,
                           dim=text_dim)
            rows.append(row)
        return rows

    def check_columns(self, table: pa.Table) -> None:
        """Raise a ColumnError when `table` lacks a column the model reads."""
        missing = [c for c in self.input_columns if c not in table.column_names]
        if missing:
            raise column_error(missing[0], table.column_names)

    @property
    def options(self) -> dict:
        """The column options, as the manifest keeps them."""
        return {
            "embedding_sizes": self.embedding_sizes, "min_count": self.min_count,
            "hash_buckets": self.hash_buckets, "max_values": self.max_values,
            "missing_values": self.missing_values, "numeric_scaling": self.numeric_scaling,
            "text_max_tokens": self.text_max_tokens, "text_max_length": self.text_max_length,
        }

    def restore(self, manifest: dict, vocabularies: dict, encoder: TextEncoder | None) -> None:
        """Set the fitted state from a bundle's manifest and files."""
        columns = manifest["columns"]
        self.plan = {c: tuple(v) for c, v in columns["plan"].items()}
        self.sizes = {c: int(v) for c, v in columns["sizes"].items()}
        self.scalers = {c: NumericScaler(**v) for c, v in manifest["numeric"].items()}
        self.vocabularies = vocabularies
        self.encoder = encoder
        self.length = manifest["text"]["length"] if encoder is not None else None


def rare_count(rows: int) -> int:
    """The default `min_count` of a categorical column: a value needs this many training
    rows for a row of its own table (20, or one per 200 rows of a smaller table, at least 1).
    A column of thousands of values seen once or twice each would otherwise be learned by
    heart (`python -m bench.tabular`, "A column of thousands of values", measures it)."""
    return int(min(20, max(1, rows // 200)))


def input_name(index: int, column: str) -> str:
    """A Keras-safe input name for a column, unique by its index."""
    safe = re.sub(r"[^0-9A-Za-z_]+", "_", column).strip("_")[:40]
    return f"c{index}_{safe}" if safe else f"c{index}"
