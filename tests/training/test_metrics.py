import numpy as np
import pytest

from embedlab.training.metrics import (
    classification_metrics,
    confusion,
    macro_f1,
    regression_metrics,
    roc_auc,
)


def test_auc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200), 1)  # many ties
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(y, s) == pytest.approx(pairs)
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert np.isnan(roc_auc([1, 1], [0.1, 0.9]))


def test_macro_f1_and_confusion():
    m = confusion([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3)
    assert m.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    # f1: class0 2*1/(2+2)=0.5, class1 2*2/(3+2)=0.8, class2 0
    assert macro_f1(m) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_classification_and_regression_metrics():
    b = classification_metrics("binary", np.array([0, 1, 1]), np.array([0.2, 0.7, 0.4]), 2)
    assert b["accuracy"] == pytest.approx(2 / 3) and b["auc"] == 1.0
    r = regression_metrics(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    assert r["rmse"] == pytest.approx(np.sqrt(0.5)) and r["mae"] == pytest.approx(0.5)
