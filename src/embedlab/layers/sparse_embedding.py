"""SparseEmbedding: an embedding table whose training touches only the rows a batch uses.

Plain Keras on JAX computes a dense gradient for an `Embedding` table and its optimizer
rewrites every row (and every optimizer slot) at every step, so a step costs what the table
holds, not what the batch uses (keras-team/keras#19992). A `SparseEmbedding` keeps its table
out of the Keras optimizer: `embedlab.training.RowSparseModel` looks up the unique ids of
the batch, takes the gradient with respect to those rows only, updates them with a
row-wise optimizer and scatters them back. Everything else in the model trains with the
ordinary Keras optimizer.

Row-wise optimizers (`optimizer=`):

- `"adagrad"` (default; what large recommender systems use, e.g. TorchRec's fused
  row-wise Adagrad): one accumulator per row, `a += mean(g ** 2)`, then
  `row -= lr * g / (sqrt(a) + epsilon)`. One float of state per row.
- `"adam"` (lazy Adam): Adam's two moments per value, updated for the rows in the batch
  only; rows not in the batch keep their moments undecayed (as TensorFlow Addons'
  LazyAdam). Bias correction uses the global step. Two table-sized slots.

On a backend other than JAX the table trains densely through the Keras optimizer, with a
one-line warning.
"""

from __future__ import annotations

import logging
import random

import keras

log = logging.getLogger(__name__)

OPTIMIZERS = ("adagrad", "adam")
_warned: set[str] = set()


def sparse_backend() -> bool:
    """Whether this Keras backend trains tables row-sparsely (JAX)."""
    return keras.backend.backend() == "jax"


