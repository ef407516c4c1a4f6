"""What every training job does at its end: save the bundle, then draw its report."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from embedlab import artifacts, atomic, locks
from embedlab.errors import ConfigError
from embedlab.inspect.report import report_after_training
from embedlab.models.base import EmbeddingModel
from embedlab.training.checkpoint import Checkpoint, checkpoint_path
from embedlab.training.processes import is_primary, process_count


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
def claim_output(output: str | os.PathLike, model: EmbeddingModel | None = None, *,
                 resume: bool = False, run: dict | None = None) -> Iterator[Path]:
    """Hold a training run's output from start-up to commit: checked (a new or empty
    directory, or an older bundle; in a writable place) and locked before any data is read,
    with what killed runs left beside it removed.

    With a `model`, the run keeps a checkpoint beside the output after every epoch
    (`.NAME.checkpoint`, see `embedlab.training.checkpoint`): with `resume` it continues
    from the one an interrupted run of the same command (`run`: its options and inputs)
    left, else an older one is discarded. It is removed once the bundle is written.

    In a run of many processes only process 0 does any of this; the others never touch
    the output (they train alongside it and write nothing)."""
    if process_count() > 1:
        if resume:
            raise ConfigError(
                "--resume is not supported over several processes yet (each would need "
                "process 0's checkpoint). Rerun without --resume, or on one process."
            )
        if not is_primary():
            yield Path(output)
            return
    path = artifacts.check_output(output)
    with locks.output_lock(path):
        atomic.remove_stale(path, locked=True)
        checkpoint = None
        if model is not None:
            checkpoint = Checkpoint(checkpoint_path(path), run_fingerprint(run or {}),
                                    resume=resume)
            if not resume:
                checkpoint.discard()
            model.checkpoint = checkpoint
        yield path
        if checkpoint is not None:
            checkpoint.discard()
            model.checkpoint = None


def run_fingerprint(run: dict) -> str:
    """A digest of a run's options and inputs: a file or folder by its path, sizes and
    modification times, a table by its schema and size."""

    def identity(value):
        if isinstance(value, pa.Table):
            return ["table", str(value.schema), value.num_rows, value.nbytes]
        if isinstance(value, str | os.PathLike) and Path(value).exists():
            root = Path(value).resolve()
            files = sorted(root.rglob("*")) if root.is_dir() else [root]
            return ["file", str(root), [(str(f), f.stat().st_size, f.stat().st_mtime_ns)
                                        for f in files[:10_000] if f.is_file()]]
        if isinstance(value, dict):
            return {str(k): identity(v) for k, v in sorted(value.items(), key=str)}
        if isinstance(value, list | tuple):
            return [identity(v) for v in value]
        return repr(value)

    text = json.dumps(identity(run), sort_keys=True)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


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
    """Save the bundle, draw its report, and note where both went and how long it took
    (process 0 alone of a run of many; the others note no output)."""
    if not is_primary():
        report.seconds = time.perf_counter() - start
        return report
    report.output, report.report = save_with_report(model, output, report=draw_report,
                                                    **save_options)
    report.seconds = time.perf_counter() - start
    return report
