"""Bins of a numeric column, and its piecewise-linear encoding over them.

A number becomes a short vector with one place per bin: 1 for the bins wholly below it, its
position inside the bin it falls in, 0 above (Gorishniy et al. 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning"). The bins are the leaves of a one-column
regression tree on the label (`label_edges`, their "target-aware" bins): a column whose
values pile up on one number, like capital gains at 0 for nine people in ten, still gets
its bins where the label changes, where quantiles would put nearly all of them on the pile.
numpy only.
"""

from __future__ import annotations

import heapq

import numpy as np

MAX_BINS = 24
MAX_ROWS = 200_000  # rows a tree is grown on; more are sampled (seeded) down to this


def min_leaf_rows(n: int) -> int:
    """Rows each bin must hold: 64, or fewer for a small table (never under 8)."""
    return int(max(8, min(64, n // 20)))


def label_edges(values: np.ndarray, targets: np.ndarray, *, max_bins: int = MAX_BINS,
                min_leaf: int | None = None) -> np.ndarray:
    """Bin edges of a column from a best-first regression tree on `targets`.

    Args:
        values: 1-D float array, NaN for missing (left out).
        targets: 2-D float array, one row per value: the label one-hot for classes,
            standardised for a number. A split is chosen by the squared error it removes
            (for one-hot labels, the Gini impurity).
        max_bins: the most leaves the tree grows.
        min_leaf: the fewest rows a bin holds (default `min_leaf_rows`).

    Returns: sorted edges, the column's smallest value, the split points (midway between
    neighbouring values), and its largest value.
    """
    present = ~np.isnan(values)
    v, y = values[present], np.asarray(targets, dtype="float64")[present]
    if len(v) > MAX_ROWS:
        keep = np.random.default_rng(0).choice(len(v), MAX_ROWS, replace=False)
        v, y = v[keep], y[keep]
    order = np.argsort(v, kind="stable")
    v, y = v[order], y[order].reshape(len(v), -1)
    n = len(v)
    min_leaf = min_leaf_rows(n) if min_leaf is None else min_leaf
    sums = np.vstack([np.zeros((1, y.shape[1])), np.cumsum(y, axis=0)])

    def best_split(a: int, b: int):
        if b - a < 2 * min_leaf:
            return None
        cut = np.arange(a + min_leaf, b - min_leaf + 1)
        cut = cut[v[cut - 1] < v[cut]]  # only between distinct values
        if cut.size == 0:
            return None
        left, right = sums[cut] - sums[a], sums[b] - sums[cut]
        whole = sums[b] - sums[a]
        gain = ((left ** 2).sum(1) / (cut - a) + (right ** 2).sum(1) / (b - cut)
                - (whole ** 2).sum() / (b - a))
        best = int(np.argmax(gain))
        return (float(gain[best]), int(cut[best])) if gain[best] > 1e-12 else None

    splits: list[float] = []
    heap: list = []

    def push(a: int, b: int) -> None:
        found = best_split(a, b)
        if found is not None:
            heapq.heappush(heap, (-found[0], a, b, found[1]))

    push(0, n)
    while heap and len(splits) + 1 < max_bins:
        _, a, b, cut = heapq.heappop(heap)
        splits.append(float((v[cut - 1] + v[cut]) / 2))
        push(a, cut)
        push(cut, b)
    return np.unique(np.array([v[0], *splits, v[-1]], dtype="float64"))


def tree_targets(task: str, encoded: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """Encoded labels (0/1, class ids or standardised numbers) as `label_edges` reads them:
    one-hot over the `n_classes` classes for `multiclass`, else one column."""
    if task == "multiclass":
        return np.eye(n_classes, dtype="float32")[encoded]
    return np.asarray(encoded, dtype="float32")[:, None]


def quantile_edges(values: np.ndarray, *, max_bins: int = MAX_BINS) -> np.ndarray:
    """Bin edges at the column's quantiles (for a column without a label to follow)."""
    present = values[~np.isnan(values)]
    return np.unique(np.quantile(present, np.linspace(0.0, 1.0, max_bins + 1)))


def piecewise_linear(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The encoding of each value over the bins between `edges`: (rows, bins) floats in
    [0, 1]. Values below the first edge give zeros, above the last ones; missing values
    (NaN) give zeros."""
    edges = np.asarray(edges, dtype="float64")
    if len(edges) < 2:  # one value only: nothing to tell rows apart
        return np.zeros((len(values), 1), dtype="float32")
    low, high = edges[:-1], edges[1:]
    with np.errstate(invalid="ignore"):
        place = (values[:, None] - low) / np.maximum(high - low, 1e-12)
    return np.nan_to_num(np.clip(place, 0.0, 1.0), nan=0.0).astype("float32")
