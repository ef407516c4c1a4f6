"""The report's figures, drawn from what a bundle keeps (history, evaluation figures).

Each function returns a `matplotlib.figure.Figure` built without pyplot, so drawing works
headless, in threads and in tests; `png_bytes` renders one for an HTML page.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

_BLUE, _ORANGE, _GREY = "#1f77b4", "#ff7f0e", "#7f7f7f"


def new_figure(width: float, height: float):
    """A figure on the Agg canvas (no GUI, no global pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _main_metric(epochs: list[dict]) -> str | None:
    keys = set().union(*(row.keys() for row in epochs)) if epochs else set()
    for name in ("auc", "accuracy", "mae"):
        if f"val_{name}" in keys or name in keys:
            return name
    return None


def training_curves(history: dict[str, Any]):
    """Loss and the main metric per epoch, train and validation; the phase switches (e.g.
    frozen -> fine-tune) as dashed lines, the kept (best) epoch as a dotted one."""
    epochs = history.get("epochs") or []
    metric = _main_metric(epochs)
    fig = new_figure(9.5, 3.4)
    axes = fig.subplots(1, 2 if metric else 1, squeeze=False)[0]
    x = [row.get("epoch", i + 1) for i, row in enumerate(epochs)]
    panels = [("loss", "loss")] + ([(metric, metric.upper() if metric == "auc" else metric)]
                                   if metric else [])
    for ax, (key, title) in zip(axes, panels, strict=True):
        for prefix, colour, name in (("", _BLUE, "train"), ("val_", _ORANGE, "validation")):
            values = [row.get(prefix + key) for row in epochs]
            if any(v is not None for v in values):
                ax.plot(x, [np.nan if v is None else v for v in values], marker="o",
                        markersize=3, color=colour, label=name)
        for phase in (history.get("phases") or [])[1:]:
            start = phase.get("start_epoch", 0) + 0.5
            ax.axvline(start, color=_GREY, linestyle="--", linewidth=1)
            ax.annotate(phase.get("name", ""), (start, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -10), textcoords="offset points", fontsize=8, color=_GREY)
        best = history.get("best_epoch")
        if best:
            ax.axvline(best, color="#2ca02c", linestyle=":", linewidth=1.2)
            ax.annotate("kept", (best, 0.0), xycoords=("data", "axes fraction"),
                        xytext=(3, 4), textcoords="offset points", fontsize=8, color="#2ca02c")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if x:
            ax.set_xticks(x if len(x) <= 20 else x[:: max(1, len(x) // 10)])
        ax.legend(fontsize=8, frameon=False)
    return fig


def confusion_figure(evaluation: dict[str, Any]):
    """The confusion matrix (counts and row shares), and the ROC curve when binary."""
    matrix = np.asarray(evaluation["confusion"], dtype="float64")
    labels = evaluation.get("labels") or [str(i) for i in range(len(matrix))]
    roc = evaluation.get("roc") or {}
    has_roc = bool(roc.get("fpr"))
    size = min(4.2 + 0.25 * len(labels), 8.0)
    fig = new_figure(size + (3.6 if has_roc else 0), size * 0.85)
    axes = fig.subplots(1, 2 if has_roc else 1, squeeze=False,
                        width_ratios=[size, 3.6] if has_roc else None)[0]
    ax = axes[0]
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    small = len(labels) <= 12
    for (i, j), count in np.ndenumerate(matrix):
        if small:
            ax.text(j, i, f"{int(count):,}\n{shares[i, j]:.0%}", ha="center", va="center",
                    fontsize=8, color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(labels)), [_short(v) for v in labels], rotation=45 if
                  len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center",
                  fontsize=8)
    ax.set_yticks(range(len(labels)), [_short(v) for v in labels], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix ({evaluation.get('split', '')} rows)", fontsize=10)
    if has_roc:
        ax = axes[1]
        ax.plot(roc["fpr"], roc["tpr"], color=_BLUE)
        ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1)
        auc = evaluation.get("auc")
        ax.set_title("ROC curve" + (f" (AUC {auc:.3f})" if auc is not None else ""), fontsize=10)
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    return fig


def error_figure(evaluation: dict[str, Any], *, unit: str = "value"):
    """Regression: the histogram of errors (predicted - true), and the predictions for each
    true value (median, 25-75% and 10-90% ranges) beside the ideal line."""
    fig = new_figure(9.5, 3.4)
    left, right = fig.subplots(1, 2)
    errors = evaluation.get("errors") or {}
    edges = np.asarray(errors.get("edges") or [0, 1], dtype="float64")
    counts = np.asarray(errors.get("histogram") or [0], dtype="float64")
    left.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=_BLUE,
             edgecolor="white")
    left.axvline(0, color=_GREY, linestyle="--", linewidth=1)
    rmse = evaluation.get("rmse")
    left.set_title("errors: predicted - true" + (f" (RMSE {rmse:.3f})" if rmse else ""),
                   fontsize=10)
    left.set_xlabel(f"error ({unit})")
    left.set_ylabel("rows")
    groups = evaluation.get("by_true_value") or []
    if groups:
        truth = np.array([g["true"] for g in groups])
        width = (np.min(np.diff(truth)) * 0.5) if len(truth) > 1 else 0.5
        for g in groups:
            right.vlines(g["true"], g["q10"], g["q90"], color=_BLUE, linewidth=1)
            right.add_patch(_box(g["true"] - width / 2, g["q25"], width, g["q75"] - g["q25"]))
            right.hlines(g["q50"], g["true"] - width / 2, g["true"] + width / 2, color="black")
        low, high = float(truth.min()), float(truth.max())
        right.plot([low, high], [low, high], color=_ORANGE, linestyle="--", linewidth=1,
                   label="prediction = truth")
        right.legend(fontsize=8, frameon=False, loc="upper left")
    right.set_title("predictions per true value", fontsize=10)
    right.set_xlabel(f"true {unit}")
    right.set_ylabel(f"predicted {unit}")
    right.grid(alpha=0.3)
    return fig


def _box(x: float, y: float, width: float, height: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), width, height, facecolor="#aec7e8", edgecolor=_BLUE)


def _short(label: str, limit: int = 14) -> str:
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"
