"""Row-sparse tables: the step touches only the batch's rows, as a numpy reference says,
inside an ordinary functional model trained with `fit`, and saves like any Keras model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from embedlab.layers.sparse_embedding import BlockwiseUniform, SparseEmbedding
from embedlab.training.row_sparse import RowSparseModel

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax",
                                reason="row-sparse steps run on the JAX backend")


def _model(optimizer: str, *, rate: float = 0.1, dense_rate: float = 0.0, frozen=False):
    keras.utils.set_random_seed(0)
    ids = keras.Input(shape=(), dtype="int32", name="ids")
    table = SparseEmbedding(50, 4, optimizer=optimizer, learning_rate=rate, name="table")
    table.trainable = not frozen
    out = keras.layers.Dense(1, use_bias=False, name="head")(table(ids))
    model = RowSparseModel(ids, out)
    model.compile(optimizer=keras.optimizers.SGD(dense_rate), loss="mse")
    return model, table


def _reference(optimizer: str, before, w, x, y, rate=0.1):
    """One step of the row-wise optimizer, written with numpy."""
    pred = before[x] @ w
    g_out = 2 * (pred[:, 0] - y) / len(y)
    grad = np.zeros_like(before)
    np.add.at(grad, x, g_out[:, None] * w[:, 0][None, :])
    rows = np.unique(x)
    after = before.copy()
    g = grad[rows]
    if optimizer == "adagrad":
        accumulator = (g**2).mean(axis=1)
        after[rows] -= rate * g / (np.sqrt(accumulator)[:, None] + 1e-7)
    else:
        momentum, velocity = 0.1 * g, 0.001 * g**2
        alpha = rate * np.sqrt(1 - 0.999) / (1 - 0.9)
        after[rows] -= alpha * momentum / (np.sqrt(velocity) + 1e-7)
    return after, rows


@pytest.mark.parametrize("optimizer", ["adagrad", "adam"])
def test_a_step_updates_the_batch_rows_as_the_reference_and_no_others(optimizer):
    model, table = _model(optimizer)
    x = np.array([3, 7, 3, 9], "int32")
    y = np.array([1.0, 0.0, 1.0, 2.0], "float32")
    before = np.array(table.get_weights()[0])
    w = np.array(model.get_layer("head").get_weights()[0])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    after = np.array(table.get_weights()[0])
    want, rows = _reference(optimizer, before, w, x, y)
    np.testing.assert_allclose(after[rows], want[rows], rtol=1e-5, atol=1e-6)
    others = np.setdiff1d(np.arange(50), rows)
    assert np.array_equal(after[others], before[others])


def test_the_rest_of_the_model_trains_with_the_keras_optimizer():
    model, table = _model("adagrad", dense_rate=0.5)
    w = np.array(model.get_layer("head").get_weights()[0])
    x = np.array([1, 2, 3, 4], "int32")
    model.fit(x, np.ones(4, "float32"), batch_size=4, epochs=1, verbose=0)
    assert not np.allclose(model.get_layer("head").get_weights()[0], w)


def test_a_frozen_table_is_not_updated():
    model, table = _model("adagrad", frozen=True)
    before = np.array(table.get_weights()[0])
    model.fit(np.array([1, 2], "int32"), np.ones(2, "float32"), batch_size=2, epochs=1,
              verbose=0)
    assert np.array_equal(table.get_weights()[0], before)


def test_it_learns_in_an_ordinary_functional_model_with_callbacks(tmp_path):
    """The example of docs/big_tables.md: a user's own model, `fit` with early stopping,
    saved as .keras and loaded back."""
    rng = np.random.default_rng(0)
    users = rng.integers(0, 2000, 4000).astype("int32")
    target = (users % 2).astype("float32")  # even users say 0, odd ones 1
    ids = keras.Input(shape=(), dtype="int32", name="user")
    vectors = SparseEmbedding(2000, 8, name="users")(ids)
    score = keras.layers.Dense(1, activation="sigmoid")(vectors)
    model = RowSparseModel(ids, score)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(users, target, batch_size=256, epochs=12, validation_split=0.1,
                        verbose=0, callbacks=[keras.callbacks.EarlyStopping(patience=2)])
    assert history.history["accuracy"][-1] > 0.9
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(users[:50], verbose=0),
                               model.predict(users[:50], verbose=0), rtol=1e-6)
    assert isinstance(loaded, RowSparseModel)
    np.testing.assert_allclose(loaded.get_layer("users").slots[0].numpy(),
                               model.get_layer("users").slots[0].numpy())


def test_a_table_looked_up_twice_is_refused_with_what_to_do():
    a = keras.Input(shape=(), dtype="int32")
    b = keras.Input(shape=(), dtype="int32")
    table = SparseEmbedding(10, 2)
    out = keras.layers.Dot(axes=1)([table(a), table(b)])
    model = RowSparseModel([a, b], out)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="looked up once per step. Concatenate"):
        model.fit([np.arange(4), np.arange(4)], np.zeros(4), epochs=1, verbose=0)


def test_blockwise_uniform_fills_every_row_in_range_and_repeats_by_seed():
    first = np.asarray(BlockwiseUniform(seed=3, rows=64)((1000, 5)))
    again = np.asarray(BlockwiseUniform(seed=3, rows=64)((1000, 5)))
    assert first.shape == (1000, 5) and np.array_equal(first, again)
    assert first.min() >= -0.05 and first.max() < 0.05
    assert (np.abs(first).sum(axis=1) > 0).all()  # the last, overlapping block included


def test_zero_rows_clears_the_given_rows_in_place():
    import keras
    import numpy as np

    from embedlab.layers.sparse_embedding import zero_rows

    values = np.arange(1, 41, dtype="float32").reshape(10, 4)
    table = keras.Variable(values.copy())
    zero_rows(table, np.array([0, 3, 9]))
    got = np.asarray(table.value)
    assert not got[[0, 3, 9]].any()
    np.testing.assert_array_equal(got[[1, 2, 4, 5, 6, 7, 8]], values[[1, 2, 4, 5, 6, 7, 8]])
    zero_rows(table, np.array([], dtype="int64"))  # nothing to clear: nothing changes
    np.testing.assert_array_equal(np.asarray(table.value), got)
