"""What a report needs from an evaluation, kept in the bundle instead of the data.

`summarize` turns true targets and model outputs into small JSON-safe figures: the
confusion counts and an ROC curve (classifiers), or an error histogram and the spread of
predictions per true value (regression). A report draws them later without the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.training.metrics import confusion, roc_auc

_ROC_POINTS = 101
_MANY_VALUES = 20  # more distinct true values than this: group them into deciles


def summarize(target: Any, y: np.ndarray, outputs: np.ndarray, *, split: str) -> dict:
    """Figures of one evaluation.

    Args:
        target: `embedlab.training.targets.Target`. The label encoding (task, classes).
        y: Array. Encoded targets, as `target.encode` gives them.
        outputs: Array. The model's outputs for the same rows.
        split: String. Which rows these are: `validation` or `test`.
    """
    outputs = np.asarray(outputs)
    y = np.asarray(y)
    summary: dict[str, Any] = {"split": split, "task": target.task, "rows": int(len(y))}
    if target.task == "regression":
        pred, _ = target.decode(outputs)
        truth = y.reshape(-1).astype("float64") * target.std + target.mean
        summary.update(regression_figures(truth, np.asarray(pred, "float64")))
        return summary
    if target.task == "binary":
        prob = outputs.reshape(-1).astype("float64")
        truth = y.reshape(-1).astype("int64")
        negative = [c for c in target.classes if c != target.positive][0]
        summary["labels"] = [str(negative), str(target.positive)]
        summary["confusion"] = confusion(truth, (prob >= 0.5).astype("int64"), 2).tolist()
        summary["auc"] = roc_auc(truth, prob)
        summary["roc"] = roc_curve(truth, prob)
        return summary
    truth = y.astype("int64").reshape(-1)
    summary["labels"] = [str(c) for c in target.classes]
    summary["confusion"] = confusion(truth, outputs.argmax(axis=-1), target.n_classes).tolist()
    return summary


def regression_figures(truth: np.ndarray, pred: np.ndarray, *, bins: int = 30) -> dict:
    """Error histogram (predicted - true) and predictions per true value (or decile)."""
    truth = np.asarray(truth, "float32").reshape(-1)  # float32 halves what millions of
    pred = np.asarray(pred, "float32").reshape(-1)  # rows hold; sums are taken in float64
    err = pred - truth
    hist, edges = np.histogram(err, bins=bins) if len(err) else (np.zeros(0), np.zeros(1))
    values = np.unique(truth)
    if 0 < len(values) <= _MANY_VALUES:
        cuts = None
    else:
        cuts = np.quantile(truth, np.linspace(0, 1, 11)) if len(truth) else np.zeros(0)
    groups: list[dict] = []
    for value, mask in _groups(truth, values, cuts):  # one mask at a time
        p = pred[mask]
        q10, q25, q50, q75, q90 = (float(q) for q in np.quantile(p, [0.1, 0.25, 0.5, 0.75, 0.9]))
        groups.append({
            "true": value, "rows": int(mask.sum()), "mean": float(p.mean(dtype=np.float64)),
            "q10": q10, "q25": q25, "q50": q50, "q75": q75, "q90": q90,
        })
    square = float(np.add.reduce(np.square(err), dtype=np.float64))
    return {
        "rmse": float(np.sqrt(square / len(err))) if len(err) else float("nan"),
        "mae": float(np.abs(err).mean(dtype=np.float64)) if len(err) else float("nan"),
        "errors": {"histogram": np.asarray(hist).astype("int64").tolist(),
                   "edges": np.asarray(edges).tolist()},
        "by_true_value": groups,
    }


def _groups(truth: np.ndarray, values: np.ndarray, cuts: np.ndarray | None):
    """(true value or the decile's mean, rows mask) per group of true values, one at a time."""
    if cuts is None:
        for v in values:
            yield float(v), truth == v
        return
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=False):
        mask = (truth >= lo) & ((truth < hi) | (hi == cuts[-1]))
        if mask.any():
            yield float(truth[mask].mean(dtype=np.float64)), mask


def roc_curve(truth: np.ndarray, score: np.ndarray, points: int = _ROC_POINTS) -> dict:
    """False- and true-positive rates at `points` score thresholds (quantiles of the scores)."""
    truth = np.asarray(truth).reshape(-1) > 0
    score = np.asarray(score, "float64").reshape(-1)
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    if n_pos == 0 or n_neg == 0:
        return {"fpr": [], "tpr": []}
    thresholds = np.unique(np.quantile(score, np.linspace(0, 1, points)))[::-1]
    order = np.argsort(-score, kind="stable")
    sorted_scores, sorted_truth = score[order], truth[order]
    tp = np.cumsum(sorted_truth)
    fp = np.cumsum(~sorted_truth)
    # rows with score >= threshold: the count of sorted scores above or equal to it
    taken = np.searchsorted(-sorted_scores, -thresholds, side="right")
    tpr = np.where(taken > 0, tp[np.maximum(taken - 1, 0)] / n_pos, 0.0)
    fpr = np.where(taken > 0, fp[np.maximum(taken - 1, 0)] / n_neg, 0.0)
    return {"fpr": [0.0, *fpr.round(5).tolist(), 1.0], "tpr": [0.0, *tpr.round(5).tolist(), 1.0]}
