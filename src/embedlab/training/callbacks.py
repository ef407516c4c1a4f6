"""Keras callbacks used by the trainer."""

from __future__ import annotations

import numpy as np

from embedlab.training.metrics import roc_auc


def validation_auc_callback(x_val: np.ndarray, y_val: np.ndarray, batch_size: int):
    """A callback that adds `val_auc` to each epoch's logs (before later callbacks read them).

    The AUC is computed once per epoch from one pass over the validation rows, so training
    steps pay nothing for it (a streaming `keras.metrics.AUC` would update every step).
    """
    import keras

    class ValidationAUC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None:
                return
            scores = self.model.predict(x_val, batch_size=max(256, batch_size), verbose=0)
            logs["val_auc"] = roc_auc(y_val, np.asarray(scores).reshape(-1))

    return ValidationAUC()
