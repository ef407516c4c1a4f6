"""Categorical columns: one vocabulary per column, values to the rows of its table.

Values are normalised to strings first (`embedlab.text.categories.category_strings`). Ids
follow the text encoder's convention:

    0  <pad>       reserved, never produced for a single value
    1  <unk>       a value not kept: rarer than `min_count`, or never seen in training
    2  <missing>   null, NaN, blank text, or one of `missing_values`: a value of its own
    3, 4, ...      the kept values, most frequent first (ties in code-point order)

A column with more than `max_values` distinct kept values (or given `buckets`) is hashed
instead: each value goes to one of `buckets` rows by a stable hash of its UTF-8 bytes (the
same in every process), so a table of millions of IDs keeps a fixed size.

numpy and pyarrow only; the Keras table is made in `embedlab.layers.categorical`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.arrayfiles import ArrayFileError, read_npz
from embedlab.atomic import write_text
from embedlab.errors import BundleError, ConfigError, DataError
from embedlab.text._hashing import token_hashes
from embedlab.text.categories import category_string, category_strings

log = logging.getLogger(__name__)

PAD, UNK, MISSING = "<pad>", "<unk>", "<missing>"
PAD_ID, UNKNOWN_ID, MISSING_ID = 0, 1, 2
RESERVED = (PAD, UNK, MISSING)


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
        max_values: Optional integer >= 1. With more kept values than this, the column is
            hashed into `max_values` buckets instead (when `buckets` is not given), with a
            warning; None (default) keeps every value.
        buckets: Optional integer >= 1. Hash every kept value into this many rows, by a
            stable hash of its UTF-8 bytes (the same in every process); values that share
            a bucket share its row (`collisions` counts them). The vocabulary keeps the
            64-bit hashes of the values it saw, so a value never seen in training (or
            rarer than `min_count`) still maps to `<unk>` and is counted.
        missing_values: Iterable of strings. Text that counts as missing (e.g. "?").

    Attributes:
        values: List of str. The kept values, in id order from 3 (empty when hashed).
        counts: int64 array, one count per row: training rows with that value. The `<unk>`
            row counts values too rare to keep; `<missing>` the missing ones.
        hashed: Boolean. Whether values are hashed into buckets.
        distinct: Integer. Distinct values kept in training.
        collisions: Integer. Kept values that share a bucket with another (hashed only).
    """

    def __init__(
        self,
        *,
        min_count: int = 1,
        max_values: int | None = None,
        buckets: int | None = None,
        missing_values: Iterable[str] = (),
    ) -> None:
        self.min_count = _positive("min_count", min_count)
        self.max_values = None if max_values is None else _positive("max_values", max_values)
        self.buckets = None if buckets is None else _positive("buckets", buckets)
        self.missing_values = [str(v) for v in missing_values]
        self._value_set: pa.Array = pa.array([], pa.string())  # the kept values, by id
        self.counts = np.zeros(len(RESERVED), np.int64)
        self.hashed = self.buckets is not None
        self.fitted = False
        self.distinct = 0
        self.collisions = 0
        self.seen_hashes: np.ndarray | None = None  # sorted uint64 (hashed tables)
        self._index: dict[str, int] | None = None

    def __repr__(self) -> str:
        if not self.fitted:
            return "<CategoricalVocabulary not fitted>"
        how = f"{self.buckets} hashed buckets" if self.hashed else f"{len(self._value_set)} values"
        return f"<CategoricalVocabulary {how}, input_dim={self.input_dim}>"

    @property
    def values(self) -> list[str]:
        """The kept values, most frequent first (a new list: the vocabulary holds them as
        one Arrow array, a few bytes each, where millions of Python strings take ~60)."""
        return self._value_set.to_pylist()

    @values.setter
    def values(self, values) -> None:
        self._value_set = pa.array(list(values), pa.string())
        self._index = None

    def __len__(self) -> int:
        return self.input_dim

    @property
    def input_dim(self) -> int:
        """Rows of the embedding table: the three reserved ids, then values or buckets."""
        return len(RESERVED) + (self.buckets if self.hashed else len(self._value_set))

    @property
    def index_to_key(self) -> list[str]:
        """The label of each row: reserved names, then values (or `<bucket N>`)."""
        if self.hashed:
            return [*RESERVED, *(f"<bucket {i}>" for i in range(self.buckets))]
        return [*RESERVED, *self._value_set.to_pylist()]

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
        counted = pc.value_counts(strings.drop_null())
        return self.fit_counts(counted.field("values"), counted.field("counts").to_numpy(),
                               missing=strings.null_count, what=what)

    def fit_counts(self, keys: pa.Array, counts: np.ndarray, *, missing: int = 0,
                   what: str = "values") -> CategoricalVocabulary:
        """Fit from values already counted (`embedlab.text.value_counts.ValueCounter`, for
        a column streamed in pieces): distinct normalised strings, their counts, and the
        number of missing values."""
        n_missing = int(missing)
        freq = np.asarray(counts).astype(np.int64)
        if len(keys) != len(freq):
            raise DataError(f"{what}: {len(keys)} values but {len(freq)} counts.")
        if len(keys) == 0 and n_missing == 0:
            raise DataError(f"{what} has no rows to learn values from. Pass a non-empty column.")
        keep = freq >= self.min_count
        n_rare = int(freq[~keep].sum())
        self.distinct = int(keep.sum())
        kept = pa.table({"value": keys.filter(pa.array(keep)), "count": freq[keep]})
        if not self.hashed and self.max_values is not None and self.distinct > self.max_values:
            log.warning("%s has %d distinct values, more than max_values=%d: hashing them into "
                        "%d buckets.", what, self.distinct, self.max_values, self.max_values)
            self.hashed, self.buckets = True, self.max_values
        if self.hashed:
            self.values = []
            hashes = _hashes(kept["value"])
            ids = (hashes % np.uint64(self.buckets)).astype(np.int64) + len(RESERVED)
            counts = np.zeros(self.input_dim, np.int64)
            np.add.at(counts, ids, kept["count"].to_numpy())
            counts[UNKNOWN_ID], counts[MISSING_ID] = n_rare, n_missing
            self.seen_hashes = np.unique(hashes)
            self.collisions = self.distinct - int(len(np.unique(ids)))
        else:
            order = pc.sort_indices(kept, [("count", "descending"), ("value", "ascending")])
            kept = kept.take(order)
            self._value_set = kept["value"].combine_chunks().cast(pa.string())
            counts = np.concatenate([[0, n_rare, n_missing],
                                     kept["count"].to_numpy()]).astype(np.int64)
        self.counts = counts
        self.fitted = True
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
            hashes = _hashes(strings.fill_null(""))
            ids = (hashes % np.uint64(self.buckets)).astype(np.int64) + len(RESERVED)
            unseen = ~self._seen(hashes) & ~missing
            ids[unseen] = UNKNOWN_ID
            unknown = int(unseen.sum())
        else:
            found = pc.index_in(strings, value_set=self.value_array())
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
            hashes = _hashes(pa.array([key], pa.string()))
            if not self._seen(hashes)[0]:
                return UNKNOWN_ID
            return int(hashes[0] % np.uint64(self.buckets)) + len(RESERVED)
        if self._index is None:
            self._index = {v: i + len(RESERVED) for i, v in enumerate(self.values)}
        return self._index.get(key, UNKNOWN_ID)

    def _seen(self, hashes: np.ndarray) -> np.ndarray:
        """Which hashes belong to values kept in training (all, for a hashed vocabulary
        saved without its hashes by an older release)."""
        if self.seen_hashes is None:
            return np.ones(len(hashes), bool)
        at = np.searchsorted(self.seen_hashes, hashes)
        at = np.minimum(at, max(len(self.seen_hashes) - 1, 0))
        return (self.seen_hashes[at] == hashes) if len(self.seen_hashes) else np.zeros(
            len(hashes), bool)

    def describe(self) -> dict[str, Any]:
        """What the table holds: distinct values, rows, hashing and its collisions, and the
        training rows of rare and missing values."""
        return {"values": self.distinct, "rows": self.input_dim,
                "hashed": self.buckets if self.hashed else None,
                "collisions": self.collisions if self.hashed else 0,
                "rare": int(self.counts[UNKNOWN_ID]), "missing": int(self.counts[MISSING_ID])}

    def value_array(self) -> pa.Array:
        """The kept values as one Arrow string array (id - 3 is the position)."""
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
            "values": self.values,
            "counts": self.counts.tolist(),
            "fitted": self.fitted,
            "distinct": self.distinct,
            "collisions": self.collisions,
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
            vocab.distinct = int(config.get("distinct", len(vocab.values)))
            vocab.collisions = int(config.get("collisions", 0))
        except (KeyError, TypeError) as exc:
            raise DataError(
                f"a categorical vocabulary's config lacks {exc}; expected what get_config() "
                "writes. Save the model again."
            ) from None
        except (ValueError, OverflowError) as exc:
            raise DataError(
                f"a categorical vocabulary's config holds a value out of range ({exc}); "
                "expected what get_config() writes. Save the model again."
            ) from None
        if vocab.fitted and len(vocab.counts) != vocab.input_dim:
            raise DataError(
                f"a categorical vocabulary's config holds {len(vocab.counts)} counts for "
                f"{vocab.input_dim} rows. Save the model again."
            )
        return vocab


