"""The nearest entries of every point of an explorer page: `most_similar`'s lists, exactly.

`page_neighbors(vectors, n, k)` gives, for each of the first `n` rows of `vectors`, the
rows that ``vectors.most_similar(key, topn=k, restrict_vocab=n)`` returns, in its order,
without calling it once per row (100,000 calls take minutes):

1. every row's cosines with all `n` rows, one float32 matrix product per tile, reduced to
   the maximum of each group of 64 consecutive rows (tables of 8,192 rows or fewer are
   scored whole, in float64);
2. the candidates: the rows of the groups whose maximum reaches the `m`-th largest, less
   twice the rounding bound (`cosine_error`), narrowed by their float32 cosines and scored
   again in float64; so every row left out scores below a known floor;
3. most_similar's float32 scores each lie within the bound of these float64 ones, so where
   the first `k + 1` are more than twice the bound apart, and the `k`-th more than twice
   above the floor, its list is certain. Elsewhere (exact ties, zero rows, near-duplicates)
   `most_similar` itself answers.

numpy only (and threadpoolctl, to keep BLAS to one thread per worker): nothing here
imports Keras or JAX.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # keeps BLAS to one thread per worker: the workers split the rows instead
    from threadpoolctl import threadpool_limits as _blas_limits
except ImportError:  # pragma: no cover
    _blas_limits = None

from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)

EXTRA_CANDIDATES = 5  # candidates beyond k + 1, so rows left out stay clear of the k-th
WHOLE_ROWS = 8192  # up to this many rows, every cosine is computed in float64
GROUP = 64  # rows per group maximum
_TILE = 2048  # table rows per matrix product (a multiple of GROUP)
_BLOCK = 256  # query rows per worker task
_CROWDED = 4  # more chosen groups than this many times those wanted: ask most_similar


def cosine_error(dim: int) -> float:
    """A bound on how far a float32 cosine lies from the exact one: a `dim`-term dot
    product (any order of additions) of a row with a unit query normalised in float32
    (about dim/2 units in the last place), the row's norm and the division; with room."""
    return (2 * dim + 8) * 2.0**-24


def page_neighbors(
    vectors: WordVectors, n: int, k: int, *, group: int = GROUP, whole_rows: int = WHOLE_ROWS
) -> tuple[np.ndarray, np.ndarray, int]:
    """The `k` nearest of each of the first `n` rows among those `n` rows, by cosine: what
    ``vectors.most_similar(key, topn=k, restrict_vocab=n)`` lists, in its order.

    Args:
        vectors: WordVectors. Its first `n` rows are the page's points, all finite.
        n: Integer. How many rows the page holds.
        k: Integer. Neighbors per row.
        group: Integer. Rows per group maximum (a divisor of 2,048).
        whole_rows: Integer. Up to this many rows, all cosines are scored in float64.

    Returns:
        (rows, scores, answered): the neighbors' rows (n, k) int32 (-1 past the end when
        `n <= k`), their cosines (n, k) float32 (NaN there), and how many rows
        `most_similar` answered itself.
    """
    width = min(k, n - 1)
    rows = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), np.nan, dtype=np.float32)
    if width <= 0:
        return rows, scores, 0
    wide = np.ascontiguousarray(vectors.vectors[:n], dtype=np.float64)
    lengths = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    unit = np.divide(wide, lengths[:, None], out=np.zeros_like(wide), where=lengths[:, None] > 0)
    bound = cosine_error(wide.shape[1])
    wanted = min(width + 1 + EXTRA_CANDIDATES, n - 1)
    if n <= whole_rows:
        search = _WholeSearch(unit, lengths, wanted)
    else:
        search = _GroupedSearch(unit, lengths, wanted, bound, group)
    unsettled: list[np.ndarray] = []

    def run(start: int) -> None:
        part = np.arange(start, min(start + _BLOCK, n))
        cand, exact, floor = search.candidates(part)
        order = np.lexsort((np.where(cand < 0, n, cand), -exact), axis=1)
        cand, exact = np.take_along_axis(cand, order, 1), np.take_along_axis(exact, order, 1)
        rows[part, :width] = cand[:, :width]
        scores[part, :width] = exact[:, :width]
        unsettled.append(part[~_settled(exact, floor, width, bound)])

    starts = range(0, n, _BLOCK)
    workers = _workers(len(starts))
    if workers > 1 and _blas_limits is not None:
        with _blas_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    answered = np.concatenate(unsettled).tolist()
    if answered:
        position = {key: i for i, key in enumerate(vectors.index_to_key[:n])}
        for row in answered:
            listed = vectors.most_similar(vectors.index_to_key[row], topn=k, restrict_vocab=n)
            rows[row], scores[row] = -1, np.nan
            rows[row, : len(listed)] = [position[key] for key, _ in listed]
            scores[row, : len(listed)] = [score for _, score in listed]
    log.debug("neighbors of %d rows: %d answered by most_similar", n, len(answered))
    return rows, scores, len(answered)


