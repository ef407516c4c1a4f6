"""The cached HNSW index files of `embedlab.inspect.neighbors`: keys, checks, atomic saves.

A file is written to a temporary name and renamed into place, then its JSON sidecar (the
key, the file's size and sampled CRC-32), which must match before the file is
memory-mapped; anything amiss and the caller rebuilds it, never serves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.vectors.fileio import atomic_file

logger = logging.getLogger(__name__)

_ROWS_PER_STEP = 1 << 16  # rows hashed per step


def matrix_hash(matrix: np.ndarray) -> str:
    """blake2b of the shape and the float32 rows (in C order).

    The index maps row numbers, so the words do not enter: relabelled vectors reuse it.
    """
    digest = hashlib.blake2b(str(matrix.shape).encode(), digest_size=16)
    for start in range(0, len(matrix), _ROWS_PER_STEP):
        rows = np.ascontiguousarray(matrix[start : start + _ROWS_PER_STEP], dtype=np.float32)
        digest.update(memoryview(rows).cast("B"))
    return digest.hexdigest()


def _sampled_crc(path: Path, pieces: int = 64, size: int = 16 << 10) -> int:
    """CRC-32 of the file's length, head, tail and evenly spaced pieces."""
    total = path.stat().st_size
    offsets = sorted({0, max(0, total - size), *(i * total // pieces for i in range(1, pieces))})
    crc = zlib.crc32(str(total).encode())
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            crc = zlib.crc32(handle.read(size), crc)
    return crc


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def load_index(index_class, path: Path, meta: dict[str, Any]):
    """(the index memory-mapped from `path`, "reused"), or (None, "missing" or "corrupt")."""
    sidecar = _sidecar(path)
    if not path.exists() and not sidecar.exists():
        return None, "missing"
    try:
        saved = json.loads(sidecar.read_text(encoding="utf-8"))
        if saved.get("key") != meta:
            raise ValueError("it was built for other vectors or parameters")
        if path.stat().st_size != saved["bytes"] or _sampled_crc(path) != saved["crc32"]:
            raise ValueError("its size or checksum differs from its sidecar")
        index = index_class.restore(str(path), view=True)
        if index is None or index.size != meta["rows"] or index.ndim != meta["dim"]:
            raise ValueError("it holds another number of vectors")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        logger.warning("Discarding the HNSW index %s (%s); rebuilding it.", path, exc)
        for stale in (path, sidecar):
            with contextlib.suppress(OSError):
                stale.unlink()
        return None, "corrupt"
    return index, "reused"


def save_index(index, path: Path, meta: dict[str, Any]) -> None:
    """Write the index, then its sidecar, each to a temporary name renamed into place."""
    with atomic_file(path) as tmp:
        index.save(str(tmp))
        saved = {"key": meta, "bytes": tmp.stat().st_size, "crc32": _sampled_crc(tmp)}
    with atomic_file(_sidecar(path)) as tmp:
        tmp.write_text(json.dumps(saved, indent=1, sort_keys=True), encoding="utf-8")
