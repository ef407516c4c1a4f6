"""Numeric columns: label-aware bins, the piecewise-linear encoding, and the tabular model
that embeds them."""

import numpy as np
import pyarrow as pa
import pytest

from embedlab.models.numeric_bins import (
    label_edges,
    piecewise_linear,
    quantile_edges,
    tree_targets,
)
from embedlab.models.tabular_preprocessor import NumericScaler, rare_count


def test_bins_split_where_the_label_changes_even_under_a_pile_of_one_value():
    rng = np.random.default_rng(0)
    # nine rows in ten at 0 (capital gains), the label flips above 5,000
    values = np.where(rng.random(20_000) < 0.9, 0.0, rng.uniform(1, 10_000, 20_000))
    label = (values > 5_000).astype("float32")
    edges = label_edges(values, label[:, None])
    assert np.min(np.abs(edges - 5_000)) < 100  # a split at the change
    assert edges[0] == 0 and edges[-1] == values.max()
    # quantiles put nearly every edge on the pile: 3 bins survive, none near the change
    quantiles = quantile_edges(values)
    assert len(quantiles) <= 4 and np.min(np.abs(quantiles - 5_000)) > 500


def test_bins_respect_the_most_bins_and_the_fewest_rows_per_bin():
    rng = np.random.default_rng(1)
    values = rng.normal(size=5_000)
    label = (rng.random(5_000) < 1 / (1 + np.exp(-3 * values))).astype("float32")[:, None]
    edges = label_edges(values, label, max_bins=8, min_leaf=100)
    assert 2 < len(edges) <= 9
    counts = np.histogram(values, bins=edges)[0]
    assert counts.min() >= 100


def test_a_column_without_signal_or_with_one_value_gives_few_bins():
    assert len(label_edges(np.full(500, 3.0), np.ones((500, 1)))) == 1
    x = np.arange(1000, dtype="float64")
    assert len(label_edges(x, np.zeros((1000, 1)))) == 2  # nothing to gain from a split


def test_missing_values_are_left_out_of_the_bins_and_encode_as_zeros():
    values = np.array([np.nan, 1.0, 2.0, 3.0, np.nan, 4.0] * 100)
    edges = label_edges(values, (values > 2.5).astype("float32")[:, None], min_leaf=10)
    assert not np.isnan(edges).any()
    encoded = piecewise_linear(values, edges)
    assert (encoded[np.isnan(values)] == 0).all()


def test_piecewise_linear_counts_the_bins_below_and_the_place_inside():
    edges = np.array([0.0, 1.0, 3.0, 4.0])
    out = piecewise_linear(np.array([-5.0, 0.5, 2.0, 3.5, 9.0]), edges)
    np.testing.assert_allclose(out, [[0, 0, 0], [0.5, 0, 0], [1, 0.5, 0], [1, 1, 0.5],
                                     [1, 1, 1]])
    assert out.dtype == np.float32


def test_tree_targets_one_hot_classes_and_one_column_otherwise():
    assert tree_targets("multiclass", np.array([0, 2, 1]), 4).tolist() == [
        [1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert tree_targets("binary", np.array([0.0, 1.0])).shape == (2, 1)


def test_a_scaler_with_missing_values_adds_their_indicator():
    values = np.array([1.0, np.nan, 3.0, 5.0] * 50)
    scaler = NumericScaler.fit(values, "ple", "x", targets=(values > 2)[:, None] * 1.0)
    out = scaler.transform(np.array([np.nan, 5.0]))
    assert out.shape == (2, scaler.width) and scaler.width == scaler.bins + 1
    assert out[0, -1] == 1 and out[1, -1] == 0


def test_rare_count_grows_with_the_table_and_stops_at_20():
    assert [rare_count(n) for n in (50, 1_000, 4_000, 1_000_000)] == [1, 5, 20, 20]


def _table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    gain = np.where(rng.random(n) < 0.8, 0.0, rng.uniform(1, 100, n))
    colour = rng.choice(["red", "green", "blue"], n)
    noise = rng.integers(0, 10**6, n).astype(str)  # thousands of values, each seen ~once
    label = np.where((gain > 50) ^ (colour == "red"), "yes", "no")
    return pa.table({"gain": gain, "colour": colour, "noise": noise, "label": label})


def test_the_default_tabular_model_learns_a_threshold_and_keeps_through_a_bundle(tmp_path):
    from embedlab.models.tabular import TabularModel

    train, test = _table(3000, 0), _table(1000, 1)
    model = TabularModel(categorical=["noise"], epochs=15, seed=0).fit(train, "label")
    assert model.evaluate(test, "label")["auc"] > 0.97
    described = {c["column"]: c for c in model.describe_columns()}
    assert described["gain"]["scaling"] == "ple" and described["gain"]["bins"] >= 2
    # the noise column's values are each too rare for a row of their own
    assert described["noise"]["rows"] < 10
    model.save(tmp_path / "b")
    again = TabularModel.load(tmp_path / "b")
    np.testing.assert_allclose(again.predict_proba(test), model.predict_proba(test), atol=1e-6)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_other_tasks_bin_their_numbers_by_the_label(task):
    from embedlab.models.tabular import TabularModel

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 3, 1500)
    label = np.floor(x).astype(int).astype(str) if task == "multiclass" else np.floor(x) * 2.0
    table = pa.table({"x": x, "label": label})
    model = TabularModel(task=task, epochs=10, seed=0).fit(table, "label")
    edges = np.array(model.scalers["x"].edges)
    assert np.min(np.abs(edges[:, None] - np.array([1.0, 2.0])), axis=0).max() < 0.05
