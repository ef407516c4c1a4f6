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
from embedlab.training.targets import Target


def tabular_network(preprocessor: TabularPreprocessor, target: Target, *, encoding: str,
                    hidden: tuple[int, ...], dropout: float, text_dim: int,
                    sparse: bool | None = None):
    """The network: one table per categorical column (or one-hot vectors), the numeric
    block, the averaged words of the text column, concatenated into ReLU layers with
    dropout and the task's head."""
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
    width = sum(preprocessor.scalers[c].width for c in preprocessor.numeric_columns)
    if width:
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


def fill_untrained_rows(model, preprocessor: TabularPreprocessor) -> None:
    """Rows no training value reached (unknown, missing, empty hash buckets) get the
    column's mean vector weighted by value counts, so a new value lands in the middle of
    the learned space instead of at a random point."""
    for i, column in enumerate(preprocessor.categorical_columns):
        vocab = preprocessor.vocabularies[column]
        layer = model.get_layer(f"embedding_{input_name(i, column)}")
        table = np.array(layer.embeddings.value)
        counts = vocab.counts.astype("float64")
        if counts[len(RESERVED):].sum() == 0:
            continue
        mean = (counts[len(RESERVED):, None] * table[len(RESERVED):]).sum(0)
        mean /= counts[len(RESERVED):].sum()
        untrained = np.flatnonzero(counts == 0)
        table[untrained[untrained != PAD_ID]] = mean
        layer.embeddings.assign(table.astype("float32"))
