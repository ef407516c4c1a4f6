"""Per-row label statistics of an embedding table: what the rows' training examples said.

A word's share of positive reviews, a category's mean target: the attribute a 2-D map of
the table is coloured by, computed once at training time and kept in the bundle.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def row_label_attribute(
    target: Any, ids: np.ndarray, y: np.ndarray, input_dim: int
) -> tuple[str, np.ndarray]:
    """(name, values): for each table row, the label of the examples that use it.

    Args:
        target: `Target`. The label encoding.
        ids: Integer array `(n,)` or `(n, length)`. The rows each example looks up; an id
            repeated within one example counts once.
        y: Array `(n,)`. Encoded targets (`target.encode`).
        input_dim: Integer. Rows of the table.

    Binary: the share of examples of the positive class (float, NaN for unused rows);
    regression: the mean label in its units; multiclass: the class most over-represented
    among the row's examples relative to its overall share (string, "" for unused rows).
    """
    ids = np.asarray(ids)
    n = len(ids)
    if ids.ndim == 1:
        ids = ids.reshape(n, 1)
    example = np.repeat(np.arange(n, dtype=np.int64), ids.shape[1])
    pairs = np.unique(example * np.int64(input_dim) + ids.reshape(-1).astype(np.int64))
    rows = pairs % input_dim
    owner = pairs // input_dim
    used = np.bincount(rows, minlength=input_dim).astype("float64")
    y = np.asarray(y).reshape(n, -1)[:, 0] if np.asarray(y).ndim > 1 else np.asarray(y)
    if target.task in ("binary", "regression"):
        values = y.astype("float64")
        if target.task == "regression":
            values = values * target.std + target.mean
        sums = np.bincount(rows, weights=values[owner], minlength=input_dim)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(used > 0, sums / used, np.nan).astype("float32")
        name = (f"share of {target.positive!r}" if target.task == "binary" else "mean label")
        return name, mean
    k = target.n_classes
    counts = np.bincount(rows * k + y.astype(np.int64)[owner], minlength=input_dim * k)
    counts = counts.reshape(input_dim, k).astype("float64")
    overall = np.bincount(y.astype(np.int64), minlength=k).astype("float64") / max(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = counts / used[:, None] / np.where(overall > 0, overall, np.inf)
    best = np.nan_to_num(lift, nan=-1.0).argmax(axis=1)
    names = np.array([str(c) for c in target.classes])
    values = np.where(used > 0, names[best], "")
    return "most over-represented class", values
