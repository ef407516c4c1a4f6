"""Keras callbacks used by the trainer (imported when training starts: they need Keras)."""

from __future__ import annotations

import time

import keras
import numpy as np

from embedlab.training.metrics import roc_auc


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
