"""Nearest neighbours of word vectors by cosine: exact and batched, or approximate (HNSW).

Exact search takes the queries in blocks (in threads, one per core) and scores each block
against chunks of the unit-normalised table, one matrix product per chunk, keeping only
the maximum of each group of 64 rows (rows ``c, c + w, c + 2w...`` of a chunk, so the
maximum is a vertical, vectorised reduction). The `m` best rows of a query lie in the
groups whose maximum reaches the `m`-th largest group maximum, less twice a bound on the
float32 rounding; their rows are narrowed the same way by their unit-row scores, and the
dozen or so left are rescored as gensim's ``KeyedVectors.most_similar`` scores them
(``dot(raw rows, unit query) / row norms`` in float32: float32 norms, the query
normalised in float64, one sgemv per query) and sorted by score, ties by row number. So
the lists equal gensim's, scores to the last bit, where its BLAS computes them the same
way (OpenBLAS scores rows in blocks of 4; the rescoring keeps to such blocks), except
the order of exact ties, which gensim leaves to argpartition. A selection over all
400,000 scores of each query (argpartition) would cost more than the matrix products;
the group maxima cost a fifth of them.

Approximate search is a usearch HNSW index (inner product on the unit rows, float32),
built once and cached in a file: inside the vectors' cache entry when the vectors came
from one, else under ``cache_root()/ann/``; named by the index parameters and a hash of
the key (rows, dim, parameters, blake2b of the matrix). A file is written to a temporary
name and renamed into place, then its JSON sidecar (the key, the file's size and sampled
CRC-32), which must match before the file is memory-mapped; anything amiss and it is
rebuilt, never served. Its hits are rescored exactly, like the exact path's.

Scores: cosine similarity. A zero-norm row scores 0 against every query (never NaN,
unlike gensim's 0/0); a zero query vector scores 0 against every row, and then the
first rows in table order are its neighbours.

numpy, pyarrow and usearch only (and threadpoolctl when installed, to keep BLAS to one
thread per worker): nothing here imports Keras or JAX.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

try:  # optional: keeps BLAS to one thread per worker (see NeighborIndex._exact)
    from threadpoolctl import threadpool_limits as _blas_limits
except ImportError:  # pragma: no cover
    _blas_limits = None

from embedlab.errors import ConfigError, MissingDependencyError, VectorsError
from embedlab.inspect.ann_cache import load_index, matrix_hash, save_index
from embedlab.vectors.cache import cache_root
from embedlab.vectors.wordvectors import WordVectors

logger = logging.getLogger(__name__)

METHODS = ("auto", "exact", "approximate")
# "auto" turns approximate from this many rows. Measured here (2 cores): exact search costs
# about 1 s per 1,000 queries on 400,000 x 50 and grows with rows x dim, so a 2,000,000 x 300
# table takes ~30 s per 1,000 queries; its HNSW index is built once (minutes, cached) and
# answers 1,000 queries in well under a second. Below this size exact is fast enough and
# needs no build.
AUTO_APPROXIMATE_ROWS = 2_000_000
# With "auto", a large table is searched through its HNSW index when the index exists (in
# memory or in the cache) or when a call brings this many queries: below that, building it
# (minutes) would cost more than the exact search it saves (about 30 ms a query at 2M x 300).
AUTO_BUILD_QUERIES = 1_000
ANN_VERSION = 1
_GROUP = 64  # rows per group maximum
_CHUNK = 8192  # table rows per matrix product (a multiple of _GROUP)
_BLOCK = 256  # queries per matrix product
_MAX_BYTES = 128 << 20  # group maxima held at a time, all workers together
_MAX_WORKERS = 8
_CROWDED = 16  # more candidates than this many times those wanted: score every row
_ROWS_PER_STEP = 1 << 16  # rows per step when normalising or hashing the table


class UnknownKeyError(VectorsError, KeyError):
    """A query word is not in the vectors."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NeighborIndex:
    """Nearest rows of a vector table by cosine similarity, for many queries at once.

    Example:

    >>> index = NeighborIndex(WordVectors.load("glove-6b-50d"))
    >>> [w for w, _ in index.nearest(["king"], k=3)[0]]
    ['prince', 'queen', 'ii']

    Args:
        vectors: WordVectors, or a float array (rows, dim). The table to search.
        keys: Optional sequence of strings, one per row, when `vectors` is an array.
        method: String. "exact", "approximate" (usearch HNSW), or "auto": exact below
            `AUTO_APPROXIMATE_ROWS` rows, approximate from there on.
        connectivity: Integer. HNSW edges per node (usearch's `connectivity`).
        expansion_add: Integer. HNSW candidate list while building.
        expansion_search: Integer. HNSW candidate list while searching (at least k + 1).
            The defaults, measured on GloVe 6B 50d (2 cores): recall@10 0.969 and 1,000
            queries in 0.11-0.12 s of search (expansion_search 16: 0.975 in 0.13-0.17 s;
            connectivity 16: 0.931, or 0.967 with expansion_search 32 in 0.16-0.18 s).
            The build takes 2-5 minutes there, once.
        cache: Boolean. Keep the HNSW index in a file and load it next time.
        cache_dir: Optional path. Where index files go when the vectors have no cache
            entry; default `cache_root()/ann`.
    """

    def __init__(
        self,
        vectors: WordVectors | np.ndarray,
        *,
        keys: Sequence[str] | None = None,
        method: str = "auto",
        connectivity: int = 32,
        expansion_add: int = 128,
        expansion_search: int = 12,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        if method not in METHODS:
            raise ConfigError(
                f"`method` must be one of {', '.join(METHODS)}. Received: method={method!r}."
            )
        for name, value, low in [
            ("connectivity", connectivity, 2),
            ("expansion_add", expansion_add, 1),
            ("expansion_search", expansion_search, 1),
        ]:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigError(
                    f"`{name}` must be an integer >= {low}. Received: {name}={value!r}."
                )
        self.wordvectors = None
        if isinstance(vectors, WordVectors):
            if keys is not None:
                raise ConfigError("Pass `keys` only with an array; WordVectors have their words.")
            self.wordvectors = vectors
            matrix = vectors.vectors
        else:
            matrix = vectors
        if not isinstance(matrix, np.ndarray):
            matrix = np.asarray(matrix)
        if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.floating):
            raise VectorsError(
                f"The vectors must be a 2-D float array (rows, dim). Received: "
                f"{matrix.dtype} array of shape {matrix.shape}. Pass a matrix or WordVectors."
            )
        if keys is not None and len(keys) != len(matrix):
            raise ConfigError(
                f"`keys` must hold one word per row ({len(matrix)} rows). Received: "
                f"{len(keys)} keys."
            )
        self.vectors = matrix
        self.keys = list(keys) if keys is not None else None
        self.requested_method = method
        self.connectivity = int(connectivity)
        self.expansion_add = int(expansion_add)
        self.expansion_search = int(expansion_search)
        self.cache = cache
        self.cache_dir = cache_dir
        self.method = method if method != "auto" else _auto_method(len(matrix))
        self.cache_file: Path | None = None
        self.cache_state = "not built"
        self.build_seconds = 0.0
        self._key_to_index: dict[str, int] | None = None
        self._norms: np.ndarray | None = None
        self._unit: np.ndarray | None = None
        self._group_layout: tuple[np.ndarray, np.ndarray] | None = None
        self._hnsw = None
        self._meta: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    # -- public queries ------------------------------------------------------------------

    def nearest(
        self, keys: str | int | np.ndarray | Sequence[str | int | np.ndarray], k: int = 10
    ) -> list[list[tuple[str | int, float]]]:
        """The `k` nearest words of each key, best first, as (word, cosine) pairs.

        A word (or row number) leaves itself out of its list, as gensim's most_similar; a
        vector (1-D, or the rows of a 2-D array) leaves nothing out. One list per query,
        also for a single key; shorter than `k` when the table is. Without words (an
        array and no `keys`), rows are named by their numbers.
        """
        queries, exclude = self.query_vectors(keys)
        rows, scores = self.search(queries, k, exclude=exclude)
        found = rows >= 0
        names = iter(self._names(rows[found]))
        values = iter(scores[found].tolist())
        return [[(next(names), next(values)) for _ in range(n)] for n in found.sum(1).tolist()]

    def search(
        self, queries: np.ndarray, k: int = 10, *, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows of each query vector: (rows int64, cosines float32), (q, k).

        Args:
            queries: Float array (q, dim) or (dim,). Query vectors, any length.
            k: Integer. Neighbours per query; a table of fewer rows gives fewer.
            exclude: Optional integer array (q,). A row to leave out per query (-1: none).

        Missing places (k beyond the table) hold row -1 and score -inf.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}.")
        queries = self._unit_queries(queries)
        if exclude is None:
            exclude = np.full(len(queries), -1, dtype=np.int64)
        exclude = np.asarray(exclude, dtype=np.int64).reshape(-1)
        if exclude.shape != (len(queries),):
            raise ConfigError(
                f"`exclude` must hold one row per query ({len(queries)}). Received: "
                f"shape={exclude.shape}."
            )
        width = min(int(k), len(self))
        rows = np.full((len(queries), width), -1, dtype=np.int64)
        scores = np.full((len(queries), width), -np.inf, dtype=np.float32)
        if width == 0 or len(queries) == 0:
            return rows, scores
        wanted = min(int(k) + int((exclude >= 0).any()), len(self))
        if self._use_approximate(len(queries)):
            found = self._approximate(queries, wanted)
            rows[:], scores[:] = self._rank(found, queries, exclude, width)
        elif wanted * _GROUP * 8 > len(self):  # groups would not narrow much: score every row
            rows[:], scores[:] = self._scan(queries, exclude, width)
        else:
            self._exact(queries, exclude, width, wanted, rows, scores)
        return rows, scores

    def query_vectors(
        self, keys: str | int | np.ndarray | Sequence[str | int | np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query vectors (q, dim) float32, the row each leaves out or -1) for `keys`.

        A word's query is its unit vector; unknown words raise UnknownKeyError, except
        in fastText vectors with subwords, which give them a vector from their n-grams.
        """
        if isinstance(keys, np.ndarray) and keys.dtype.kind == "f":
            matrix = keys.reshape(1, -1) if keys.ndim == 1 else keys
            return self._as_query_matrix(matrix), np.full(len(matrix), -1, dtype=np.int64)
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
            keys = keys.reshape(-1).tolist()
        if isinstance(keys, (str, int, np.integer, np.ndarray)):
            keys = [keys]
        queries = np.empty((len(keys), self.dim), dtype=np.float32)
        exclude = np.full(len(keys), -1, dtype=np.int64)
        for i, key in enumerate(keys):
            if isinstance(key, np.ndarray):
                queries[i] = self._as_query_matrix(key.reshape(1, -1))[0]
                continue
            row = self._row_of(key)
            if row is None:
                queries[i] = self._oov_vector(key)
            else:
                exclude[i] = row
        words = np.flatnonzero(exclude >= 0)
        if len(words):
            # as gensim's get_vector(norm=True): a float32 division by the float32 norm
            rows = exclude[words]
            norms = self._gensim_norms()[rows, None]
            vectors = np.asarray(self.vectors[rows], dtype=np.float32)
            queries[words] = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return queries, exclude

    # -- exact search --------------------------------------------------------------------

    def _exact(
        self,
        queries: np.ndarray,
        exclude: np.ndarray,
        width: int,
        wanted: int,
        rows: np.ndarray,
        scores: np.ndarray,
    ) -> None:
        """Fill `rows` and `scores` block by block of queries, in threads (see `_block`)."""
        unit = self._unit_rows()
        groups = len(unit) // _GROUP
        self._layout(len(unit))  # before the threads
        workers = _workers(len(queries))
        block = max(
            1, min(_BLOCK, -(-len(queries) // workers), _MAX_BYTES // workers // (4 * groups))
        )

        def run(q0: int) -> None:
            part = slice(q0, q0 + block)
            found, crowded = self._block(queries[part], unit, wanted)
            rows[part], scores[part] = self._rank(found, queries[part], exclude[part], width)
            if crowded:  # ties beyond counting (a zero query): score every row
                at = np.array(crowded) + q0
                rows[at], scores[at] = self._scan(queries[at], exclude[at], width)

        starts = range(0, len(queries), block)
        if workers > 1 and _blas_limits is not None:
            # Query blocks in threads, BLAS on one thread each: on 2 busy cores OpenBLAS's own
            # threads split each product evenly and wait for the slower core (2-10x slower).
            with _blas_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, starts))
        else:
            for q0 in starts:
                run(q0)

    def _block(
        self, part: np.ndarray, unit: np.ndarray, wanted: int
    ) -> tuple[np.ndarray, list[int]]:
        """Candidates (b, c) of a block of queries (-1 pads) that surely hold the `wanted`
        best rows of each: group maxima, the rows of the best groups, those rows narrowed
        by their unit-row scores (all within twice the rounding bound of the cut). And the
        queries left without, whose ties are too many (say a zero query)."""
        n, padded, b = len(self), len(unit), len(part)
        groups = padded // _GROUP
        base, stride = self._layout(padded)
        buffer = np.empty(b * min(_CHUNK, padded), dtype=np.float32)
        maxima = np.empty((b, groups), dtype=np.float32)
        for c0 in range(0, padded, _CHUNK):
            width = min(_CHUNK, padded - c0)
            scores = buffer[: b * width].reshape(b, width)
            np.matmul(part, unit[c0 : c0 + width].T, out=scores)
            if c0 + width > n:  # the zero rows that pad the table must not lift a maximum
                scores[:, n - c0 :] = -np.inf
            np.max(
                scores.reshape(b, _GROUP, width // _GROUP),
                axis=1,
                out=maxima[:, c0 // _GROUP : (c0 + width) // _GROUP],
            )
        margin = np.float32(2 * _rounding_bound(self.dim))
        floor = np.partition(maxima, groups - wanted, axis=1)[:, groups - wanted] - margin
        spread = np.arange(_GROUP, dtype=np.int64)
        found, crowded = [], []
        for i in range(b):
            chosen = np.flatnonzero(maxima[i] >= floor[i])
            cand = (base[chosen, None] + stride[chosen, None] * spread).ravel()
            cand = cand[cand < n]
            # narrow on the unit rows: C-ordered, while the table may be a column-major or
            # memory-mapped matrix, slow to gather rows from
            rough = unit[cand] @ part[i]
            cut = np.partition(rough, len(rough) - wanted)[len(rough) - wanted]
            cand = cand[rough >= cut - margin]
            if len(cand) > _CROWDED * wanted + _GROUP:
                crowded.append(i)
                cand = cand[:0]
            found.append(cand)
        return _padded(found), crowded

    def _scan(
        self, queries: np.ndarray, exclude: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every row scored exactly (small tables, large k, crowded ties), block by block."""
        n = len(self)
        table = np.ascontiguousarray(self.vectors, dtype=np.float32)
        norms = self._gensim_norms()
        step = max(1, _MAX_BYTES // 4 // (4 * max(n, 1)))
        rows = np.empty((len(queries), width), dtype=np.int64)
        scores = np.empty((len(queries), width), dtype=np.float32)
        for q0 in range(0, len(queries), step):
            part = slice(q0, q0 + step)
            # one sgemv per query, over the whole table, as gensim
            dots = np.matmul(table[None], queries[part, :, None])[..., 0]
            exact = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
            left_out = np.flatnonzero(exclude[part] >= 0)
            exact[left_out, exclude[part][left_out]] = -np.inf
            if width < n:  # keep the `width` best and all ties at the cut
                cut = np.partition(exact, n - width, axis=1)[:, n - width, None]
                keep = exact >= cut
                order = np.argsort(~keep, axis=1, kind="stable")[:, : keep.sum(1).max()]
                cand = np.where(np.take_along_axis(keep, order, 1), order, -1)
            else:
                cand = np.broadcast_to(np.arange(n), exact.shape)
            cand_scores = np.take_along_axis(exact, np.maximum(cand, 0), 1)
            cand_scores[cand < 0] = -np.inf
            rows[part], scores[part] = _best(cand, cand_scores, width)
        return rows, scores

    def _rank(
        self, cand: np.ndarray, queries: np.ndarray, exclude: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `width` best candidates (q, c; -1 pads) of each query by exact score."""
        cand = np.where(cand == exclude[:, None], -1, cand)
        return _best(cand, self._exact_scores(cand, queries), width)

    def _exact_scores(self, cand: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """Cosines (q, c) of candidate rows as gensim computes them: dot(row, unit query)
        / float32 norm, in float32; -inf for the -1 pads.

        One sgemv per query (numpy's batched matmul of a matrix and a vector). OpenBLAS's
        sgemv scores rows in blocks of 4, and the last `n % 4` rows of a table another way;
        so rows go in blocks of 4, and those last rows are scored as gensim's tail.
        """
        q, c = cand.shape
        safe = np.zeros((q, c + -c % 4), dtype=np.int64)
        safe[:, :c] = np.maximum(cand, 0)
        gathered = np.asarray(self.vectors[safe.ravel()], dtype=np.float32)
        dots = np.matmul(gathered.reshape(q, safe.shape[1], self.dim), queries[:, :, None])
        dots = np.ascontiguousarray(dots[:, :c, 0])
        tail = len(self) - len(self) % 4
        for i in np.flatnonzero((cand >= tail).any(axis=1)):
            ends = np.dot(np.ascontiguousarray(self.vectors[tail:], dtype=np.float32), queries[i])
            late = cand[i] >= tail
            dots[i, late] = ends[cand[i, late] - tail]
        norms = self._gensim_norms()[safe[:, :c]]
        scores = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        scores[cand < 0] = -np.inf
        return scores

    def _gensim_norms(self) -> np.ndarray:
        """Row norms in float32, as gensim's fill_norms (np.linalg.norm of C-ordered rows)."""
        if self._norms is None:
            norms = np.empty(len(self), dtype=np.float32)
            for start in range(0, len(self), _ROWS_PER_STEP):
                rows = np.ascontiguousarray(
                    self.vectors[start : start + _ROWS_PER_STEP], dtype=np.float32
                )
                norms[start : start + len(rows)] = np.linalg.norm(rows, axis=1)
            if not np.isfinite(norms).all():
                bad = int(np.flatnonzero(~np.isfinite(norms))[0])
                raise VectorsError(
                    f"Every vector must be finite. Received: row {bad} "
                    f"({self._names(np.array([bad]))[0]!r}) holds NaN or inf (or overflows). "
                    f"Load with on_nonfinite='skip' or 'zero'."
                )
            self._norms = norms
        return self._norms

    def _layout(self, padded: int) -> tuple[np.ndarray, np.ndarray]:
        """For each group: its first row and the step between its rows (see the module doc)."""
        if self._group_layout is None:
            base, stride = [], []
            for c0 in range(0, padded, _CHUNK):
                width = min(_CHUNK, padded - c0) // _GROUP
                base.append(np.arange(c0, c0 + width, dtype=np.int64))
                stride.append(np.full(width, width, dtype=np.int64))
            self._group_layout = np.concatenate(base), np.concatenate(stride)
        return self._group_layout

    def _unit_rows(self) -> np.ndarray:
        """The unit rows (zero rows stay zero), padded with zero rows to whole groups."""
        if self._unit is None:
            norms = self._gensim_norms()
            padded = -(-len(self) // _GROUP) * _GROUP
            unit = np.zeros((padded, self.dim), dtype=np.float32)
            for start in range(0, len(self), _ROWS_PER_STEP):
                stop = min(start + _ROWS_PER_STEP, len(self))
                part = norms[start:stop, None]
                np.divide(
                    np.asarray(self.vectors[start:stop], dtype=np.float32),
                    part,
                    out=unit[start:stop],
                    where=part > 0,
                )
            self._unit = unit
        return self._unit

    # -- approximate search --------------------------------------------------------------

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
        unit = self._unit_rows()
        for start_row in range(0, len(self), 1 << 18):
            stop = min(start_row + (1 << 18), len(self))
            index.add(np.arange(start_row, stop, dtype=np.uint64), unit[start_row:stop], threads=0)
        self.build_seconds = time.perf_counter() - start
        self._unit = None if self.method == "approximate" else self._unit
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

    # -- keys ----------------------------------------------------------------------------

    def _row_of(self, key: str | int) -> int | None:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= key < len(self):
                return int(key)
            raise UnknownKeyError(
                f"A row number must lie in [0, {len(self)}). Received: {key}. Pass a row "
                f"of the table or a word."
            )
        if not isinstance(key, str):
            raise ConfigError(
                f"A query must be a word, a row number or a vector. Received: "
                f"{type(key).__name__} {key!r}."
            )
        if self.wordvectors is not None:
            return self.wordvectors.get_index(key)
        if self.keys is None:
            raise ConfigError(
                f"These vectors have no words, so {key!r} cannot be looked up. Pass `keys` "
                f"with the matrix, or query by row number or vector."
            )
        if self._key_to_index is None:
            self._key_to_index = {word: i for i, word in enumerate(self.keys)}
        return self._key_to_index.get(key)

    def _oov_vector(self, key: str) -> np.ndarray:
        wv = self.wordvectors
        if wv is not None and wv.has_subwords:
            with contextlib.suppress(KeyError):
                return self._as_query_matrix(wv.get_vector(key).reshape(1, -1))[0]
        raise UnknownKeyError(
            f"Expected words present in the vectors ({len(self):,} words). Received: {key!r}, "
            f"which is not one of them. Check its spelling and case, or query by vector."
        )

    def _names(self, rows: np.ndarray) -> list:
        if self.wordvectors is not None:
            words = self.wordvectors.words
            return words.take(pa.array(rows, type=pa.int64())).to_pylist()
        if self.keys is not None:
            return [self.keys[int(i)] for i in rows]
        return [int(i) for i in rows]

    def _as_query_matrix(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise VectorsError(
                f"Query vectors must have {self.dim} values each. Received: shape "
                f"{matrix.shape}. Pass vectors of the table's dimension."
            )
        if not np.isfinite(matrix).all():
            raise VectorsError(
                "Query vectors must be finite. Received: NaN or inf. Replace them first."
            )
        return np.asarray(matrix, dtype=np.float32)

    def _unit_queries(self, queries: np.ndarray) -> np.ndarray:
        """Unit query vectors as gensim's most_similar makes them (normalised in float64)."""
        queries = np.asarray(queries)
        matrix = self._as_query_matrix(queries.reshape(1, -1) if queries.ndim == 1 else queries)
        wide = matrix.astype(np.float64)
        lengths = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
        unit = (wide * scale[:, None]).astype(np.float32)
        unit[lengths == 0] = matrix[lengths == 0]
        return np.ascontiguousarray(unit)


def nearest(
    vectors: WordVectors | np.ndarray,
    keys: str | int | np.ndarray | Sequence[str | int | np.ndarray],
    k: int = 10,
    *,
    method: str = "auto",
    **options: Any,
) -> list[list[tuple[str | int, float]]]:
    """The `k` nearest words of each key, best first: one list of (word, cosine) per key.

    The index behind it is kept with WordVectors, so later calls reuse it (and its unit
    rows). See `NeighborIndex` for `method` and the HNSW `options`.
    """
    return index_for(vectors, method=method, **options).nearest(keys, k)


def index_for(vectors: WordVectors | np.ndarray, **options: Any) -> NeighborIndex:
    """A NeighborIndex over `vectors`; for WordVectors, one kept on the object and reused."""
    if not isinstance(vectors, WordVectors):
        return NeighborIndex(vectors, **options)
    kept = vectors.__dict__.setdefault("_neighbor_indexes", {})
    name = json.dumps(options, sort_keys=True, default=str)
    if name not in kept:
        kept[name] = NeighborIndex(vectors, **options)
    return kept[name]


def _auto_method(rows: int) -> str:
    if rows < AUTO_APPROXIMATE_ROWS:
        return "exact"
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        logger.warning("usearch is missing, so %d rows are searched exactly (slowly).", rows)
        return "exact"
    return "approximate"


def _rounding_bound(dim: int) -> float:
    """How far two float32 computations of one cosine can differ (a generous bound)."""
    return (3 * dim + 16) * 2.0**-24


def _padded(lists: list[np.ndarray]) -> np.ndarray:
    """Row lists as one (len(lists), longest) array, -1 after each list's end."""
    out = np.full((len(lists), max(1, max(map(len, lists), default=0))), -1, dtype=np.int64)
    for i, rows in enumerate(lists):
        out[i, : len(rows)] = rows
    return out


def _best(cand: np.ndarray, scores: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of candidates: the `width` best by score, ties by row number; -1/-inf pads."""
    if cand.shape[1] < width:
        extra = width - cand.shape[1]
        cand = np.pad(cand, ((0, 0), (0, extra)), constant_values=-1)
        scores = np.pad(scores, ((0, 0), (0, extra)), constant_values=-np.inf)
    order = np.lexsort((np.where(cand < 0, np.iinfo(np.int64).max, cand), -scores), axis=1)
    order = order[:, :width]
    rows, best = np.take_along_axis(cand, order, 1), np.take_along_axis(scores, order, 1)
    rows[best == -np.inf] = -1
    return rows, best


def _workers(queries: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_WORKERS, -(-queries // 16)))
