"""What every reader hands back, the load statistics, and the checks they share.

A reader produces raw words (bytes) and a float32 matrix; `finish` turns them into a
`Parsed` result: words decoded as UTF-8 (invalid bytes replaced and counted), duplicate
words dropped (first kept, counted) and rows with NaN or infinite values handled by the
chosen policy. Rows are dropped in place, so no second copy of a large matrix is made.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.errors import ConfigError, VectorsError

Progress = Callable[[int, int], None]
"""A progress callback: called with (bytes done, bytes in all) while a file is read."""

BAD_LINE_POLICIES = ("error", "skip")
NONFINITE_POLICIES = ("error", "skip", "zero")


@dataclass
class LoadStats:
    """What a load met on its way: counts of the lines and words it skipped or fixed.

    Attributes:
        lines: Integer. Lines (or records) read from the file, header excluded.
        words: Integer. Words kept.
        skipped_lines: Integer. Malformed lines skipped under ``on_bad_line="skip"``.
        empty_lines: Integer. Blank lines, ignored.
        duplicates: Integer. Repeated words dropped (the first one is kept).
        bad_utf8: Integer. Words whose bytes were not valid UTF-8 (decoded with U+FFFD).
        nonfinite: Integer. Rows with NaN or infinite values (skipped or zeroed).
        first_skipped: List of integers. Line numbers of the first skipped lines.
    """

    lines: int = 0
    words: int = 0
    skipped_lines: int = 0
    empty_lines: int = 0
    duplicates: int = 0
    bad_utf8: int = 0
    nonfinite: int = 0
    first_skipped: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadStats:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def note_skipped(self, line_no: int) -> None:
        self.skipped_lines += 1
        if len(self.first_skipped) < 10:
            self.first_skipped.append(int(line_no))

    def problems(self) -> str:
        """A short phrase of what was skipped or fixed, or '' when nothing was."""
        parts = []
        for name in ("skipped_lines", "duplicates", "bad_utf8", "nonfinite", "empty_lines"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name.replace('_', ' ')}: {value}")
        return ", ".join(parts)


@dataclass
class Parsed:
    """A reader's result: decoded words, their float32 matrix, and the load statistics."""

    words: pa.Array  # pa.string(), row-aligned with `matrix`
    matrix: np.ndarray
    stats: LoadStats
    subwords: Any = None  # a fasttext_bin.SubwordTable, for fasttext-bin sources
    extra: dict[str, Any] = field(default_factory=dict)


def allocate_matrix(rows: int, dim: int, *, populate: bool = True) -> np.ndarray:
    """An uninitialised float32 (rows, dim) matrix, its pages mapped up front when large.

    Touching fresh memory page by page costs a fault per page (slow in virtual machines);
    an anonymous mapping with MAP_POPULATE gets all pages in one system call. Pass
    populate=False when `rows` is a generous guess: untouched pages then cost nothing.
    """
    nbytes = rows * dim * 4
    if populate and nbytes >= 16 << 20 and hasattr(mmap, "MAP_POPULATE"):
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE
        try:
            mapping = mmap.mmap(-1, nbytes, flags=flags)
        except (OSError, ValueError):
            pass
        else:
            return np.frombuffer(mapping, dtype=np.float32).reshape(rows, dim)
    return np.empty((rows, dim), dtype=np.float32)


def grow_matrix(matrix: np.ndarray, used: int, rows: int) -> np.ndarray:
    """A matrix of `rows` rows holding the first `used` rows of `matrix`."""
    bigger = allocate_matrix(rows, matrix.shape[1])
    bigger[:used] = matrix[:used]
    return bigger


def claim_error(name: str, claim: str, needed: int, size: int, fix: str) -> VectorsError:
    """The error for a header claim that the file cannot hold (checked before allocating).

    Args:
        name: String. The file.
        claim: String. What the header says, e.g. "200 words of 1000000000 dimensions".
        needed: Integer. The fewest bytes a file making that claim holds.
        size: Integer. The real size of the file (or of the part the claim is about).
        fix: String. What to do.
    """
    return VectorsError(
        f"The header of {name!r} says {claim}, which needs at least {needed:,} bytes, but "
        f"the file holds {size:,}. Is the header damaged or the file truncated? {fix}"
    )


def check_policies(on_bad_line: str, on_nonfinite: str) -> None:
    if on_bad_line not in BAD_LINE_POLICIES:
        raise ConfigError(
            f"on_bad_line must be one of {', '.join(BAD_LINE_POLICIES)}. "
            f"Received: on_bad_line={on_bad_line!r}."
        )
    if on_nonfinite not in NONFINITE_POLICIES:
        raise ConfigError(
            f"on_nonfinite must be one of {', '.join(NONFINITE_POLICIES)}. "
            f"Received: on_nonfinite={on_nonfinite!r}."
        )


def decode_words(raw: pa.Array, stats: LoadStats) -> pa.Array:
    """Binary words to a UTF-8 string array; invalid bytes become U+FFFD and are counted."""
    string_type = pa.large_string() if pa.types.is_large_binary(raw.type) else pa.string()
    try:
        return raw.cast(string_type)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    decoded = []
    for item in raw.to_pylist():
        try:
            decoded.append(item.decode("utf-8"))
        except UnicodeDecodeError:
            stats.bad_utf8 += 1
            decoded.append(item.decode("utf-8", errors="replace"))
    return pa.array(decoded, type=string_type)