def _settled(exact: np.ndarray, floor: np.ndarray, width: int, bound: float) -> np.ndarray:
    """Per row of sorted float64 cosines: whether scores each within `bound` of these must
    list the same first `width` rows in the same order. Each of the first `width` must lead
    the next candidate by more than twice the bound, and the `width`-th must lead `floor`
    (what no row left out of the candidates reaches) by more than twice it."""
    shown = exact[:, : width + 1]
    with np.errstate(invalid="ignore"):  # -inf pads less -inf: NaN, never settled
        gaps = shown[:, :-1] - shown[:, 1:]
    if gaps.shape[1] < width:  # every other row is shown: nothing comes after the last
        gaps = np.pad(gaps, ((0, 0), (0, width - gaps.shape[1])), constant_values=np.inf)
    settled = (gaps[:, :width] > 2 * bound).all(axis=1)
    settled &= exact[:, width - 1] - floor > 2 * bound
    return settled & np.isfinite(exact[:, :width]).all(axis=1)


class _WholeSearch:
    """Small tables: every cosine in float64; no row is left out, so the floor is -inf."""

    def __init__(self, unit: np.ndarray, lengths: np.ndarray, wanted: int):
        self.unit, self.lengths, self.wanted = unit, lengths, wanted

    def candidates(self, part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        exact = self.unit[part] @ self.unit.T  # a zero row has a zero unit row: cosine 0
        exact[np.arange(len(part)), part] = -np.inf
        n = exact.shape[1]
        cand = np.argpartition(-exact, self.wanted - 1, axis=1)[:, : self.wanted]
        values = np.take_along_axis(exact, cand, 1)
        floor = np.full(len(part), -np.inf)
        if self.wanted < n - 1:  # the best of the rows not kept
            np.put_along_axis(exact, cand, -np.inf, 1)
            floor = exact.max(axis=1)
        return cand, values, floor


class _GroupedSearch:
    """Large tables: group maxima from float32 tiles, then the chosen groups' rows."""

    def __init__(self, unit: np.ndarray, lengths: np.ndarray, wanted: int, bound: float,
                 group: int):
        n, dim = unit.shape
        padded = -(-n // _TILE) * _TILE
        self.table = np.zeros((padded, dim), dtype=np.float32)
        self.table[:n] = unit
        self.unit, self.lengths, self.n = unit, lengths, n
        self.wanted, self.bound, self.group = wanted, np.float32(bound), group

    def candidates(self, part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        table, n, group, bound = self.table, self.n, self.group, self.bound
        groups = len(table) // group
        queries = table[part]
        maxima = np.empty((groups, len(part)), dtype=np.float32)
        tile = np.empty((_TILE, len(part)), dtype=np.float32)
        transposed = np.ascontiguousarray(queries.T)
        for start in range(0, len(table), _TILE):
            np.matmul(table[start : start + _TILE], transposed, out=tile)
            if start + _TILE > n:  # the zero rows padding the table
                tile[max(0, n - start) :] = -np.inf
            own = (part >= start) & (part < start + _TILE)
            tile[part[own] - start, np.flatnonzero(own)] = -np.inf
            np.max(tile.reshape(_TILE // group, group, len(part)), axis=1,
                   out=maxima[start // group : (start + _TILE) // group])
        maxima = np.ascontiguousarray(maxima.T)
        reach = np.partition(maxima, groups - self.wanted, axis=1)[:, groups - self.wanted]
        reach = reach - 2 * bound
        chosen = maxima >= reach[:, None]
        counts = chosen.sum(axis=1)
        crowded = counts > _CROWDED * self.wanted
        chosen[crowded] = False  # left to most_similar: their exact scores come out -inf
        counts[crowded] = 0
        which, ids = np.nonzero(chosen)
        slot = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
        span = max(-(-self.wanted // group), int(counts.max()))
        cand = np.full((len(part), span, group), -1, dtype=np.int64)
        rough = np.full((len(part), span, group), -np.inf, dtype=np.float32)
        cand[which, slot] = ids[:, None] * group + np.arange(group)
        slabs = table.reshape(groups, group, -1)[ids]
        rough[which, slot] = np.matmul(slabs, queries[which][:, :, None])[..., 0]
        cand, rough = cand.reshape(len(part), -1), rough.reshape(len(part), -1)
        rough[(cand >= n) | (cand == part[:, None])] = -np.inf
        # narrow: keep what reaches the wanted-th float32 cosine, less twice the bound
        cut = np.partition(rough, rough.shape[1] - self.wanted, axis=1)[
            :, rough.shape[1] - self.wanted]
        keep = rough >= (cut - 2 * bound)[:, None]
        size = int(keep.sum(axis=1).max())
        picked = np.argsort(~keep, axis=1, kind="stable")[:, :size]
        cand = np.where(np.take_along_axis(keep, picked, 1), np.take_along_axis(cand, picked, 1),
                        -1)
        exact = self._cosines(part, cand)
        # a row left out scores (float32) below reach or below cut - 2 bounds: in float64,
        # below one bound more
        floor = np.maximum(reach, cut - 2 * bound).astype(np.float64) + float(bound)
        floor[crowded] = np.inf
        return cand, exact, floor

    def _cosines(self, part: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """float64 cosines of each row with its candidates (-inf for the -1 pads)."""
        safe = np.maximum(cand, 0)
        exact = np.einsum("qcd,qd->qc", self.unit[safe], self.unit[part])
        exact[cand < 0] = -np.inf
        return exact


def _workers(tasks: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8, tasks))
