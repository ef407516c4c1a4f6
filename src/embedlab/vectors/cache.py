"""The binary cache of parsed vectors: written once, memory-mapped afterwards.

An entry is a folder ``<cache root>/vectors/<name>-<path hash>-<key hash>/`` holding

- ``vectors.npy``: the float32 matrix (``np.load(mmap_mode="r")`` maps it),
- ``words.arrow``: the words, an Arrow IPC file (memory-mapped, so the index is cheap),
- ``meta.json``: the key, shapes, sizes, checksums and load statistics.

The key is the source's absolute path, size and modification time (nanoseconds), the
format, the limit and the load options, so a changed source is never served stale. An
entry is written in a temporary folder and renamed into place, so it is whole or absent.
On reload it is checked (meta checksum, key, file sizes, the words' CRC-32, the CRC-32
of sampled pieces of the matrix, shapes); anything amiss and the entry is deleted and
rebuilt. That catches a truncated, swapped or partly written entry at no cost (the matrix
is memory-mapped, never read whole), but not a float changed in place between the sampled
pieces: the cache is local state, like any file in the user's own folder. ``verify=True``
(CLI: ``--verify``) also checks the CRC-32 of the whole matrix, written with the entry;
on 1M x 300 floats (1.2 GB) that costs 0.59 s against 0.001 s for the mapped load.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.atomic import atomic_directory
from embedlab.vectors.cache_index import (
    MATRIX_FILE,
    META_FILE,
    WORDS_FILE,
    CacheEntry,
    cache_root,
    crc_file,
    entry_for,
    meta_crc,
    sample_crc,
    verified_meta,
)
from embedlab.vectors.parsed import LoadStats

logger = logging.getLogger(__name__)



@dataclass
class Cached:
    """What a verified cache entry holds."""

    words: pa.Array
    matrix: np.ndarray
    stats: LoadStats
    extra: dict[str, Any] = field(default_factory=dict)


def load(entry: CacheEntry, *, verify: bool = False) -> tuple[Cached | None, str]:
    """Return (the cached vectors, "reused"), or (None, "missing" or "corrupt").

    A corrupt entry is deleted, so that the caller rebuilds it.
    """
    meta_path = entry.folder / META_FILE
    if not meta_path.is_file():
        if entry.folder.exists():
            _discard(entry, "it has no meta.json")
            return None, "corrupt"
        return None, "missing"
    try:
        cached = _verified(entry, verify)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        _discard(entry, str(exc))
        return None, "corrupt"
    return cached, "reused"


def store(
    entry: CacheEntry,
    words: pa.Array,
    matrix: np.ndarray,
    stats: LoadStats,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write an entry atomically; remove the stale entries of the same source path."""
    rows, dim = matrix.shape
    with atomic_directory(entry.folder) as tmp:
        with open(tmp / MATRIX_FILE, "wb") as handle:
            np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32))
        string_words = words.cast(
            pa.large_string()
            if len(words) and pa.types.is_large_string(words.type)
            else pa.string()
        )
        table = pa.table({"word": string_words})
        with pa.OSFile(str(tmp / WORDS_FILE), "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        meta = {
            "key": entry.key,
            "digest": entry.digest,
            "rows": rows,
            "dim": dim,
            "matrix_bytes": (tmp / MATRIX_FILE).stat().st_size,
            "words_bytes": (tmp / WORDS_FILE).stat().st_size,
            "words_crc32": crc_file(tmp / WORDS_FILE),
            "matrix_sample_crc32": sample_crc(tmp / MATRIX_FILE),
            "matrix_crc32": crc_file(tmp / MATRIX_FILE),
            "stats": stats.to_dict(),
            "extra": extra or {},
            "summary": norm_summary(matrix),
        }
        meta["meta_crc32"] = meta_crc(meta)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    _remove_stale(entry)


def _verified(entry: CacheEntry, verify: bool) -> Cached:
    meta = verified_meta(entry)
    if verify and crc_file(entry.folder / MATRIX_FILE) != meta.get("matrix_crc32"):
        raise ValueError("vectors.npy does not match its full checksum")
    folder = entry.folder
    matrix = np.load(folder / MATRIX_FILE, mmap_mode="r", allow_pickle=False)
    if matrix.shape != (meta["rows"], meta["dim"]) or matrix.dtype != np.float32:
        raise ValueError(f"vectors.npy holds {matrix.dtype} {matrix.shape}")
    with pa.memory_map(str(folder / WORDS_FILE), "r") as source:
        table = pa.ipc.open_file(source).read_all()
    words = table.column(0).combine_chunks()
    if len(words) != meta["rows"]:
        raise ValueError("words.arrow and vectors.npy disagree on the number of rows")
    return Cached(words, matrix, LoadStats.from_dict(meta["stats"]), meta.get("extra", {}))


def _discard(entry: CacheEntry, reason: str) -> None:
    logger.warning(
        "Discarding the corrupt vectors cache %s (%s); rebuilding it.", entry.folder, reason
    )
    shutil.rmtree(entry.folder, ignore_errors=True)


def _remove_stale(entry: CacheEntry) -> None:
    """Delete entries of the same source path whose source size or mtime differ."""
    prefix = entry.folder.name.rsplit("-", 1)[0] + "-"
    for sibling in entry.folder.parent.glob(prefix + "*"):
        if sibling == entry.folder or not sibling.is_dir() or sibling.name.startswith("."):
            continue
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            key = json.loads((sibling / META_FILE).read_text(encoding="utf-8"))["key"]
            if (key.get("size"), key.get("mtime_ns")) != (
                entry.key["size"],
                entry.key["mtime_ns"],
            ):
                shutil.rmtree(sibling, ignore_errors=True)


def norm_summary(matrix: np.ndarray) -> dict[str, float]:
    """The row norms' minimum, mean and maximum (what `vectors info` shows), in blocks."""
    low, high, total = np.inf, -np.inf, 0.0
    for start in range(0, len(matrix), 1 << 16):
        norms = np.linalg.norm(np.asarray(matrix[start:start + (1 << 16)], np.float32), axis=1)
        if len(norms):
            low, high = min(low, float(norms.min())), max(high, float(norms.max()))
            total += float(norms.sum(dtype=np.float64))
    if not len(matrix):
        return {"norm_min": 0.0, "norm_mean": 0.0, "norm_max": 0.0}
    return {"norm_min": low, "norm_mean": total / len(matrix), "norm_max": high}


__all__ = ["CacheEntry", "Cached", "cache_root", "entry_for", "load", "norm_summary", "store"]
