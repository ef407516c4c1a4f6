"""What every training job does at its end: save the bundle, then draw its report."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from embedlab import artifacts, atomic, locks
from embedlab.inspect.report import report_after_training
from embedlab.models.base import EmbeddingModel


def save_with_report(
    model: EmbeddingModel, output: str | os.PathLike, *, report: bool, **save_options
) -> tuple[Path, Path | None]:
    """Save a trained model's bundle and, with `report`, draw its report.html in it before
    it is swapped in (a kill at any point leaves the old bundle or the new one with its
    report). Returns (bundle path, report path or None)."""
    output = Path(output)
    drawn: list[Path | None] = [None]

    def draw(tmp: Path) -> None:
        if report_after_training(tmp, model, title=str(output)) is not None:
            drawn[0] = output / artifacts.REPORT

    path = model.save(output, before_commit=draw if report else None, **save_options)
    return path, drawn[0]


@contextlib.contextmanager
def claim_output(output: str | os.PathLike) -> Iterator[Path]:
    """Hold a training run's output from start-up to commit: checked (a new or empty
    directory, or an older bundle; in a writable place) and locked before any data is read,
    with what killed runs left beside it removed."""
    path = artifacts.check_output(output)
    with locks.output_lock(path):
        atomic.remove_stale(path, locked=True)
        yield path


@dataclass(kw_only=True)
class RunReport:
    """What every training job reports of its run, beside what its kind adds."""

    validation: dict = field(default_factory=dict)  # metrics of the kept epoch
    epochs_run: int = 0
    best_epoch: int | None = None
    seconds: float = 0.0
    output: Path | None = None
    report: Path | None = None


def run_summary(model: EmbeddingModel) -> dict:
    """The RunReport fields a model's training history gives."""
    history = model.history
    return {
        "validation": history.best_validation() if history else {},
        "epochs_run": len(history.epochs) if history else 0,
        "best_epoch": history.best_epoch if history else None,
    }


def finish(report: RunReport, model: EmbeddingModel, output: str | os.PathLike, *,
           draw_report: bool, start: float, **save_options) -> RunReport:
    """Save the bundle, draw its report, and note where both went and how long it took."""
    report.output, report.report = save_with_report(model, output, report=draw_report,
                                                    **save_options)
    report.seconds = time.perf_counter() - start
    return report
