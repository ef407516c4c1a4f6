"""Tables streamed in record batches: every row once, stable validation rows, and clear
errors for directories without Parquet, disagreeing schemas and files that change."""

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv

from embedlab.data.stream import TableStream, key_fraction
from embedlab.errors import DataError


def _table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"user": rng.integers(0, 500, n), "item": rng.integers(0, 80, n),
                     "rating": rng.integers(1, 6, n).astype("float32"),
                     "row": np.arange(n)})


@pytest.fixture
def parts(tmp_path):
    table = _table(9_000)
    root = tmp_path / "parts"
    for k in range(3):
        sub = root / f"day={k}"
        sub.mkdir(parents=True)
        pq.write_table(table.slice(k * 3000, 3000), sub / "part.parquet", row_group_size=700)
    (root / "_SUCCESS").write_text("")
    return root, table


def _rows(stream, rng=None):
    return np.concatenate([b.column("row").to_numpy() for b in stream.batches(rng)])


def test_every_row_once_in_a_shuffled_order(parts):
    root, table = parts
    stream = TableStream(root, columns=["user", "row"], batch_rows=500)
    first = _rows(stream, np.random.default_rng(1))
    second = _rows(stream, np.random.default_rng(2))
    for seen in (first, second):
        assert len(seen) == table.num_rows
        assert np.array_equal(np.sort(seen), np.arange(table.num_rows))
    assert not np.array_equal(first, second)  # files and row groups reordered per pass
    assert not np.array_equal(first, np.arange(table.num_rows))


def test_hive_partition_column_and_csv(parts, tmp_path):
    root, table = parts
    days = [b.column("day").to_pylist() for b in TableStream(root, columns=["day"]).batches()]
    assert sorted(set(sum(days, []))) == ["0", "1", "2"]
    path = tmp_path / "all.csv"
    csv.write_csv(table, path)
    rows = _rows(TableStream(path, columns=["row", "user"], batch_rows=1000))
    assert np.array_equal(rows, np.arange(table.num_rows))


def test_validation_rows_are_the_same_in_every_pass_and_order(parts):
    root, _ = parts
    stream = TableStream(root, columns=["user", "item", "row"])

    def held(rng):
        out = []
        for b in stream.batches(rng):
            fraction = key_fraction([b.column("user"), b.column("item")], seed=3)
            out.append(b.column("row").to_numpy()[fraction < 0.1])
        return np.sort(np.concatenate(out))

    first, second = held(np.random.default_rng(0)), held(np.random.default_rng(9))
    assert np.array_equal(first, second)
    assert 0.05 < len(first) / 9000 < 0.15
    # the place of a key is fixed: it depends only on its text and the seed
    f = key_fraction([pa.array(["u1", "u2"]), pa.array(["i1", "i1"])], seed=3)
    assert f.tolist() == key_fraction([pa.array(["u1", "u2"]), pa.array(["i1", "i1"])],
                                      seed=3).tolist()
    assert f.tolist() != key_fraction([pa.array(["u1", "u2"]), pa.array(["i1", "i1"])],
                                      seed=4).tolist()


def test_a_directory_without_parquet_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="holds no Parquet files"):
        TableStream(tmp_path, columns=["user"])


def test_schemas_that_disagree_name_the_file_and_column(tmp_path):
    pq.write_table(pa.table({"user": [1, 2], "item": [1, 2]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"user": ["x", "y"], "item": [1, 2]}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b\.parquet.*column 'user' as string.*a\.parquet"):
        TableStream(tmp_path, columns=["user", "item"])
    pq.write_table(pa.table({"usr": [1], "item": [1]}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b\.parquet.*'user'"):
        TableStream(tmp_path, columns=["user", "item"])


def test_a_file_that_changes_or_disappears_between_passes(parts):
    root, _ = parts
    stream = TableStream(root, columns=["row"])
    _rows(stream)
    victim = root / "day=1" / "part.parquet"
    pq.write_table(_table(10, seed=5), victim)
    os.utime(victim, ns=(1, 1))
    with pytest.raises(DataError, match=r"day=1.*changed after the first pass"):
        _rows(stream)
    victim.unlink()
    with pytest.raises(DataError, match=r"day=1.*disappeared"):
        _rows(stream)


def test_read_table_reads_a_directory_as_one_table(parts):
    from embedlab.data.readers import read_table

    root, table = parts
    whole = read_table(root, columns=["user", "rating"])
    assert whole.num_rows == table.num_rows
    assert set(whole.column_names) == {"user", "item", "rating", "row", "day"}
    assert sorted(whole["row"].to_pylist()) == list(range(table.num_rows))
