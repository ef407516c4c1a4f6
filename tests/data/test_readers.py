import pyarrow as pa
import pytest

from embedlab.data import read_table, write_table
from embedlab.errors import ColumnError, DataError


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.jsonl", "t.parquet"])
def test_round_trip_each_format(tmp_path, name):
    table = pa.table({"text": ["a, \"quoted\" b", "ü ß — ok"], "y": [1, 0]})
    path = write_table(table, tmp_path / name)
    back = read_table(path, columns=["text", "y"])
    assert back["text"].to_pylist() == table["text"].to_pylist()
    assert back["y"].to_pylist() == [1, 0]


def test_missing_column_names_the_ones_that_exist(tmp_path):
    path = write_table(pa.table({"review": ["x"], "score": [1]}), tmp_path / "t.csv")
    with pytest.raises(ColumnError, match=r"'reveiw'.*'review', 'score'.*Did you mean 'review'"):
        read_table(path, columns=["reveiw"])


def test_empty_missing_and_unknown_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_table(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(tmp_path / "h.csv")
    (tmp_path / "x.xlsx").write_text("a")
    with pytest.raises(DataError, match="cannot tell the format"):
        read_table(tmp_path / "x.xlsx")


def test_non_utf8_bytes_get_a_clear_message(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,y\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        read_table(path)


def test_broken_parquet_is_a_data_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match="broken.parquet"):
        read_table(path)


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(AttributeError):
        write_table("not a table", tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []
