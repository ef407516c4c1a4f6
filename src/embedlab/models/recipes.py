"""The text recipes: one functional Keras model builder per architecture.

Every builder takes the same leading arguments (the table size, the sequence length, the
embedding dimension and the head) and its own keyword hyperparameters. The embedding layer is
always named `embedding`, so later tools find the learned table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embedlab.errors import ConfigError
from embedlab.layers import make_embedding, use_sparse

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Recipe:
    """What a recipe needs from the encoder and which hyperparameters it takes."""

    name: str
    build: Callable
    padding: str  # the side that suits the architecture
    mask_zero: bool
    defaults: dict = field(default_factory=dict)
    ngrams: int = 1
    ngram_buckets: int = 0
    summary: str = ""


def head_layer(task: str, n_classes: int):
    """The output layer of a task: sigmoid, softmax over the classes, or linear."""
    import keras

    if task == "binary":
        return keras.layers.Dense(1, activation="sigmoid", name="head")
    if task == "multiclass":
        return keras.layers.Dense(n_classes, activation="softmax", name="head")
    if task == "regression":
        return keras.layers.Dense(1, name="head")
    raise ConfigError(f"`task` must be one of {', '.join(TASKS)}. Received: task={task!r}.")


def _inputs(length: int):
    import keras

    return keras.Input(shape=(length,), dtype="int32", name="ids")


def build_flatten(embed, length, head, *, dropout=0.2):
    """Embedding -> Flatten -> Dense: the classic; position-dependent, needs a fixed length."""
    import keras

    ids = _inputs(length)
    x = embed(ids)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(ids, head(x), name="flatten")


def build_lstm(embed, length, head, *, units=32, dropout=0.2):
    """Embedding (masked) -> LSTM -> Dense, padded at the front."""
    import keras

    ids = _inputs(length)
    x = embed(ids)
    x = keras.layers.LSTM(units, name="lstm")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(ids, head(x), name="lstm")


def build_bilstm(embed, length, head, *, units=32, dropout=0.2):
    """Embedding (masked) -> Bidirectional LSTM -> Dense."""
    import keras

    ids = _inputs(length)
    x = embed(ids)
    x = keras.layers.Bidirectional(keras.layers.LSTM(units), name="bilstm")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(ids, head(x), name="bilstm")


def build_cnn(embed, length, head, *, filters=128, kernel_size=5, dropout=0.2):
    """Embedding -> Conv1D(relu) -> GlobalMaxPooling1D -> Dense."""
    import keras

    if length < kernel_size:
        raise ConfigError(
            f"the cnn recipe needs sequences at least kernel_size={kernel_size} long. "
            f"Received length={length}. Pass a larger --max-length or a smaller kernel."
        )
    ids = _inputs(length)
    x = embed(ids)
    x = keras.layers.Conv1D(filters, kernel_size, activation="relu", name="conv")(x)
    x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(ids, head(x), name="cnn")


def build_bag(embed, length, head, *, dropout=0.0):
    """Embedding (masked) -> average over the real tokens and hashed n-grams -> Dense."""
    import keras

    ids = _inputs(length)
    x = embed(ids)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(ids, head(x), name="bag")


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("flatten", build_flatten, "post", False, {"dropout": 0.2},
               summary="Embedding -> Flatten -> Dense"),
        Recipe("lstm", build_lstm, "pre", True, {"units": 32, "dropout": 0.2},
               summary="Embedding (masked) -> LSTM(32) -> Dense"),
        Recipe("bilstm", build_bilstm, "pre", True, {"units": 32, "dropout": 0.2},
               summary="Embedding (masked) -> Bidirectional(LSTM(32)) -> Dense"),
        Recipe("cnn", build_cnn, "post", False,
               {"filters": 128, "kernel_size": 5, "dropout": 0.2},
               summary="Embedding -> Conv1D(128, 5) -> GlobalMaxPooling1D -> Dense"),
        Recipe("bag", build_bag, "post", True, {"dropout": 0.0}, ngrams=2,
               ngram_buckets=2**16,
               summary="Embedding (masked) -> average of words and hashed bigrams -> Dense"),
    ]
}


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`, or a ConfigError listing the ones that exist."""
    if name not in RECIPES:
        raise ConfigError(
            f"`arch` must be one of {', '.join(RECIPES)}. Received: arch={name!r}."
        )
    return RECIPES[name]


def build_model(
    arch: str,
    *,
    input_dim: int,
    length: int,
    dim: int,
    task: str,
    n_classes: int = 2,
    embedding_weights: np.ndarray | None = None,
    trainable: bool = True,
    sparse: bool | None = None,
    **hyperparameters,
):
    """Build the functional model of recipe `arch` (not compiled).

    Args:
        arch: String. One of `flatten`, `lstm`, `bilstm`, `cnn`, `bag`.
        input_dim: Integer. Rows of the embedding table (every id is below it).
        length: Integer. Sequence length.
        dim: Integer. Embedding dimension (the vectors' dimension when pre-trained).
        task: String. `binary`, `multiclass` or `regression`.
        n_classes: Integer. Number of classes for `multiclass`.
        embedding_weights: Optional float array `(input_dim, dim)` to start the table from.
        trainable: Boolean. False freezes the table.
        sparse: Optional boolean. Train the table row-sparsely; None: from
            `SPARSE_FROM_ROWS` rows (see `embedlab.layers.use_sparse`).
        **hyperparameters: the recipe's own options (see `RECIPES[arch].defaults`).
    """
    recipe = get_recipe(arch)
    unknown = set(hyperparameters) - set(recipe.defaults)
    if unknown:
        raise ConfigError(
            f"recipe {arch!r} takes the options {sorted(recipe.defaults) or 'none'}. "
            f"Received unknown {sorted(unknown)}. Remove them."
        )
    if not isinstance(length, int | np.integer) or length <= 0:
        raise ConfigError(f"`length` must be a positive integer. Received: length={length!r}.")
    options = {**recipe.defaults, **hyperparameters}
    embed = make_embedding(
        input_dim, dim, mask_zero=recipe.mask_zero, weights=embedding_weights,
        trainable=trainable, sparse=use_sparse(input_dim, sparse),
    )
    return recipe.build(embed, int(length), head_layer(task, n_classes), **options)
