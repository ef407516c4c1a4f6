"""Evaluation metrics in numpy: AUC, accuracy, macro-F1, RMSE, MAE, confusion counts."""

from __future__ import annotations

import numpy as np


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    ranks = np.empty(len(values), dtype="float64")
    boundaries = np.flatnonzero(np.diff(sorted_vals)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form; ties count one half). NaN if one class."""
    y = np.asarray(y_true).reshape(-1) > 0.5
    s = np.asarray(score, dtype="float64").reshape(-1)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = _ranks(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts `[true, predicted]` for class ids in `[0, n_classes)`."""
    m = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(m, (np.asarray(y_true, "int64"), np.asarray(y_pred, "int64")), 1)
    return m


def macro_f1(matrix: np.ndarray) -> float:
    tp = np.diag(matrix).astype("float64")
    precision_den = matrix.sum(axis=0)
    recall_den = matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision_den + recall_den > 0, 2 * tp / (precision_den + recall_den), 0.0)
    present = recall_den > 0
    return float(f1[present].mean()) if present.any() else float("nan")


def classification_metrics(task: str, y: np.ndarray, outputs: np.ndarray, n_classes: int) -> dict:
    """Binary: accuracy + AUC; multiclass: accuracy + macro-F1. Confusion counts included."""
    outputs = np.asarray(outputs)
    if task == "binary":
        prob = outputs.reshape(-1)
        pred = (prob >= 0.5).astype("int64")
        truth = np.asarray(y).reshape(-1).astype("int64")
        m = confusion(truth, pred, 2)
        return {
            "accuracy": float((pred == truth).mean()),
            "auc": roc_auc(truth, prob),
            "confusion": m.tolist(),
        }
    pred = outputs.argmax(axis=-1)
    truth = np.asarray(y).astype("int64")
    m = confusion(truth, pred, n_classes)
    return {
        "accuracy": float((pred == truth).mean()),
        "macro_f1": macro_f1(m),
        "confusion": m.tolist(),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    err = np.asarray(pred, "float64").reshape(-1) - np.asarray(y, "float64").reshape(-1)
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}
