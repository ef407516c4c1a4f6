import numpy as np
import pyarrow as pa

from embedlab.text.categorical import CategoricalVocabulary
from embedlab.text.value_counts import ValueCounter


def test_counts_in_pieces_equal_counts_at_once():
    rng = np.random.default_rng(0)
    values = [str(v) for v in rng.zipf(1.5, 5000) % 300] + [None] * 7
    counter = ValueCounter(merge_every=50)
    for start in range(0, len(values), 333):
        counter.add(pa.array(values[start:start + 333], pa.string()))
    keys, counts = counter.result()
    assert counter.rows == len(values) and counter.missing == 7 and not counter.approximate
    streamed = CategoricalVocabulary(min_count=2).fit_counts(keys, counts, missing=7)
    whole = CategoricalVocabulary(min_count=2).fit(values)
    assert streamed.values == whole.values
    assert streamed.counts.tolist() == whole.counts.tolist()


def test_past_the_bound_the_most_frequent_are_kept_and_the_rest_reported():
    values = ["a"] * 50 + ["b"] * 40 + [f"rare{i}" for i in range(100)]
    counter = ValueCounter(max_distinct=10, merge_every=20)
    for start in range(0, len(values), 19):
        counter.add(pa.array(values[start:start + 19], pa.string()))
    keys, counts = counter.result()
    found = dict(zip(keys.to_pylist(), counts.tolist(), strict=True))
    assert counter.approximate and len(found) <= 10
    assert found["a"] == 50 and found["b"] == 40
    assert counter.forgotten == len(values) - sum(found.values())