def nonfinite_rows(block: np.ndarray) -> np.ndarray:
    """Indices of the rows of `block` that hold a NaN or an infinity."""
    if np.isfinite(np.add.reduce(block, axis=None)):  # one pass; NaN and inf propagate
        return np.empty(0, dtype=np.int64)
    if np.isfinite(block).all():  # the sum overflowed: the values are large, not bad
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(~np.isfinite(block).all(axis=1))


def finish(
    raw_words: pa.Array,
    matrix: np.ndarray,
    stats: LoadStats,
    *,
    bad_rows: np.ndarray,
    on_nonfinite: str,
    describe_row: Callable[[int], str],
    hashes: np.ndarray | None = None,
) -> Parsed:
    """Decode words, then drop duplicates and non-finite rows, in place.

    Args:
        raw_words: Binary Arrow array. The words as read, row-aligned with `matrix`.
        matrix: Float32 array. The vectors, (rows, dim); rows are moved in place.
        stats: LoadStats. Updated with the counts.
        bad_rows: Integer array. Rows holding NaN or infinite values, sorted.
        on_nonfinite: String. "error", "skip" (drop the rows) or "zero" (zero the values).
        describe_row: Callable. Names the place of a row in the file, for messages.
        hashes: Optional uint64 array. `word_hashes` of the raw words, when the reader's
            threads computed them already; no two equal means no duplicate words.
    """
    words = decode_words(raw_words, stats)
    keep = None
    if len(bad_rows):
        stats.nonfinite = int(len(bad_rows))
        first = int(bad_rows[0])
        if on_nonfinite == "error":
            raise VectorsError(
                f"{describe_row(first)} holds a NaN or infinite value (word "
                f"{words[first].as_py()!r}; {len(bad_rows)} such rows in all). Fix the file, "
                f"or pass on_nonfinite='skip' (CLI: --on-nonfinite skip) to drop them or "
                f"'zero' to zero the bad values."
            )
        if on_nonfinite == "zero":
            if not matrix.flags.writeable:
                matrix = np.array(matrix)
            for row in bad_rows:
                values = matrix[row]
                values[~np.isfinite(values)] = 0.0
        elif len(bad_rows) == len(words):
            raise VectorsError(
                f"every row read holds a NaN or infinite value ({len(bad_rows)} rows, the "
                f"first at {describe_row(first)}), so on_nonfinite='skip' leaves no vectors. "
                f"Fix the file, or pass on_nonfinite='zero'."
            )
        else:
            keep = np.ones(len(words), dtype=bool)
            keep[bad_rows] = False
    n_kept = len(words) if keep is None else int(keep.sum())
    if hashes is None and not stats.bad_utf8:
        hashes = word_hashes(raw_words)
    if hashes is not None and not stats.bad_utf8:
        ordered = np.sort(hashes if keep is None else hashes[keep])
        suspects = bool((ordered[1:] == ordered[:-1]).any())
    else:
        subset = words if keep is None else words.filter(pa.array(keep))
        suspects = len(subset.unique()) != n_kept
    if suspects:  # equal words always have equal hashes; the exact check settles collisions
        keep = _first_occurrences(words, keep)
        stats.duplicates = n_kept - int(keep.sum())
    if keep is not None:
        words = words.filter(pa.array(keep))
        matrix = compact_rows(matrix, np.flatnonzero(keep))
    stats.words = len(words)
    return Parsed(words=words, matrix=matrix, stats=stats)


_HASH_BASE = 1099511628211  # odd, so invertible modulo 2**64
_HASH_BASE_INV = pow(_HASH_BASE, -1, 2**64)
_HASH_LENGTH = np.uint64(0x9E3779B97F4A7C15)


def word_hashes(words: pa.Array) -> np.ndarray:
    """A 64-bit polynomial hash of each word of a binary array, vectorised with numpy."""
    n = len(words)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    offset_type = np.int64 if pa.types.is_large_binary(words.type) else np.int32
    offsets = np.frombuffer(words.buffers()[1], dtype=offset_type)[
        words.offset : words.offset + n + 1
    ].astype(np.int64)
    data = np.frombuffer(words.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets -= offsets[0]
    powers = np.full(len(data) + 1, np.uint64(_HASH_BASE), dtype=np.uint64)
    powers[0] = 1
    np.cumprod(powers, out=powers)
    inverse = np.full(len(data) + 1, np.uint64(_HASH_BASE_INV), dtype=np.uint64)
    inverse[0] = 1
    np.cumprod(inverse, out=inverse)
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum(data * powers[:-1], out=prefix[1:])
    start, end = offsets[:-1], offsets[1:]
    lengths = (end - start).astype(np.uint64)
    return (prefix[end] - prefix[start]) * inverse[start] + lengths * _HASH_LENGTH


def _first_occurrences(words: pa.Array, keep: np.ndarray | None) -> np.ndarray:
    mask = np.ones(len(words), dtype=bool) if keep is None else keep.copy()
    seen: set[str] = set()
    for i, word in enumerate(words.to_pylist()):
        if not mask[i]:
            continue
        if word in seen:
            mask[i] = False
        else:
            seen.add(word)
    return mask


def compact_rows(matrix: np.ndarray, keep_idx: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """Move the rows `keep_idx` (sorted) to the front of `matrix`, in place; return the view.

    Safe because each kept row moves to a position at or before its own: every block
    reads rows at or beyond the rows it writes, and later blocks read further on still.
    A read-only matrix (memory-mapped) is copied instead.
    """
    if not matrix.flags.writeable:
        return matrix[keep_idx]
    for start in range(0, len(keep_idx), block):
        idx = keep_idx[start : start + block]
        matrix[start : start + len(idx)] = matrix[idx]
    return matrix[: len(keep_idx)]
