import numpy as np
import pytest

from embedlab.errors import ConfigError
from embedlab.models.recipes import RECIPES, build_model
from embedlab.training.trainer import Phase, TrainSettings, train


def _data(n=64, length=12, vocab=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(2, vocab, size=(n, length)).astype("int32")
    x[:, 8:] = 0
    return x


@pytest.mark.parametrize("arch", sorted(RECIPES))
def test_each_recipe_builds_and_trains_a_step(arch):
    x = _data()
    y = (x[:, 0] % 2).astype("float32")
    model = build_model(arch, input_dim=50, length=12, dim=8, task="binary")
    assert model.get_layer("embedding").input_dim == 50
    before = model.get_layer("embedding").get_weights()[0].copy()
    history = train(model, x, y, task="binary",
                    settings=TrainSettings(epochs=1, validation_split=0.0, batch_size=64))
    assert np.isfinite(history.epochs[0]["loss"])
    after = model.get_layer("embedding").get_weights()[0]
    assert not np.allclose(before, after), "the embedding table must learn"


@pytest.mark.parametrize("task,n", [("multiclass", 4), ("regression", 1)])
def test_heads(task, n):
    model = build_model("bag", input_dim=50, length=12, dim=8, task=task, n_classes=4)
    out = np.asarray(model.predict(_data(), verbose=0))
    assert out.shape == (64, n)
    if task == "multiclass":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("arch", ["lstm", "bilstm", "bag"])
def test_masked_recipes_ignore_padding(arch):
    # With the padding masked, where the padding sits cannot change the output.
    model = build_model(arch, input_dim=50, length=12, dim=8, task="binary")
    tokens = np.random.default_rng(1).integers(2, 50, size=(4, 5)).astype("int32")
    post = np.zeros((4, 12), "int32")
    post[:, :5] = tokens
    pre = np.zeros((4, 12), "int32")
    pre[:, 7:] = tokens
    a = np.asarray(model.predict(post, verbose=0))
    b = np.asarray(model.predict(pre, verbose=0))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="`arch` must be one of"):
        build_model("transformer", input_dim=5, length=5, dim=2, task="binary")
    with pytest.raises(ConfigError, match="unknown"):
        build_model("cnn", input_dim=5, length=8, dim=2, task="binary", units=3)
    with pytest.raises(ConfigError, match="kernel_size"):
        build_model("cnn", input_dim=5, length=3, dim=2, task="binary")


def test_freeze_phase_keeps_the_table_then_fine_tune_moves_it():
    x = _data()
    y = (x[:, 0] % 2).astype("float32")
    model = build_model("bag", input_dim=50, length=12, dim=8, task="binary")
    table = model.get_layer("embedding").get_weights()[0].copy()
    settings = TrainSettings(epochs=2, validation_split=0.0, batch_size=64)
    train(model, x, y, task="binary", settings=settings, phases=[Phase(1, False, name="frozen")])
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], table)
    history = train(model, x, y, task="binary", settings=settings,
                    phases=[Phase(1, False, name="frozen"), Phase(1, True, 1e-4, "fine-tune")])
    assert [p["name"] for p in history.phases] == ["frozen", "fine-tune"]
    assert history.phases[1]["start_epoch"] == 1
    assert not np.array_equal(model.get_layer("embedding").get_weights()[0], table)
