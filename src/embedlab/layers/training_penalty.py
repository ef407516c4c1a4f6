"""TrainingPenalty: the per-row L2 penalty of matrix factorisation, while training only."""

from __future__ import annotations

import keras


class TrainingPenalty(keras.layers.Layer):
    """Passes the prediction through and, while training, adds
    `l2 * mean over rows of (|p|^2 + |q|^2)` to the loss: the classic per-rating penalty of
    matrix factorisation. Outside training it adds nothing, so validation losses are pure
    (Keras counts a regularizer's loss in `val_loss` too).

    Args:
        l2: Float. The penalty's weight.

    Input: `[prediction, p (batch, dim), q (batch, dim)]`. Output: the prediction.
    """

    def __init__(self, l2: float, **kwargs):
        super().__init__(**kwargs)
        self.l2 = float(l2)

    def call(self, inputs, training=None):
        out, p, q = inputs
        if training:
            rows = keras.ops.sum(keras.ops.square(p), axis=-1) + keras.ops.sum(
                keras.ops.square(q), axis=-1)
            self.add_loss(self.l2 * keras.ops.mean(rows))
        return out

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "l2": self.l2}
