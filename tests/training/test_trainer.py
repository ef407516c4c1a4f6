import keras
import numpy as np
import pytest

from embedlab.errors import ConfigError
from embedlab.models.recipes import build_model
from embedlab.training.metrics import roc_auc
from embedlab.training.trainer import (
    Phase,
    TrainSettings,
    balanced_weights,
    split_validation,
    train,
)


def test_settings_validate_at_the_door():
    with pytest.raises(ConfigError, match="epochs"):
        TrainSettings(epochs=0)
    with pytest.raises(ConfigError, match="validation_split"):
        TrainSettings(validation_split=1.0)
    with pytest.raises(ConfigError, match="class_weight"):
        TrainSettings(class_weight="auto")


def test_split_is_seeded_and_disjoint():
    a_tr, a_va = split_validation(100, 0.2, seed=3)
    b_tr, b_va = split_validation(100, 0.2, seed=3)
    assert a_va.tolist() == b_va.tolist() and len(a_va) == 20
    assert not set(a_tr) & set(a_va) and len(a_tr) + len(a_va) == 100
    with pytest.raises(ConfigError, match="no rows"):
        split_validation(1, 0.5, seed=0)


def test_balanced_weights_equalise_the_classes():
    y = np.array([0, 0, 0, 1], dtype="float32")
    w = balanced_weights("binary", y)
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum())
    with pytest.raises(ConfigError, match="classification"):
        balanced_weights("regression", y)


def test_early_stopping_restores_the_best_epoch_and_is_repeatable():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(200, 6)).astype("int32")
    y = rng.integers(0, 2, 200).astype("float32")  # noise: validation loss soon rises
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(4)
        model = build_model("bag", input_dim=30, length=6, dim=8, task="binary")
        h = train(model, x, y, task="binary",
                  settings=TrainSettings(epochs=30, patience=1, learning_rate=0.05, seed=4))
        results.append([e["val_auc"] for e in h.epochs])
        assert h.stopped_early and len(h.epochs) < 30 and h.monitor == "val_auc"
        best = max(e["val_auc"] for e in h.epochs)
        assert h.epochs[h.best_epoch - 1]["val_auc"] == best
        _, va = split_validation(200, 0.1, seed=4)
        now = roc_auc(y[va], model.predict(x[va], verbose=0))
        assert now == pytest.approx(best, abs=1e-6)
    assert results[0] == results[1]


def test_phases_end_on_the_best_epoch_of_whichever_phase_had_it():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 30, size=(400, 6)).astype("int32")
    y = (np.isin(x, [3, 5, 7]).any(axis=1)).astype("float32")  # learnable: later epochs help
    model = build_model("bag", input_dim=30, length=6, dim=8, task="binary")
    h = train(model, x, y, task="binary",
              settings=TrainSettings(epochs=2, patience=5, learning_rate=0.05, seed=0),
              phases=[Phase(1, True, name="first"), Phase(4, True, 0.05, "second")])
    assert h.best_epoch > 1  # the second phase improved on the first
    _, va = split_validation(400, 0.1, seed=0)
    now = roc_auc(y[va], model.predict(x[va], verbose=0))
    assert now == pytest.approx(h.epochs[h.best_epoch - 1]["val_auc"], abs=1e-6)


def test_a_second_call_that_changes_nothing_keeps_the_compiled_step():
    x = np.random.default_rng(0).integers(1, 30, size=(64, 6)).astype("int32")
    y = (x[:, 0] % 2).astype("float32")
    model = build_model("bag", input_dim=30, length=6, dim=4, task="binary")
    settings = TrainSettings(epochs=1, validation_split=0.0)
    train(model, x, y, task="binary", settings=settings)
    step = model.train_function
    train(model, x, y, task="binary", settings=settings)
    assert model.train_function is step
    train(model, x, y, task="binary", settings=TrainSettings(epochs=1, validation_split=0.0,
                                                              learning_rate=0.01))
    assert model.train_function is not step  # a new rate: compiled again
