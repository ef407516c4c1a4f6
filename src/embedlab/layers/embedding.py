"""The one place embedding tables are created, and the guard on the ids that reach them.

On the JAX backend `keras.layers.Embedding(10, 3)` returns NaN rows for id 10 and silently
wraps id -1 to row 9: no error, just wrong numbers. Every id array embedlab feeds a model
passes `check_ids` first.
"""

from __future__ import annotations

import numpy as np

from embedlab.errors import ConfigError


def check_ids(ids: np.ndarray, input_dim: int, *, what: str = "ids") -> np.ndarray:
    """Return `ids` as int32 after checking every id lies in `[0, input_dim)`.

    Args:
        ids: Integer array. Token or category ids.
        input_dim: Integer. Number of rows of the embedding table.
        what: String. What the ids are, for the error message.

    Raises:
        ConfigError: when an id is negative, reaches `input_dim`, or the array is not integer.
    """
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ConfigError(
            f"{what} must be an integer array. Received dtype {ids.dtype}. "
            "Encode the data with the model's encoder first."
        )
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= input_dim:
            bad = low if low < 0 else high
            raise ConfigError(
                f"{what} must lie in [0, {input_dim}) for an embedding of input_dim={input_dim}. "
                f"Received id {bad}. Encode the data with the encoder the model was built with."
            )
    return ids.astype(np.int32, copy=False)


# From this many rows a table trains row-sparsely by default. Measured (bench.big_tables,
# 2 cores, batch 1024, dim 64): plain Keras Adam takes 5.0 ms a step at 10k rows, 25 ms at
# 100k and 244 ms at 1M; the row-sparse step 3.0, 3.3 and 3.7 ms. Below this size the dense
# step costs little, and small tables keep Keras's own Adam exactly.
SPARSE_FROM_ROWS = 50_000


def use_sparse(rows: int, requested: bool | None = None) -> bool:
    """Whether a table of `rows` rows trains row-sparsely: as `requested`, or (None) from
    `SPARSE_FROM_ROWS` rows."""
    if requested is not None:
        return bool(requested)
    return rows >= SPARSE_FROM_ROWS


def make_embedding(
    input_dim: int,
    output_dim: int,
    *,
    mask_zero: bool = False,
    weights: np.ndarray | None = None,
    trainable: bool = True,
    name: str = "embedding",
    sparse: bool = False,
    row_penalty: float = 0.0,
):
    """Create an embedding table: `keras.layers.Embedding`, or a `SparseEmbedding` when it
    trains row-sparsely or carries a training-only row penalty.

    A pre-trained matrix is not put into the layer's config (it would land in the model's
    JSON); it is set as the layer's weights once the layer is built, and travels with them.

    Args:
        input_dim: Integer. Size of the vocabulary (rows of the table), reserved ids included.
        output_dim: Integer. Dimension of each vector.
        mask_zero: Boolean. Whether id 0 is padding to be masked for the layers after it.
        weights: Optional float array of shape `(input_dim, output_dim)` to start from.
        trainable: Boolean. False freezes the table.
        name: String. Layer name; later tools find the table by it.
        sparse: Boolean. Train the table row-sparsely (`SparseEmbedding`, JAX).
        row_penalty: Float. A training-only L2 penalty on the rows looked up.
    """
    import keras

    if not isinstance(input_dim, int | np.integer) or input_dim <= 0:
        raise ConfigError(
            f"`input_dim` must be a positive integer. Received: input_dim={input_dim!r}."
        )
    if not isinstance(output_dim, int | np.integer) or output_dim <= 0:
        raise ConfigError(
            f"`output_dim` must be a positive integer. Received: output_dim={output_dim!r}."
        )
    if weights is not None:
        weights = np.asarray(weights, dtype="float32")
        if weights.shape != (input_dim, output_dim):
            raise ConfigError(
                f"embedding weights must have shape ({input_dim}, {output_dim}). "
                f"Received shape {weights.shape}. Align the vectors to the vocabulary first."
            )
        if not np.isfinite(weights).all():
            raise ConfigError(
                "embedding weights must be finite. Received NaN or infinite values. "
                "Check the vectors file."
            )
    rows = distributed_rows(name, int(input_dim))
    options = {}
    if rows != input_dim:  # a table sharded by rows: padding rows, zero and never looked up
        if weights is not None:
            weights = np.concatenate([weights, np.zeros((rows - input_dim, output_dim),
                                                        "float32")])
    if sparse or row_penalty:
        from embedlab.layers.sparse_embedding import BlockwiseUniform, SparseEmbedding

        if rows != input_dim:
            options["embeddings_initializer"] = padded_initializer(BlockwiseUniform(),
                                                                   int(input_dim))
        layer = SparseEmbedding(rows, int(output_dim), mask_zero=mask_zero,
                                trainable=trainable, name=name, sparse=sparse,
                                row_penalty=row_penalty, **options)
        if weights is not None:
            layer.set_table(weights)
        return layer
    if rows != input_dim:
        options["embeddings_initializer"] = padded_initializer("uniform", int(input_dim))
    layer = keras.layers.Embedding(
        rows, int(output_dim), mask_zero=mask_zero, trainable=trainable, name=name, **options
    )
    if weights is not None:
        layer.build((None,))
        layer.set_weights([weights])
    return layer


def distributed_rows(name: str, rows: int) -> int:
    """The rows table `name` is built with: `rows`, or more when the Keras distribution in
    scope shards it by rows (`embedlab.training.distribution`) and asks for a multiple of
    its model axis."""
    import keras

    distribution = keras.distribution.distribution()
    table_rows = getattr(distribution, "table_rows", None)
    return rows if table_rows is None else int(table_rows(name, rows))


def padded_initializer(initializer, rows: int):
    """`initializer` for a table of `rows` rows, padded with zero rows: the first `rows`
    rows are drawn exactly as for an unpadded table."""
    import keras

    from embedlab.layers.sparse_embedding import PaddedRows

    return PaddedRows(keras.initializers.get(initializer), rows)
