"""Exact nearest rows by cosine, many queries at once, identical to gensim's lists.

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

numpy only (and threadpoolctl when installed, to keep BLAS to one thread per worker).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # optional: keeps BLAS to one thread per worker (see ExactSearch.narrowed)
    from threadpoolctl import threadpool_limits as _blas_limits
except ImportError:  # pragma: no cover
    _blas_limits = None

from embedlab.errors import VectorsError

_GROUP = 64  # rows per group maximum
_CHUNK = 8192  # table rows per matrix product (a multiple of _GROUP)
_BLOCK = 256  # queries per matrix product
_MAX_BYTES = 128 << 20  # group maxima held at a time, all workers together
_MAX_WORKERS = 8
_CROWDED = 16  # more candidates than this many times those wanted: score every row
ROWS_PER_STEP = 1 << 16  # rows per step when normalising the table


class ExactSearch:
    """The exact search over one table (rows, dim): its norms, unit rows and group layout,
    computed once and kept.

    Args:
        vectors: Float array (rows, dim), possibly memory-mapped or column-major.
        name_of: Callable. The name of a row, for error messages.
    """

    def __init__(self, vectors: np.ndarray, name_of: Callable[[int], object] = int):
        self.vectors = vectors
        self.name_of = name_of
        self._norms: np.ndarray | None = None
        self._unit: np.ndarray | None = None
        self._group_layout: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def search(
        self, queries: np.ndarray, exclude: np.ndarray, width: int, wanted: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `width` best rows of each unit query (rows, cosines), each query's `exclude`
        row left out; `wanted` rows are gathered before that row is dropped."""
        if wanted * _GROUP * 8 > len(self):  # groups would not narrow much: score every row
            return self.scan(queries, exclude, width)
        rows = np.full((len(queries), width), -1, dtype=np.int64)
        scores = np.full((len(queries), width), -np.inf, dtype=np.float32)
        self.narrowed(queries, exclude, width, wanted, rows, scores)
        return rows, scores

    def drop_unit_rows(self) -> None:
        """Free the unit rows (an approximate index holds its own copy)."""
        self._unit = None

    def narrowed(
        self,
        queries: np.ndarray,
        exclude: np.ndarray,
        width: int,
        wanted: int,
        rows: np.ndarray,
        scores: np.ndarray,
    ) -> None:
        """Fill `rows` and `scores` block by block of queries, in threads (see `_block`)."""
        unit = self.unit_rows()
        groups = len(unit) // _GROUP
        self._layout(len(unit))  # before the threads
        workers = _workers(len(queries))
        block = max(
            1, min(_BLOCK, -(-len(queries) // workers), _MAX_BYTES // workers // (4 * groups))
        )

        def run(q0: int) -> None:
            part = slice(q0, q0 + block)
            found, crowded = self._block(queries[part], unit, wanted)
            rows[part], scores[part] = self.rank(found, queries[part], exclude[part], width)
            if crowded:  # ties beyond counting (a zero query): score every row
                at = np.array(crowded) + q0
                rows[at], scores[at] = self.scan(queries[at], exclude[at], width)

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

    def scan(
        self, queries: np.ndarray, exclude: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every row scored exactly (small tables, large k, crowded ties), block by block."""
        n = len(self)
        table = np.ascontiguousarray(self.vectors, dtype=np.float32)
        norms = self.norms()
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

    def rank(
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
        norms = self.norms()[safe[:, :c]]
        scores = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        scores[cand < 0] = -np.inf
        return scores

    def norms(self) -> np.ndarray:
        """Row norms in float32, as gensim's fill_norms (np.linalg.norm of C-ordered rows)."""
        if self._norms is None:
            norms = np.empty(len(self), dtype=np.float32)
            for start in range(0, len(self), ROWS_PER_STEP):
                rows = np.ascontiguousarray(
                    self.vectors[start : start + ROWS_PER_STEP], dtype=np.float32
                )
                norms[start : start + len(rows)] = np.linalg.norm(rows, axis=1)
            if not np.isfinite(norms).all():
                bad = int(np.flatnonzero(~np.isfinite(norms))[0])
                raise VectorsError(
                    f"Every vector must be finite. Received: row {bad} "
                    f"({self.name_of(bad)!r}) holds NaN or inf (or overflows). "
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

    def unit_rows(self) -> np.ndarray:
        """The unit rows (zero rows stay zero), padded with zero rows to whole groups."""
        if self._unit is None:
            norms = self.norms()
            padded = -(-len(self) // _GROUP) * _GROUP
            unit = np.zeros((padded, self.dim), dtype=np.float32)
            for start in range(0, len(self), ROWS_PER_STEP):
                stop = min(start + ROWS_PER_STEP, len(self))
                part = norms[start:stop, None]
                np.divide(
                    np.asarray(self.vectors[start:stop], dtype=np.float32),
                    part,
                    out=unit[start:stop],
                    where=part > 0,
                )
            self._unit = unit
        return self._unit


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
