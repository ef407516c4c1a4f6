"""Approximate nearest rows: a usearch HNSW index over the unit rows, built once and
cached in a file.

The file lives inside the vectors' cache entry when the vectors came from one, else under
``cache_root()/ann/``; it is named by the index parameters and a hash of the key (rows,
dim, parameters, blake2b of the matrix). It is written to a temporary name and renamed
into place, then its JSON sidecar (the key, the file's size and sampled CRC-32), which
must match before the file is memory-mapped; anything amiss and it is rebuilt, never
served. Hits are rescored exactly by the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.atomic import atomic_file
from embedlab.errors import MissingDependencyError
from embedlab.vectors.cache import cache_root

logger = logging.getLogger(__name__)

ANN_VERSION = 1
# With "auto", a large table is searched through its HNSW index when the index exists (in
# memory or in the cache) or when a call brings this many queries: below that, building it
# (minutes) would cost more than the exact search it saves (about 30 ms a query at 2M x 300).
AUTO_BUILD_QUERIES = 1_000


class ApproximateSearch:
    """The HNSW half of `embedlab.vectors.neighbors.NeighborIndex` (its attributes:
    `exact`, `vectors`, `wordvectors`, `method`, `requested_method`, the HNSW parameters,
    `cache`, `cache_dir`, and the cache state it reports)."""

    def _approximate(self, queries: np.ndarray, wanted: int) -> np.ndarray:
        """The HNSW index's `wanted` hits per query, (q, wanted), -1 where it found fewer."""
        index = self.hnsw()
        index.expansion_search = max(self.expansion_search, wanted)
        matches = index.search(queries, wanted, threads=0)
        keys = np.asarray(matches.keys, dtype=np.int64).reshape(len(queries), -1)
        # usearch answers one query with `Matches` (no `counts`), several with `BatchMatches`
        counts = np.asarray(getattr(matches, "counts", [len(matches)])).reshape(-1, 1)
        return np.where(np.arange(keys.shape[1]) < counts, keys, -1)

    def hnsw(self):
        """The usearch index: from the cache file when it is sound, else built (and saved)."""
        if self._hnsw is not None:
            return self._hnsw
        try:
            from usearch.index import Index
        except ImportError as exc:
            raise MissingDependencyError(
                f"Approximate search needs usearch, which failed to import ({exc}). "
                f"Run `pip install usearch`, or pass method='exact'."
            ) from None
        meta = self._ann_key()
        path = self._ann_path(meta) if self.cache else None
        state = "disabled"
        if path is not None:
            index, state = load_index(Index, path, meta)
            if index is not None:
                self._hnsw, self.cache_file, self.cache_state = index, path, state
                return index
        start = time.perf_counter()
        logger.info("Building an HNSW index of %d vectors (once; it is cached).", len(self))
        index = Index(
            ndim=self.dim,
            metric="ip",
            dtype="f32",
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )
        unit = self.exact.unit_rows()
        for start_row in range(0, len(self), 1 << 18):
            stop = min(start_row + (1 << 18), len(self))
            index.add(np.arange(start_row, stop, dtype=np.uint64), unit[start_row:stop], threads=0)
        self.build_seconds = time.perf_counter() - start
        if self.method == "approximate":
            self.exact.drop_unit_rows()
        if path is not None:
            try:
                save_index(index, path, meta)
                self.cache_file = path
                state = "rebuilt (the cached one was unusable)" if state == "corrupt" else "created"
            except OSError as exc:
                logger.warning("Could not write the HNSW index %s: %s", path, exc)
                state = f"not written ({exc.strerror or exc})"
        self._hnsw, self.cache_state = index, state
        return index

    def _use_approximate(self, queries: int) -> bool:
        """Whether this call goes through the HNSW index (see AUTO_BUILD_QUERIES)."""
        if self.method != "approximate":
            return False
        if self.requested_method == "approximate" or self._hnsw is not None:
            return True
        if queries >= AUTO_BUILD_QUERIES:
            return True
        if self.cache and self._ann_path(self._ann_key()).exists():
            return True
        logger.info("Searching %d rows exactly: no HNSW index is cached yet, and %d queries "
                    "do not pay for building one (method='approximate' builds it).",
                    len(self), queries)
        return False

    def _ann_key(self) -> dict[str, Any]:
        if self._meta is not None:
            return self._meta
        import usearch

        self._meta = {
            "version": ANN_VERSION,
            "rows": len(self),
            "dim": self.dim,
            "metric": "ip on unit rows",
            "dtype": "f32",
            "connectivity": self.connectivity,
            "expansion_add": self.expansion_add,
            "matrix_blake2b": matrix_hash(self.vectors),
            "usearch": getattr(usearch, "__version__", "?"),
        }
        return self._meta

    def _ann_path(self, meta: dict[str, Any]) -> Path:
        """Inside the vectors' cache entry when there is one, else under cache_root()/ann."""
        entry = getattr(self.wordvectors, "cache_path", None)
        if entry is not None and Path(entry).is_dir():
            folder = Path(entry)
        elif self.cache_dir is not None:
            folder = Path(self.cache_dir).expanduser()
        else:
            folder = cache_root() / "ann"
        digest = hashlib.blake2b(json.dumps(meta, sort_keys=True).encode(), digest_size=10)
        name = f"hnsw-c{self.connectivity}-e{self.expansion_add}-{digest.hexdigest()}.usearch"
        return folder / name


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