def _hashes(strings: pa.Array) -> np.ndarray:
    """Stable 64-bit hashes (uint64) of non-null strings' UTF-8 bytes."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    return token_hashes(strings.cast(pa.string()))


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"`{name}` must be an integer >= 1. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


VOCABULARIES_FORMAT = "embedlab.categorical"
VOCABULARIES_VERSION = 1


def save_vocabularies(path: str | os.PathLike, vocabularies: dict[str, CategoricalVocabulary],
                      *, hashes: str | os.PathLike | None = None):
    """Write the vocabularies of several columns to one JSON file, atomically, and the
    seen-value hashes of the hashed ones to the `.npz` file `hashes` (when any is hashed)."""
    path = Path(path)
    document = {
        "format": VOCABULARIES_FORMAT,
        "version": VOCABULARIES_VERSION,
        "columns": {name: vocab.get_config() for name, vocab in vocabularies.items()},
    }
    seen = {name: vocab.seen_hashes for name, vocab in vocabularies.items()
            if vocab.hashed and vocab.seen_hashes is not None}
    if seen and hashes is not None:
        from embedlab.atomic import atomic_file

        with atomic_file(hashes) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **{f"c{i}": seen[name] for i, name in enumerate(sorted(seen))},
                     names=np.array(sorted(seen)))
    return write_text(path, json.dumps(document, ensure_ascii=False) + "\n")


def load_vocabularies(path: str | os.PathLike, *, hashes: str | os.PathLike | None = None
                      ) -> dict[str, CategoricalVocabulary]:
    """Read the vocabularies written by `save_vocabularies` (and their seen-value hashes
    from `hashes`, when it exists)."""
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
        found = {name: CategoricalVocabulary.from_config(c) for name, c in columns.items()}
    except (DataError, ConfigError) as exc:
        raise BundleError(f"the bundle's categorical vocabularies are damaged: {exc}") from None
    if hashes is not None and Path(hashes).exists():
        try:
            stored = read_npz(hashes)
            names = stored.pop("names")
            for i, name in enumerate(names.tolist()):
                found[name].seen_hashes = stored[f"c{i}"].astype(np.uint64)
        except (ArrayFileError, KeyError, TypeError, ValueError) as exc:
            raise BundleError(
                f"the value hashes {str(hashes)!r} are damaged ({exc}). Train the bundle again."
            ) from None
    return found
