"""Labels: which task a label column asks for, and how labels become training targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.errors import ConfigError, LabelError

MAX_CLASSES = 20
TASKS = ("binary", "multiclass", "regression")


def _python_values(values) -> list:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.to_pylist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


def _tidy(value: Any) -> Any:
    """JSON-safe scalars; a float that is a whole number becomes an int (5.0 -> 5)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class Target:
    """How one label column is learned: the task, its classes, and the encoding to targets.

    Attributes:
        task: String. `binary`, `multiclass` or `regression`.
        classes: List. The labels in sorted order (classifiers); index = class id.
        positive: The positive class (binary); predictions' `probability` is of this class.
        mean, std: Floats. Regression targets are standardised with these while training.
        reason: String. Why this task was chosen, for the user.
    """

    task: str
    classes: list = field(default_factory=list)
    positive: Any = None
    mean: float = 0.0
    std: float = 1.0
    reason: str = ""

    @classmethod
    def infer(cls, values, *, task: str | None = None, positive: Any = None) -> Target:
        """Choose the task for a label column (missing values must be dropped already).

        Two distinct values -> binary; up to 20 distinct integers or strings -> multiclass;
        other numbers -> regression. `task` overrides; `positive` names the positive class.
        """
        if task is not None and task not in TASKS:
            raise ConfigError(
                f"`task` must be one of {', '.join(TASKS)}. Received: task={task!r}."
            )
        raw = [_tidy(v) for v in _python_values(values)]
        if not raw:
            raise LabelError("the label column has no values. Pass rows with labels.")
        nested = next((v for v in raw if isinstance(v, list | dict | tuple)), None)
        if nested is not None:
            raise LabelError(
                "a label must be one plain value (text or a number). Received a nested value "
                f"such as {str(nested)[:60]!r}. Pass a label column of plain values."
            )
        distinct = sorted(set(raw))
        numeric = all(_is_number(v) for v in distinct)
        integral = numeric and all(isinstance(v, int) for v in distinct)
        n = len(distinct)
        if task is None:
            if n == 2:
                task, reason = "binary", "the label has 2 distinct values"
            elif n == 1:
                raise LabelError(
                    f"the label column has one class only ({distinct[0]!r}). A classifier needs "
                    "at least 2; check the label column and the rows kept."
                )
            elif numeric and not (integral and n <= MAX_CLASSES):
                task, reason = "regression", f"the label is numeric with {n} distinct values"
            elif n <= MAX_CLASSES:
                task, reason = "multiclass", f"the label has {n} distinct values"
            else:
                task = "multiclass"
                reason = f"the label is text with {n} distinct values"
        else:
            reason = "chosen with --task"
        if task == "regression":
            if not numeric:
                raise LabelError(
                    "regression needs a numeric label. Received values such as "
                    f"{distinct[0]!r}. Pass --task binary or multiclass, or a numeric column."
                )
            arr = _finite_labels(np.asarray(raw, dtype="float64"))
            std = float(arr.std()) or 1.0
            return cls(task, [], None, float(arr.mean()), std, reason)
        if n < 2:
            raise LabelError(
                f"the label column has one class only ({distinct[0]!r}). A classifier needs "
                "at least 2; check the label column and the rows kept."
            )
        if task == "binary":
            if n != 2:
                raise LabelError(
                    f"binary needs exactly 2 label values. Received {n}: "
                    f"{_preview(distinct)}. Pass --task multiclass."
                )
            pos = distinct[1] if positive is None else _match(positive, distinct)
            return cls(task, distinct, pos, reason=reason + f"; positive class {pos!r}")
        if positive is not None:
            raise ConfigError(
                "`positive` only applies to a binary task. Received positive="
                f"{positive!r} with task={task!r}. Remove --positive."
            )
        return cls(task, distinct, None, reason=reason)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def encode(self, values) -> np.ndarray:
        """Labels -> training targets (0/1 floats, class ids, or standardised numbers)."""
        raw = [_tidy(v) for v in _python_values(values)]
        if self.task == "regression":
            try:
                arr = np.asarray(raw, dtype="float64")
            except (TypeError, ValueError) as exc:
                raise LabelError(
                    f"regression needs numeric labels. Received {exc}. Check the label column."
                ) from None
            return ((_finite_labels(arr) - self.mean) / self.std).astype("float32")
        index = {v: i for i, v in enumerate(self.classes)}
        unseen = [v for v in set(raw) if v not in index]
        if unseen:
            raise LabelError(
                f"labels {_preview(sorted(unseen, key=str))} were not among the training "
                f"labels {_preview(self.classes)}. Drop those rows or retrain with them."
            )
        ids = np.fromiter((index[v] for v in raw), dtype="int32", count=len(raw))
        if self.task == "binary":
            pos = index[self.positive]
            return (ids == pos).astype("float32")
        return ids

    def decode(self, outputs: np.ndarray) -> tuple[list, np.ndarray | None]:
        """Model outputs -> (predicted labels, probabilities or None).

        Binary probabilities are of the positive class, shape `(n,)`; multiclass ones are
        `(n, n_classes)` in `classes` order.
        """
        outputs = np.asarray(outputs)
        if self.task == "regression":
            values = outputs.reshape(-1).astype("float64") * self.std + self.mean
            return values.tolist(), None
        if self.task == "binary":
            prob = outputs.reshape(-1).astype("float64")
            negative = [c for c in self.classes if c != self.positive][0]
            labels = [self.positive if p >= 0.5 else negative for p in prob]
            return labels, prob
        ids = outputs.argmax(axis=-1)
        return [self.classes[i] for i in ids], outputs.astype("float64")

    def prediction_columns(self, outputs: np.ndarray) -> dict[str, list]:
        """Model outputs -> the output columns every model writes: `predicted`, and
        `probability` (binary, of the positive class) or one `probability_<class>` per class."""
        labels, prob = self.decode(outputs)
        columns: dict[str, list] = {"predicted": labels}
        if self.task == "binary":
            columns["probability"] = prob.tolist()
        elif self.task == "multiclass":
            for i, cls in enumerate(self.classes):
                columns[f"probability_{cls}"] = prob[:, i].tolist()
        return columns

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Target:
        return cls(**data)


_LARGEST_LABEL = float(np.finfo("float32").max)  # training runs in float32


def _finite_labels(arr: np.ndarray) -> np.ndarray:
    """`arr`, once every value is finite and within float32's range."""
    bad = ~(np.abs(arr) <= _LARGEST_LABEL)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise LabelError(
            f"regression labels must be finite numbers within float32's range (|x| <= 3.4e38)."
            f" Received {int(bad.sum())} that are not, the first {float(arr[first])!r} "
            f"(row {first}). Remove or fix those rows."
        )
    return arr


def _match(positive: Any, distinct: list) -> Any:
    for value in distinct:
        if value == positive or str(value) == str(positive):
            return value
    raise LabelError(
        f"--positive {positive!r} is not a label value; the labels are {_preview(distinct)}. "
        "Pass one of them."
    )


def _preview(values: list, n: int = 8) -> str:
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f", ... ({len(values)} in all)" if len(values) > n else "")
