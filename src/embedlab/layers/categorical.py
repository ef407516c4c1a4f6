"""Categorical columns: one vocabulary per column, and the rule that sizes its embedding.

Values of any type are normalised to strings first (`category_strings`), so the integer 42,
the float 42.0 and the text "42" are one value, and an integer ID typed on the command line
is never mistaken for an unknown one. Ids follow the text encoder's convention:

    0  <pad>       reserved, never produced for a single value
    1  <unk>       a value not kept: rarer than `min_count`, or never seen in training
    2  <missing>   null, NaN, blank text, or one of `missing_values`: a value of its own
    3, 4, ...      the kept values, most frequent first (ties in code-point order)

A column with more than `max_values` distinct kept values (or given `buckets`) is hashed
instead: each value goes to one of `buckets` rows by a stable hash of its UTF-8 bytes (the
same in every process), so a table of millions of IDs keeps a fixed size.

numpy and pyarrow only; the Keras layer is made by `categorical_embedding`, through
`embedlab.layers.make_embedding`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.errors import ConfigError, DataError

PAD, UNK, MISSING = "<pad>", "<unk>", "<missing>"
PAD_ID, UNKNOWN_ID, MISSING_ID = 0, 1, 2
RESERVED = (PAD, UNK, MISSING)
MAX_DIM = 600
DEFAULT_MAX_VALUES = 1_000_000


def embedding_size(cardinality: int, *, cap: int = MAX_DIM) -> int:
    """The default embedding size of a column: fastai's `min(600, round(1.6 * n ** 0.56))`.

    Args:
        cardinality: Integer >= 1. Rows the column can take (its values plus the unknown and
            missing rows).
        cap: Integer >= 1. The largest size returned.

    Returns:
        An int >= 1.
    """
    if isinstance(cardinality, bool) or not isinstance(cardinality, int | np.integer) or (
        cardinality < 1
    ):
        raise ConfigError(
            f"`cardinality` must be a positive integer. Received: cardinality={cardinality!r}."
        )
    return int(max(1, min(cap, round(1.6 * float(cardinality) ** 0.56))))


# ----------------------------------------------------------------------------- normalising
def category_strings(
    values: Any, *, missing_values: Iterable[str] = (), what: str = "values"
) -> pa.Array:
    """Normalise a column of values to strings; missing values become null.

    Integers print as integers, floats that are whole numbers as integers (42.0 -> "42"),
    other floats in Arrow's shortest form, booleans as "true"/"false", text with its
    surrounding whitespace removed. Null, NaN, blank text and `missing_values` are missing.
    A Python list may mix types (they are normalised one by one).

    Args:
        values: A list, numpy array, pandas Series, or pyarrow (Chunked)Array.
        missing_values: Iterable of strings. Text that also means "missing" (e.g. "?").
        what: String. What the values are, for error messages.

    Returns:
        A pyarrow string Array of the same length.
    """
    array = _as_arrow(values, what)
    strings = _to_strings(array, what)
    blank = pc.equal(pc.utf8_length(strings), 0)
    missing = list(missing_values)
    if missing:
        blank = pc.or_(blank, pc.is_in(strings, value_set=pa.array(missing, pa.string())))
    blank = pc.fill_null(blank, False)
    return pc.if_else(blank, pa.scalar(None, pa.string()), strings)


def category_string(value: Any) -> str | None:
    """One value normalised as `category_strings` does (None when missing)."""
    return category_strings([value]).to_pylist()[0]


def _as_arrow(values: Any, what: str) -> pa.Array:
    if isinstance(values, str | bytes):
        raise DataError(
            f"{what} must be a sequence of values. Received a single "
            f"{type(values).__name__}; wrap it in a list."
        )
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    if hasattr(values, "to_numpy") and hasattr(values, "dtype"):  # pandas Series
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise DataError(
                f"{what} must be one column (1-D). Received an array of shape {values.shape}."
            )
        if values.dtype.kind != "O":
            return pa.array(values, from_pandas=True)
        values = values.tolist()
    values = list(values)
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return _mixed_to_strings(values, what)


def _mixed_to_strings(values: list, what: str) -> pa.Array:
    """A Python list of mixed types: normalise each value (floats through Arrow, as above)."""
    out: list[str | None] = [None] * len(values)
    floats: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, bool | np.bool_):
            out[i] = "true" if value else "false"
        elif isinstance(value, int | np.integer):
            out[i] = str(int(value))
        elif isinstance(value, float | np.floating):
            floats.append(i)
        elif isinstance(value, str):
            out[i] = value
        else:
            raise DataError(
                f"{what} must hold scalar values (text, numbers, booleans). Received "
                f"{value!r} (of type {type(value).__name__}) at row {i}. Flatten the column."
            )
    if floats:
        converted = _to_strings(pa.array([float(values[i]) for i in floats], pa.float64()), what)
        for i, text in zip(floats, converted.to_pylist(), strict=True):
            out[i] = text
    return pa.array(out, pa.string())


def _to_strings(array: pa.Array, what: str) -> pa.Array:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _to_strings(array.dictionary_decode(), what)
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(
        kind
    ):
        return pc.utf8_trim_whitespace(array.cast(pa.string()))
    if pa.types.is_floating(kind):
        numbers = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        valid = np.isfinite(numbers) & pc.is_valid(array).to_numpy(zero_copy_only=False)
        numbers = np.where(valid, numbers + 0.0, 0.0)  # -0.0 + 0.0 is 0.0
        whole = valid & (numbers == np.round(numbers)) & (np.abs(numbers) < 2.0**53)
        as_int = pa.array(np.where(whole, numbers, 0).astype(np.int64)).cast(pa.string())
        as_float = pa.array(numbers).cast(pa.string())
        strings = pc.if_else(pa.array(whole), as_int, as_float)
        return pc.if_else(pa.array(valid), strings, pa.scalar(None, pa.string()))
    if (
        pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    ):
        return array.cast(pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return _to_strings(array.cast(pa.string()), what)
        except pa.ArrowInvalid:
            raise DataError(
                f"{what} must be text, numbers or booleans. Received bytes that are not UTF-8. "
                "Re-save the data as UTF-8."
            ) from None
    raise DataError(
        f"{what} must be text, numbers or booleans. Received the type {kind}. "
        "Pass a column of scalar values."
    )


# ----------------------------------------------------------------------------- vocabulary
class CategoricalVocabulary:
    """The ids of one categorical column: values to rows of its embedding table.

    Example:

    >>> vocab = CategoricalVocabulary(min_count=2).fit(["a", "b", "a", None, 7, 7])
    >>> vocab.index_to_key
    ['<pad>', '<unk>', '<missing>', '7', 'a']
    >>> vocab.encode(["a", "7", "b", None, "new"]).tolist()
    [4, 3, 1, 2, 1]

    Args:
        min_count: Integer >= 1. Values seen fewer times in training map to `<unk>`.
        max_values: Integer >= 1. With more kept values than this, the column is hashed
            into `max_values` buckets instead (when `buckets` is not given).
        buckets: Optional integer >= 1. Hash every value into this many rows (no stored
            values; unknown values get a bucket too).
        missing_values: Iterable of strings. Text that counts as missing (e.g. "?").

    Attributes:
        values: List of str. The kept values, in id order from 3 (empty when hashed).
        counts: int64 array, one count per row: training rows with that value. The `<unk>`
            row counts values too rare to keep; `<missing>` the missing ones.
        hashed: Boolean. Whether values are hashed into buckets.
    """

    def __init__(
        self,
        *,
        min_count: int = 1,
        max_values: int = DEFAULT_MAX_VALUES,
        buckets: int | None = None,
        missing_values: Iterable[str] = (),
    ) -> None:
        self.min_count = _positive("min_count", min_count)
        self.max_values = _positive("max_values", max_values)
        self.buckets = None if buckets is None else _positive("buckets", buckets)
        self.missing_values = [str(v) for v in missing_values]
        self.values: list[str] = []
        self.counts = np.zeros(len(RESERVED), np.int64)
        self.hashed = self.buckets is not None
        self.fitted = False
        self._value_set: pa.Array | None = None
        self._index: dict[str, int] | None = None

    def __repr__(self) -> str:
        if not self.fitted:
            return "<CategoricalVocabulary not fitted>"
        how = f"{self.buckets} hashed buckets" if self.hashed else f"{len(self.values)} values"
        return f"<CategoricalVocabulary {how}, input_dim={self.input_dim}>"

    def __len__(self) -> int:
        return self.input_dim

    @property
    def input_dim(self) -> int:
        """Rows of the embedding table: the three reserved ids, then values or buckets."""
        return len(RESERVED) + (self.buckets if self.hashed else len(self.values))

    @property
    def index_to_key(self) -> list[str]:
        """The label of each row: reserved names, then values (or `<bucket N>`)."""
        if self.hashed:
            return [*RESERVED, *(f"<bucket {i}>" for i in range(self.buckets))]
        return [*RESERVED, *self.values]

    def fit(self, values: Any, *, what: str = "values") -> CategoricalVocabulary:
        """Count the values and keep those seen at least `min_count` times.

        Args:
            values: The column, as for `category_strings`.
            what: String. The column's name, for messages.

        Returns:
            The vocabulary itself, fitted.
        """
        strings = category_strings(values, missing_values=self.missing_values, what=what)
        if len(strings) == 0:
            raise DataError(f"{what} has no rows to learn values from. Pass a non-empty column.")
        n_missing = strings.null_count
        counted = pc.value_counts(strings.drop_null())
        keys = counted.field("values")
        freq = counted.field("counts").to_numpy().astype(np.int64)
        keep = freq >= self.min_count
        n_rare = int(freq[~keep].sum())
        if not self.hashed and int(keep.sum()) > self.max_values:
            self.hashed, self.buckets = True, self.max_values
        if self.hashed:
            self.values = []
            ids = _bucket_ids(keys, self.buckets)
            counts = np.zeros(self.input_dim, np.int64)
            np.add.at(counts, ids, freq)
            counts[MISSING_ID] = n_missing
        else:
            kept_keys = np.asarray(keys.filter(pa.array(keep)).to_pylist(), dtype=object)
            kept_freq = freq[keep]
            order = np.lexsort((kept_keys.astype(str), -kept_freq)) if len(kept_keys) else []
            self.values = [str(k) for k in kept_keys[order]]
            counts = np.concatenate([[0, n_rare, n_missing], kept_freq[order]]).astype(np.int64)
        self.counts = counts
        self.fitted = True
        self._value_set = None
        self._index = None
        return self

    def encode(self, values: Any, *, what: str = "values") -> np.ndarray:
        """Ids of raw values: int32, every id in `[0, input_dim)`."""
        return self.encode_counted(values, what=what)[0]

    def encode_counted(self, values: Any, *, what: str = "values") -> tuple[np.ndarray, int, int]:
        """(ids, values mapped to `<unk>`, missing values) of raw values."""
        self._require_fitted()
        strings = category_strings(values, missing_values=self.missing_values, what=what)
        missing = pc.is_null(strings).to_numpy(zero_copy_only=False)
        if self.hashed:
            ids = _bucket_ids(strings.fill_null(""), self.buckets)
            unknown = 0
        else:
            found = pc.index_in(strings, value_set=self._values_array())
            valid = pc.is_valid(found).to_numpy(zero_copy_only=False)
            ids = np.full(len(strings), UNKNOWN_ID, np.int64)
            ids[valid] = found.filter(pc.is_valid(found)).to_numpy() + len(RESERVED)
            unknown = int((~valid & ~missing).sum())
        ids[missing] = MISSING_ID
        return ids.astype(np.int32), unknown, int(missing.sum())

    def lookup(self, value: Any) -> int:
        """The id of one raw value (`<unk>`'s id when it was not kept)."""
        self._require_fitted()
        key = category_string(value)
        if key is None or key in self.missing_values:
            return MISSING_ID
        if self.hashed:
            return int(_bucket_ids(pa.array([key]), self.buckets)[0])
        if self._index is None:
            self._index = {v: i + len(RESERVED) for i, v in enumerate(self.values)}
        return self._index.get(key, UNKNOWN_ID)

    def _values_array(self) -> pa.Array:
        if self._value_set is None:
            self._value_set = pa.array(self.values, pa.string())
        return self._value_set

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise ConfigError(
                "this CategoricalVocabulary is not fitted yet. Call fit(values) first, or "
                "build it with from_config()."
            )

    def get_config(self) -> dict[str, Any]:
        """Settings, values and counts, JSON-safe."""
        return {
            "min_count": self.min_count,
            "max_values": self.max_values,
            "buckets": self.buckets,
            "hashed": self.hashed,
            "missing_values": list(self.missing_values),
            "values": list(self.values),
            "counts": self.counts.tolist(),
            "fitted": self.fitted,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CategoricalVocabulary:
        """Rebuild a vocabulary from `get_config()`."""
        try:
            vocab = cls(
                min_count=config["min_count"], max_values=config["max_values"],
                missing_values=config.get("missing_values", ()),
            )
            vocab.hashed = bool(config["hashed"])
            vocab.buckets = config["buckets"]
            vocab.values = [str(v) for v in config["values"]]
            vocab.counts = np.asarray(config["counts"], np.int64)
            vocab.fitted = bool(config.get("fitted", True))
        except (KeyError, TypeError) as exc:
            raise DataError(
                f"a categorical vocabulary's config lacks {exc}; expected what get_config() "
                "writes. Save the model again."
            ) from None
        if vocab.fitted and len(vocab.counts) != vocab.input_dim:
            raise DataError(
                f"a categorical vocabulary's config holds {len(vocab.counts)} counts for "
                f"{vocab.input_dim} rows. Save the model again."
            )
        return vocab


def _bucket_ids(strings: pa.Array, buckets: int) -> np.ndarray:
    """Stable bucket ids (from 3) of non-null strings."""
    from embedlab.text._hashing import token_hashes

    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    strings = strings.cast(pa.string())
    hashes = token_hashes(strings)
    return (hashes % np.uint64(buckets)).astype(np.int64) + len(RESERVED)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"`{name}` must be an integer >= 1. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


def categorical_embedding(
    vocabulary: CategoricalVocabulary,
    *,
    dim: int | None = None,
    name: str = "embedding",
):
    """The Keras embedding table of one categorical column.

    Args:
        vocabulary: CategoricalVocabulary. A fitted vocabulary; its `input_dim` is the rows.
        dim: Optional integer. Vector size; by default `embedding_size(input_dim - 1)`
            (the values plus the unknown and missing rows).
        name: String. Layer name; later tools find the table by it.
    """
    from embedlab.layers.embedding import make_embedding

    vocabulary._require_fitted()
    size = embedding_size(vocabulary.input_dim - 1) if dim is None else dim
    return make_embedding(vocabulary.input_dim, size, name=name)


def check_sizes(sizes: dict[str, int] | None, columns: Sequence[str]) -> dict[str, int]:
    """Check per-column embedding sizes: known columns, positive integers."""
    sizes = dict(sizes or {})
    for column, size in sizes.items():
        if column not in columns:
            raise ConfigError(
                f"embedding sizes name the column {column!r}, which is not a categorical "
                f"column; the categorical columns are {list(columns)}. Fix the column name."
            )
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ConfigError(
                f"the embedding size of {column!r} must be a positive integer. "
                f"Received {size!r}."
            )
    return {k: int(v) for k, v in sizes.items()}


VOCABULARIES_FORMAT = "embedlab.categorical"
VOCABULARIES_VERSION = 1


def save_vocabularies(path: str | os.PathLike, vocabularies: dict[str, CategoricalVocabulary]):
    """Write the vocabularies of several columns to one JSON file, atomically."""
    path = Path(path)
    document = {
        "format": VOCABULARIES_FORMAT,
        "version": VOCABULARIES_VERSION,
        "columns": {name: vocab.get_config() for name, vocab in vocabularies.items()},
    }
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)
    return path


def load_vocabularies(path: str | os.PathLike) -> dict[str, CategoricalVocabulary]:
    """Read the vocabularies written by `save_vocabularies`."""
    from embedlab.errors import BundleError

    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        version, columns = document["version"], document["columns"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(
            f"the categorical vocabularies {str(path)!r} cannot be read ({exc}). "
            "Train the bundle again."
        ) from None
    if not isinstance(version, int) or version > VOCABULARIES_VERSION:
        raise BundleError(
            f"{str(path)!r} has vocabulary format version {version!r}; this embedlab reads up "
            f"to {VOCABULARIES_VERSION}. Upgrade embedlab."
        )
    try:
        return {name: CategoricalVocabulary.from_config(c) for name, c in columns.items()}
    except (DataError, ConfigError) as exc:
        raise BundleError(f"the bundle's categorical vocabularies are damaged: {exc}") from None


def rule_text() -> str:
    """The size rule in words, for reports."""
    return f"min({MAX_DIM}, round(1.6 * n ** 0.56)), n = values + unknown + missing"


__all__ = [
    "MISSING_ID",
    "PAD_ID",
    "RESERVED",
    "UNKNOWN_ID",
    "CategoricalVocabulary",
    "categorical_embedding",
    "category_string",
    "category_strings",
    "check_sizes",
    "embedding_size",
    "load_vocabularies",
    "rule_text",
    "save_vocabularies",
]
