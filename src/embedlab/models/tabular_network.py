"""The tabular model's Keras network, and the rows of its tables no training value reached."""

from __future__ import annotations

import numpy as np

from embedlab.layers import make_embedding, use_sparse
from embedlab.layers.categorical import categorical_embedding
from embedlab.models.recipes import head_layer
from embedlab.models.tabular_preprocessor import (
    NUMERIC_INPUT,
    TEXT_INPUT,
    TabularPreprocessor,
    input_name,
)
from embedlab.text.categorical import PAD_ID, RESERVED
from embedlab.training.distribution import table_size
from embedlab.training.targets import Target


def tabular_network(preprocessor: TabularPreprocessor, target: Target, *, encoding: str,
                    hidden: tuple[int, ...], dropout: float, text_dim: int,
                    numeric_dim: int = 16, sparse: bool | None = None):
    """The network: one table per categorical column (or one-hot vectors), the numeric
    columns (each embedded from its piecewise-linear encoding, or scaled numbers), the
    averaged words of the text column, concatenated into ReLU layers with dropout and the
    task's head."""
    import keras

    inputs, parts = [], []
    for i, column in enumerate(preprocessor.categorical_columns):
        ids = keras.Input(shape=(), dtype="int32", name=input_name(i, column))
        if encoding == "onehot":
            table = keras.layers.CategoryEncoding(
                preprocessor.vocabularies[column].input_dim, output_mode="one_hot",
                name=f"onehot_{input_name(i, column)}",
            )
        else:
            table = categorical_embedding(
                preprocessor.vocabularies[column], dim=preprocessor.sizes[column],
                name=f"embedding_{input_name(i, column)}", sparse=sparse,
            )
        inputs.append(ids)
        parts.append(table(ids))
    width = preprocessor.numeric_width
    if width and preprocessor.numeric_scaling == "ple":
        from embedlab.layers.numeric import NumericEmbedding

        shape = (len(preprocessor.numeric_columns), width)
        numbers = keras.Input(shape=shape, dtype="float32", name=NUMERIC_INPUT)
        inputs.append(numbers)
        parts.append(NumericEmbedding(numeric_dim, name="numeric_embedding")(numbers))
    elif width:
        numbers = keras.Input(shape=(width,), dtype="float32", name=NUMERIC_INPUT)
        inputs.append(numbers)
        parts.append(numbers)
    if preprocessor.text_column:
        ids = keras.Input(shape=(preprocessor.length,), dtype="int32", name=TEXT_INPUT)
        rows = preprocessor.encoder.input_dim
        words = make_embedding(rows, text_dim, mask_zero=True, name="embedding_text",
                               sparse=use_sparse(rows, sparse))(ids)
        inputs.append(ids)
        parts.append(keras.layers.GlobalAveragePooling1D(name="text_pool")(words))
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    head = head_layer(target.task, max(target.n_classes, 2))
    return keras.Model(inputs, head(x), name="tabular")


def network_tables(preprocessor: TabularPreprocessor, *, encoding: str, text_dim: int,
                   sparse: bool | None = None) -> dict:
    """{table layer: TableSize} of the network's embedding tables (none one-hot)."""
    from embedlab.layers.categorical import embedding_size

    tables = {}
    if encoding != "onehot":
        for i, column in enumerate(preprocessor.categorical_columns):
            rows = preprocessor.vocabularies[column].input_dim
            dim = preprocessor.sizes.get(column) or embedding_size(rows - 1)
            tables[f"embedding_{input_name(i, column)}"] = table_size(
                rows, dim, sparse=use_sparse(rows, sparse))
    if preprocessor.text_column:
        rows = preprocessor.encoder.input_dim
        tables["embedding_text"] = table_size(rows, text_dim, sparse=use_sparse(rows, sparse))
    return tables


def fill_untrained_rows(model, preprocessor: TabularPreprocessor) -> None:
    """Rows no training value reached (unknown, missing, empty hash buckets) get the
    column's mean vector weighted by value counts, so a new value lands in the middle of
    the learned space instead of at a random point."""
    for i, column in enumerate(preprocessor.categorical_columns):
        vocab = preprocessor.vocabularies[column]
        layer = model.get_layer(f"embedding_{input_name(i, column)}")
        counts = vocab.counts.astype("float64")
        full = np.array(layer.embeddings.value)  # a table sharded by rows has padding rows
        table = full[:len(counts)]
        if counts[len(RESERVED):].sum() == 0:
            continue
        mean = (counts[len(RESERVED):, None] * table[len(RESERVED):]).sum(0)
        mean /= counts[len(RESERVED):].sum()
        untrained = np.flatnonzero(counts == 0)
        table[untrained[untrained != PAD_ID]] = mean
        layer.embeddings.assign(full.astype("float32"))
