"""Keras callbacks used by the trainer (imported when training starts: they need Keras)."""

from __future__ import annotations

import time

import keras
import numpy as np

from embedlab.errors import TrainingError
from embedlab.training.metrics import roc_auc


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training with a `TrainingError` as soon as an epoch's loss (or validation loss)
    is NaN or infinite, naming the epoch and the likely causes; nothing is saved after it.

    Checked once per epoch from the logs Keras already gathered, so steps pay nothing.

    Args:
        learning_rate: Float. The rate of the phase, for the message.
    """

    def __init__(self, learning_rate: float):
        super().__init__()
        self.learning_rate = learning_rate

    def on_epoch_end(self, epoch, logs=None):
        for name in ("loss", "val_loss"):
            value = (logs or {}).get(name)
            if value is not None and not np.isfinite(float(value)):
                raise TrainingError(
                    f"training diverged: the {name.replace('val_', 'validation ')} became "
                    f"{float(value)} in epoch {epoch + 1}. Expected a finite loss; the "
                    f"learning rate ({self.learning_rate:g}) is likely too high, or the labels "
                    "hold extreme values. Lower --learning-rate or check the labels; no "
                    "bundle was written."
                )


class ValidationAUC(keras.callbacks.Callback):
    """Adds `val_auc` to each epoch's logs (before later callbacks read them).

    The AUC is computed once per epoch from one pass over the validation rows, so training
    steps pay nothing for it (a streaming `keras.metrics.AUC` would update every step).

    Args:
        x_val, y_val: Arrays. The validation rows and their 0/1 targets.
        batch_size: Integer. The training batch size (predictions use at least 256).
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, batch_size: int):
        super().__init__()
        self.x_val, self.y_val, self.batch_size = x_val, y_val, batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        scores = self.model.predict(self.x_val, batch_size=max(256, self.batch_size), verbose=0)
        logs["val_auc"] = roc_auc(self.y_val, np.asarray(scores).reshape(-1))


class KeepBestEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's `EarlyStopping(restore_best_weights=True)`, without holding copies of the
    weights in memory: big weights (at least `spill_bytes`) wait in a temporary folder.

    Keras's callback keeps `model.get_weights()` (a second copy of every table, two on the
    first epoch), which for a table of millions of rows costs as much memory as the table.
    Here the best epoch's weights are written out one variable at a time (on CPU a variable
    is read without a copy); when the last epoch is the best nothing is written, and at the
    end the best weights are put back if the last epoch was not the best.
    """

    def __init__(self, *, spill_bytes: int = 64 << 20, restored: dict | None = None,
                 **kwargs):
        super().__init__(restore_best_weights=False, **kwargs)
        self.spill_bytes = int(spill_bytes)
        self._kept: list | None = None  # arrays, or paths of .npy files
        self._folder = None
        self._best_is_current = False
        self.restored = restored  # a checkpoint's state() and "kept" arrays, for a resume

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._drop()
        if self.restored is not None:
            self.best, self.best_epoch = self.restored["best"], self.restored["best_epoch"]
            self.wait = self.restored["wait"]
            self._best_is_current = self.restored["best_is_current"]
            self._kept = self.restored.get("kept")

    def state(self) -> dict:
        """Where early stopping stands (for a checkpoint); `kept_arrays()` gives the rest."""
        return {"best": float(self.best), "best_epoch": int(self.best_epoch),
                "wait": int(self.wait), "best_is_current": bool(self._best_is_current)}

    def kept_arrays(self) -> list[np.ndarray] | None:
        """The best epoch's weights when they are not the model's current ones."""
        if self._best_is_current or self._kept is None:
            return None
        return [np.load(k) if isinstance(k, str) else k for k in self._kept]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        current = (logs or {}).get(self.monitor)
        if current is None or self.best_epoch != epoch or self.wait != 0:
            self._best_is_current = False
            return
        self._best_is_current = True
        last = epoch + 1 >= int(self.params.get("epochs", 0) or 0)
        if not last and not self.model.stop_training:
            self._keep()

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        try:
            if self._kept is not None and not self._best_is_current:
                for variable, kept in zip(self.model.weights, self._kept, strict=True):
                    variable.assign(np.load(kept) if isinstance(kept, str) else kept)
        finally:
            self._drop()

    def _keep(self) -> None:
        import shutil
        import tempfile

        weights = self.model.weights
        big = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in weights)
        if big < self.spill_bytes:
            self._drop()
            self._kept = [np.array(v.value) for v in weights]
            return
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="embedlab-best-")
        kept = []
        try:
            for k, variable in enumerate(weights):
                path = f"{self._folder}/{k}.npy"
                np.save(path, np.asarray(variable.value))
                kept.append(path)
        except OSError:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder, self._kept = None, None
            raise
        self._kept = kept

    def _drop(self) -> None:
        import shutil

        self._kept = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class SaveCheckpoint(keras.callbacks.Callback):
    """Writes a `Checkpoint` after every epoch (after early stopping has judged it).

    Args:
        checkpoint: `embedlab.training.checkpoint.Checkpoint`.
        state: Dict. What the trainer knows of the run before this phase (see
            `trainer.train`); the epochs of this phase are added as they end.
        row: Callable `(logs, epoch) -> dict`: the history row of an epoch.
        early_stopping: Optional `KeepBestEarlyStopping` of this phase.
        phase_best: Optional list of arrays: an earlier phase's best weights.
    """

    def __init__(self, checkpoint, state: dict, row, early_stopping=None, phase_best=None):
        super().__init__()
        self.checkpoint, self.state, self.row = checkpoint, state, row
        self.early_stopping, self.phase_best = early_stopping, phase_best

    def on_epoch_end(self, epoch, logs=None):
        from embedlab.training import checkpoint as saved

        self.state["phase_rows"].append(self.row(logs or {}, epoch))
        stopping = self.early_stopping
        state = {**self.state, "phase_stopped": bool(self.model.stop_training),
                 "early_stopping": None if stopping is None else stopping.state(),
                 "random": saved.random_state()}
        self.checkpoint.save(state, {
            "model": saved.read(self.model.variables),
            "optimizer": saved.read(self.model.optimizer.variables),
            "best": None if stopping is None else stopping.kept_arrays(),
            "phase_best": self.phase_best,
        })


class EpochTimer(keras.callbacks.Callback):
    """Seconds each epoch spent training (up to its validation pass), in `seconds`."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def _stop(self) -> None:
        if self._start is not None:
            self.seconds.append(time.perf_counter() - self._start)
            self._start = None

    def on_test_begin(self, logs=None):
        self._stop()

    def on_epoch_end(self, epoch, logs=None):
        self._stop()


