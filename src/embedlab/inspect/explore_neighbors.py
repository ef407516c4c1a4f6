"""The nearest entries of every point of an explorer page: `most_similar`'s lists, exactly.

`page_neighbors(vectors, n, k)` gives, for each of the first `n` rows of `vectors`, the
rows that ``vectors.most_similar(key, topn=k, restrict_vocab=n)`` returns, in its order,
without calling it once per row (100,000 calls take minutes):

1. the project's exact search (`embedlab.vectors.neighbors`, its group-maxima prefilter and
   exact float32 rescoring) lists each row's `k + 1` nearest among the `n` rows, itself
   left out, in one batched pass;
2. most_similar scores the same cosines in float32 too, but in another order of additions,
   so each of its scores lies within `cosine_error` of these: where the first `k + 1` are
   more than twice that apart, its list is the same, in the same order. Elsewhere (exact
   ties, zero rows, near-duplicates) `most_similar` itself answers.

numpy only: nothing here imports Keras or JAX.
"""

from __future__ import annotations

import logging

import numpy as np

from embedlab.vectors.neighbors import index_for
from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)


def cosine_error(dim: int) -> float:
    """A bound on how far two float32 computations of one cosine can lie apart: a
    `dim`-term dot product (any order of additions) of a row with a unit query normalised
    in float32, the row's norm and the division; with room."""
    return (3 * dim + 16) * 2.0**-24


def page_neighbors(vectors: WordVectors, n: int, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The `k` nearest of each of the first `n` rows among those `n` rows, by cosine: what
    ``vectors.most_similar(key, topn=k, restrict_vocab=n)`` lists, in its order.

    Args:
        vectors: WordVectors. Its first `n` rows are the page's points, all finite.
        n: Integer. How many rows the page holds.
        k: Integer. Neighbors per row.

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
    matrix = np.asarray(vectors.vectors[:n])
    found, found_scores = index_for(matrix, method="exact").search(
        matrix, width + 1, exclude=np.arange(n))
    rows[:, :width] = found[:, :width]
    scores[:, :width] = found_scores[:, :width]
    answered = np.flatnonzero(~_settled(found_scores.astype(np.float64), width,
                                        cosine_error(matrix.shape[1]))).tolist()
    if answered:
        position = {key: i for i, key in enumerate(vectors.index_to_key[:n])}
        for row in answered:
            listed = vectors.most_similar(vectors.index_to_key[row], topn=k, restrict_vocab=n)
            rows[row], scores[row] = -1, np.nan
            rows[row, : len(listed)] = [position[key] for key, _ in listed]
            scores[row, : len(listed)] = [score for _, score in listed]
    log.debug("neighbors of %d rows: %d answered by most_similar", n, len(answered))
    return rows, scores, len(answered)


def _settled(scores: np.ndarray, width: int, bound: float) -> np.ndarray:
    """Per row of sorted cosines (`width + 1` of them, -inf past the table): whether scores
    each within `bound` of these must list the same first `width` rows in the same order:
    each of the first `width` leads the next by more than twice the bound."""
    with np.errstate(invalid="ignore"):  # -inf less -inf: NaN, never settled
        gaps = scores[:, :-1] - scores[:, 1:]
    settled = (gaps[:, :width] > 2 * bound).all(axis=1)
    return settled & np.isfinite(scores[:, :width]).all(axis=1)
