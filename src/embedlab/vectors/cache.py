"""The binary cache of parsed vectors: written once, memory-mapped afterwards.

An entry is a folder ``<cache root>/vectors/<name>-<path hash>-<key hash>/`` holding

- ``vectors.npy``: the float32 matrix (``np.load(mmap_mode="r")`` maps it),
- ``words.arrow``: the words, an Arrow IPC file (memory-mapped, so the index is cheap),
- ``meta.json``: the key, shapes, sizes, checksums and load statistics.

The key is the source's absolute path, size and modification time (nanoseconds), the
format, the limit and the load options, so a changed source is never served stale. An
entry is written in a temporary folder and renamed into place, so it is whole or absent.
On reload it is verified (meta checksum, key, file sizes, the words' CRC-32, the CRC-32
of sampled pieces of the matrix, shapes); anything amiss and the entry is deleted and
rebuilt, never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.atomic import atomic_directory
from embedlab.vectors.parsed import LoadStats

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
MATRIX_FILE = "vectors.npy"
WORDS_FILE = "words.arrow"
META_FILE = "meta.json"
_SAMPLE = 16 << 10
_SAMPLES = 64


def cache_root() -> Path:
    """Where embedlab caches go: $EMBEDLAB_CACHE_DIR, else $XDG_CACHE_HOME/embedlab,
    else ~/.cache/embedlab."""
    explicit = os.environ.get("EMBEDLAB_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "embedlab"


@dataclass
class CacheEntry:
    """One cache folder and the key it must match."""

    folder: Path
    key: dict[str, Any]
    digest: str


@dataclass
class Cached:
    """What a verified cache entry holds."""

    words: pa.Array
    matrix: np.ndarray
    stats: LoadStats
    extra: dict[str, Any] = field(default_factory=dict)


def entry_for(
    source: Path,
    *,
    format: str,
    limit: int | None,
    options: dict[str, Any],
    root: str | os.PathLike | None = None,
) -> CacheEntry:
    """The cache entry of a source file read with the given format, limit and options."""
    source = source.resolve()
    stat = source.stat()
    key = {
        "version": CACHE_VERSION,
        "source": str(source),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "format": format,
        "limit": limit,
        **options,
    }
    digest = _digest(key)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[:60] or "vectors"
    folder = Path(root) if root is not None else cache_root() / "vectors"
    name = f"{slug}-{_digest(str(source))[:10]}-{digest[:16]}"
    return CacheEntry(folder=folder / name, key=key, digest=digest)


def load(entry: CacheEntry) -> tuple[Cached | None, str]:
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
        cached = _verified(entry)
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
            "words_crc32": _crc_file(tmp / WORDS_FILE),
            "matrix_sample_crc32": _sample_crc(tmp / MATRIX_FILE),
            "stats": stats.to_dict(),
            "extra": extra or {},
        }
        meta["meta_crc32"] = _meta_crc(meta)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    _remove_stale(entry)


def _verified(entry: CacheEntry) -> Cached:
    folder = entry.folder
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    claimed = meta.pop("meta_crc32")
    if claimed != _meta_crc(meta):
        raise ValueError("meta.json does not match its checksum")
    if meta["key"] != entry.key or meta["digest"] != entry.digest:
        raise ValueError("the entry was written for another source or options")
    matrix_path, words_path = folder / MATRIX_FILE, folder / WORDS_FILE
    if matrix_path.stat().st_size != meta["matrix_bytes"]:
        raise ValueError("vectors.npy has the wrong size")
    if words_path.stat().st_size != meta["words_bytes"]:
        raise ValueError("words.arrow has the wrong size")
    if _sample_crc(matrix_path) != meta["matrix_sample_crc32"]:
        raise ValueError("vectors.npy does not match its checksum")
    if _crc_file(words_path) != meta["words_crc32"]:
        raise ValueError("words.arrow does not match its checksum")
    matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False)
    if matrix.shape != (meta["rows"], meta["dim"]) or matrix.dtype != np.float32:
        raise ValueError(f"vectors.npy holds {matrix.dtype} {matrix.shape}")
    with pa.memory_map(str(words_path), "r") as source:
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


def _digest(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _meta_crc(meta: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(meta, sort_keys=True).encode("utf-8"))


def _crc_file(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            crc = zlib.crc32(piece, crc)
    return crc


def _sample_crc(path: Path) -> int:
    """CRC-32 of the head, the tail and evenly spaced pieces of a file (plus its size)."""
    size = path.stat().st_size
    offsets = {0, max(0, size - _SAMPLE)}
    offsets.update(k * size // _SAMPLES for k in range(1, _SAMPLES))
    crc = zlib.crc32(str(size).encode())
    with open(path, "rb") as handle:
        for offset in sorted(offsets):
            handle.seek(offset)
            crc = zlib.crc32(handle.read(_SAMPLE), crc)
    return crc
