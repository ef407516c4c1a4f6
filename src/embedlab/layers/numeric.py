"""NumericEmbedding: each numeric column's encoding mapped to its own vector.

The tabular model's numeric input is (rows, columns, width): per column, its piecewise-linear
encoding over its bins (`embedlab.models.numeric_bins`), zero-padded to the widest column.
This layer gives every column its own linear map to `dim` numbers and a ReLU, Gorishniy et
al.'s "PLE + linear + ReLU" embedding, and returns them side by side: (rows, columns * dim).
Padding places are always 0, so they change nothing.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="embedlab")
class NumericEmbedding(keras.layers.Layer):
    """A linear map and ReLU per column of a (rows, columns, width) input, flattened.

    Args:
        dim: Integer. Vector size per column.
    """

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)

    def build(self, input_shape):
        columns, width = int(input_shape[1]), int(input_shape[2])
        scale = width ** -0.5  # PyTorch's Linear default, which the paper's models use
        init = keras.initializers.RandomUniform(-scale, scale)
        self.kernel = self.add_weight(name="kernel", shape=(columns, width, self.dim),
                                      initializer=init)
        self.bias = self.add_weight(name="bias", shape=(columns, self.dim), initializer=init)

    def call(self, inputs):
        ops = keras.ops
        vectors = ops.relu(ops.einsum("bcw,cwd->bcd", inputs, self.kernel) + self.bias)
        return ops.reshape(vectors, (-1, vectors.shape[1] * self.dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(input_shape[1]) * self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}
