"""NegativeSampler: fresh negative items at every training step (implicit feedback)."""

from __future__ import annotations

import keras


class NegativeSampler(keras.layers.Layer):
    """While training, replaces the item of each row flagged negative with an item drawn
    uniformly from `[low, high)`; outside training it passes the items through.

    Args:
        low: Integer. The first id that may be drawn (ids below are reserved).
        high: Integer. One past the last id that may be drawn.
        seed: Integer. Seeds the draws.

    Input: `[items (batch,) int32, flags (batch,) float32]`; a flag above 0.5 marks a negative.
    Output: the items, `(batch,)`.
    """

    def __init__(self, low: int, high: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.low = int(low)
        self.high = int(high)
        self.seed = int(seed)
        self.generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        items, flags = inputs
        if not training:
            return items
        drawn = keras.random.randint(keras.ops.shape(items), self.low, self.high, dtype="int32",
                                     seed=self.generator)
        return keras.ops.where(flags > 0.5, drawn, items)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "low": self.low, "high": self.high, "seed": self.seed}