class RowsProgress(keras.callbacks.Callback):
    """Progress of a streamed fit on stderr: rows done, rows/s and the time left.

    On a terminal one line is rewritten twice a second; elsewhere (a log file) a line is
    written every `every` seconds. Each epoch ends with a line of its loss figures. The
    time left assumes every epoch runs (early stopping may end sooner).

    Args:
        rows: Integer. Training rows per epoch.
        batch_size: Integer.
        epochs: Integer. Epochs this fit may run.
        live: Boolean. Rewrite one line (a terminal) rather than write lines.
        every: Float. Seconds between lines when not `live`.
        stream: A text file (default: `sys.stderr`).
    """

    def __init__(self, rows: int, batch_size: int, epochs: int, *, live: bool,
                 every: float = 30.0, stream=None):
        super().__init__()
        self.rows, self.batch_size, self.epochs = int(rows), int(batch_size), int(epochs)
        self.live, self.every = live, (0.5 if live else float(every))
        self.stream = stream
        self._epoch = 0
        self._start = self._last = 0.0
        self._rate: float | None = None  # rows/s of the last whole epoch

    def _write(self, text: str, *, end: str = "\n") -> None:
        import sys

        out = self.stream or sys.stderr
        out.write(("\r\033[K" if self.live else "") + text + end)
        out.flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self._last < self.every:
            return
        self._last = now
        done = min(self.rows, (batch + 1) * self.batch_size)
        rate = done / max(now - self._start, 1e-9)
        left = (self.rows - done) / rate
        left += (self.epochs - self._epoch - 1) * self.rows / (self._rate or rate)
        self._write(f"epoch {self._epoch + 1}/{self.epochs}: {_count(done)}/{_count(self.rows)}"
                    f" rows, {_count(rate)} rows/s, {_duration(left)} left",
                    end="" if self.live else "\n")

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        figures = ", ".join(f"{k} {v:.4g}" for k, v in (logs or {}).items()
                            if isinstance(v, int | float))
        self._rate = self.rows / max(seconds, 1e-9)
        self._write(f"epoch {epoch + 1}/{self.epochs}: {_count(self.rows)} rows in "
                    f"{_duration(seconds)} ({_count(self._rate)} rows/s)"
                    + (f", {figures}" if figures else ""))


def _count(n: float) -> str:
    """1234567 -> '1.23M'."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def _duration(seconds: float) -> str:
    """75 -> '1m15s'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
