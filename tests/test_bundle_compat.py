"""Bundles written by embedlab's first bundle format (format_version 1) keep loading,
predicting the same numbers and showing the same tables.

The bundles in tests/fixtures/bundles_v1 were trained on the tests' own synthetic data by
that release, and `expected.json` holds what it predicted and the tables it read back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import make_reviews
from tests.inspect.bundles import tabular_table
from tests.models.test_recommender import make_ratings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundles_v1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def _inputs(kind: str) -> pa.Table:
    if kind == "text":
        return pa.table({"review": make_reviews(40, seed=4)[0][:10]})
    if kind == "tabular":
        return tabular_table(10, seed=2)
    return make_ratings(seed=5).slice(0, 10).select(["user", "item"])


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> Path:
    """A copy, so nothing a test does can touch the fixtures."""
    root = tmp_path_factory.mktemp("v1")
    for kind in ("text", "tabular", "recommender", "implicit"):
        shutil.copytree(FIXTURES / kind, root / kind)
    return root


@pytest.mark.parametrize("kind", ["text", "tabular", "recommender", "implicit"])
def test_a_format_1_bundle_predicts_what_it_predicted(bundles, kind):
    from embedlab import jobs

    got = jobs.predict(bundles / kind, input=_inputs(kind)).to_pydict()
    want = EXPECTED[kind]
    assert list(got) == list(want)
    for column, values in want.items():
        if values and isinstance(values[0], float):
            np.testing.assert_allclose(got[column], values, rtol=1e-5, atol=1e-6)
        else:
            assert got[column] == values


@pytest.mark.parametrize("name", sorted(EXPECTED["tables"]))
def test_a_format_1_bundle_shows_the_same_tables(bundles, name):
    from embedlab.inspect.tables import bundle_tables

    kind, table = name.split("/")
    got = bundle_tables(bundles / kind)[table]
    want = EXPECTED["tables"][name]
    assert got.vectors.index_to_key == want["keys"]
    np.testing.assert_allclose(got.vectors.vectors, np.array(want["vectors"]), rtol=1e-6)
    if want["counts"] is not None:
        assert got.vectors.counts.tolist() == want["counts"]
    if want["initial"] is None:
        assert got.initial is None
    else:
        np.testing.assert_allclose(got.initial.vectors, np.array(want["initial"]), rtol=1e-6)
    assert sorted(got.attributes) == sorted(want["attributes"])
    for attribute, values in want["attributes"].items():
        expected = np.array(values)
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(got.attributes[attribute], "float64"),
                                       expected, rtol=1e-6)
        else:
            assert np.asarray(got.attributes[attribute]).tolist() == values