@keras.saving.register_keras_serializable(package="embedlab")
class BlockwiseUniform(keras.initializers.Initializer):
    """Uniform values in `[minval, maxval)`, drawn a block of rows at a time into the
    table in place: a table of 10M rows costs its own bytes to initialise, where drawing
    it whole (as `keras.initializers.RandomUniform` does on JAX) holds several times that
    in temporaries.

    Args:
        minval, maxval: Floats. The range (Keras's `Embedding` default: -0.05, 0.05).
        seed: Optional integer.
        rows: Integer. Rows drawn per block.
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None,
                 rows: int = 1 << 16):
        self.minval, self.maxval, self.seed, self.rows = float(minval), float(maxval), seed, rows

    def __call__(self, shape, dtype=None):
        if keras.backend.backend() != "jax" or len(shape) != 2 or shape[0] <= self.rows:
            return keras.initializers.RandomUniform(self.minval, self.maxval, self.seed)(
                shape, dtype=dtype)
        import jax
        import jax.numpy as jnp

        n, dim = shape
        dtype = keras.backend.standardize_dtype(dtype or "float32")
        # Python's generator, as Keras's own initializers draw a default seed (seeded by
        # keras.utils.set_random_seed): a random op here would be traced, not run, when a
        # mesh builds the table inside a compiled function.
        seed = self.seed if self.seed is not None else random.randint(0, 2**31 - 2)
        key = jax.random.PRNGKey(seed)
        block = self.rows
        low, high = self.minval, self.maxval
        draw = jax.jit(lambda k: jax.random.uniform(k, (block, dim), dtype, low, high))
        put = jax.jit(lambda t, b, s: jax.lax.dynamic_update_slice(t, b, (s, 0)),
                      donate_argnums=0)
        table = jnp.zeros((n, dim), dtype)
        for i, start in enumerate(range(0, n, block)):  # the last block overlaps the one before
            table = put(table, draw(jax.random.fold_in(key, i)), min(start, n - block))
        return table

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "rows": self.rows}


@keras.saving.register_keras_serializable(package="embedlab")
class PaddedRows(keras.initializers.Initializer):
    """The rows of `initializer` for a `(rows, dim)` table, then zero rows up to the shape
    asked for (a table padded to a multiple of a mesh's model axis): the real rows are
    those an unpadded table would draw.

    Args:
        initializer: A Keras initializer. Draws the real rows.
        rows: Integer. Rows it draws.
    """

    def __init__(self, initializer, rows: int):
        self.initializer = keras.initializers.get(initializer)
        self.rows = int(rows)

    def __call__(self, shape, dtype=None):
        real = self.initializer((self.rows, *shape[1:]), dtype=dtype)
        pad = keras.ops.zeros((shape[0] - self.rows, *shape[1:]), dtype=real.dtype)
        return keras.ops.concatenate([real, pad], axis=0)

    def get_config(self) -> dict:
        return {"initializer": keras.initializers.serialize(self.initializer),
                "rows": self.rows}


def zero_rows(variable, rows) -> None:
    """Sets the given rows of a table variable to zero in place: on JAX the table's buffer
    is donated to the update, so a table of millions of rows costs no second copy."""
    import numpy as np

    rows = np.asarray(rows, dtype="int64")
    if not len(rows):
        return
    if keras.backend.backend() != "jax":
        table = np.array(variable.value)
        table[rows] = 0
        variable.assign(table)
        return
    import jax

    clear = jax.jit(lambda t, i: t.at[i].set(0), donate_argnums=0)
    variable.assign(clear(variable.value, rows.astype("int32")))


@keras.saving.register_keras_serializable(package="embedlab")
class SparseEmbedding(keras.layers.Embedding):
    """An embedding table trained row-sparsely inside a `RowSparseModel`.

    Example:

    ```python
    ids = keras.Input(shape=(), dtype="int32")
    vectors = SparseEmbedding(1_000_000, 64)(ids)
    score = keras.layers.Dense(1, activation="sigmoid")(vectors)
    model = RowSparseModel(ids, score)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y)    # each step touches the rows of the batch's ids only
    ```

    Args:
        input_dim: Integer. Rows of the table.
        output_dim: Integer. Size of each vector.
        optimizer: String. The row-wise optimizer: `"adagrad"` (default) or `"adam"`.
        learning_rate: Optional float. Its rate; by default the model optimizer's rate
            (times 10 for Adagrad, whose steps shrink as rows are seen).
        epsilon: Float. Added to the optimizer's denominator.
        initial_accumulator: Float. Adagrad's starting accumulator.
        row_penalty: Float. While training only, adds `row_penalty * mean(|row| ** 2)`
            over the rows looked up to the loss (the per-example L2 penalty of matrix
            factorisation); validation losses stay pure.
        sparse: Boolean. False trains the table densely through the model's Keras
            optimizer, as `keras.layers.Embedding` (for small tables), keeping
            `row_penalty`.
        **kwargs: as `keras.layers.Embedding` (`embeddings_initializer`, `mask_zero`,
            `name`...).

    Input shape: integer ids of any shape. Output shape: that shape + `(output_dim,)`.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        optimizer: str = "adagrad",
        learning_rate: float | None = None,
        epsilon: float = 1e-7,
        initial_accumulator: float = 0.0,
        row_penalty: float = 0.0,
        sparse: bool = True,
        **kwargs,
    ):
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"`optimizer` must be one of {', '.join(OPTIMIZERS)}. Received: "
                f"optimizer={optimizer!r}."
            )
        if learning_rate is not None and not learning_rate > 0:
            raise ValueError(
                f"`learning_rate` must be > 0 or None. Received: learning_rate={learning_rate!r}."
            )
        if not row_penalty >= 0:
            raise ValueError(f"`row_penalty` must be >= 0. Received: row_penalty={row_penalty!r}.")
        weights = kwargs.pop("weights", None)
        kwargs.setdefault("embeddings_initializer", BlockwiseUniform())
        super().__init__(input_dim, output_dim, **kwargs)
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epsilon = float(epsilon)
        self.initial_accumulator = float(initial_accumulator)
        self.row_penalty = float(row_penalty)
        self.sparse = bool(sparse) and sparse_backend()
        if sparse and not self.sparse and "backend" not in _warned:
            _warned.add("backend")
            log.warning("row-sparse tables need the JAX backend; on %s they train densely.",
                        keras.backend.backend())
        self._injected = None  # (rows, inverse) while a RowSparseModel traces its step
        if weights is not None:
            self.build()
            self.set_weights([weights] if not isinstance(weights, list) else weights)

    def build(self, input_shape=None):
        if self.built:
            return
        shape = (self.input_dim, self.output_dim)
        self._embeddings = self.add_weight(
            shape=shape, initializer=self.embeddings_initializer, name="embeddings",
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint,
            trainable=not self.sparse,
        )
        self.slots = []
        if self.sparse:
            if self.optimizer == "adagrad":
                self.slots = [self.add_weight(
                    shape=(self.input_dim,), name="accumulator", trainable=False,
                    initializer=keras.initializers.Constant(self.initial_accumulator))]
            else:
                self.slots = [self.add_weight(shape=shape, name=name, trainable=False,
                                              initializer="zeros")
                              for name in ("momentum", "velocity")]
        self.built = True

    def call(self, inputs, training=None):
        if inputs.dtype not in ("int32", "int64"):
            inputs = keras.ops.cast(inputs, "int32")
        if self._injected is not None:
            rows, inverse = self._injected
            outputs = keras.ops.reshape(keras.ops.take(rows, inverse, axis=0),
                                        (*keras.ops.shape(inputs), self.output_dim))
        else:
            outputs = keras.ops.take(self.embeddings, inputs, axis=0)
        if training and self.row_penalty:
            self.add_loss(self.row_penalty * keras.ops.mean(
                keras.ops.sum(keras.ops.square(outputs), axis=-1)))
        return keras.ops.cast(outputs, dtype=self.compute_dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "epsilon": self.epsilon,
            "initial_accumulator": self.initial_accumulator,
            "row_penalty": self.row_penalty,
            "sparse": self.sparse,
        }

    def save_own_variables(self, store) -> None:
        """The table, then the optimizer slots (so a saved model resumes its updates)."""
        if not self.built:
            return
        for index, variable in enumerate([self._embeddings, *self.slots]):
            store[str(index)] = variable

    def load_own_variables(self, store) -> None:
        """The table, and the slots when the file holds ones of this layer's shapes (a
        table saved densely, or on another backend, starts them afresh)."""
        if not self.built:
            return
        self._embeddings.assign(store["0"])
        saved = [store[str(i)] for i in range(1, len(store))]
        if len(saved) == len(self.slots) and all(
                tuple(a.shape) == tuple(v.shape) for a, v in zip(saved, self.slots, strict=True)):
            for variable, value in zip(self.slots, saved, strict=True):
                variable.assign(value)

    def set_table(self, matrix) -> None:
        """Set the table's rows (a pre-trained matrix, or rows filled after training);
        the optimizer slots are left as they are."""
        self.build()
        self._embeddings.assign(matrix)
