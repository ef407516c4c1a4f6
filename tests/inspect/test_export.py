import logging
import os

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedlab.errors import ConfigError, VectorsError
from embedlab.inspect import export as export_module
from embedlab.inspect.export import (
    METADATA_TSV,
    PROJECTOR_CONFIG,
    VECTORS_TSV,
    export_vectors,
)
from embedlab.vectors import WordVectors

GENSIM_FORMATS = [
    ("word2vec", False, False),
    ("word2vec-binary", True, False),
    ("glove", False, True),
]


def _matrix(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Ordinary values, and the hard ones: tiny, huge, subnormal, negative zero."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, dim)).astype(np.float32)
    if n >= 3 and dim >= 4:
        m[0, :4] = [1e-38, -3.4e38, np.float32(1.4e-45), -0.0]
        m[1] *= np.float32(1e-7)
        m[2] *= np.float32(1e6)
    return m


@pytest.fixture
def table():
    """30 words with counts in no particular order (ties included)."""
    words = ["naïve", "日本", "Paris", "a,b", '"', "#"] + [f"w{i}" for i in range(24)]
    counts = np.random.default_rng(1).permutation(np.arange(30) // 2 * 7)
    return WordVectors(words, _matrix(30, 12), counts=counts)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def _frequency_words(wv: WordVectors) -> list[str]:
    return [wv.index_to_key[i] for i in np.argsort(-wv.counts, kind="stable")]


@pytest.mark.parametrize("fmt,binary,no_header", GENSIM_FORMATS)
def test_gensim_reads_the_exact_float32_values_and_words(table, tmp_path, fmt, binary, no_header):
    path = export_vectors(table, tmp_path / "out", format=fmt)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)
    order = np.argsort(-table.counts, kind="stable")
    assert kv.index_to_key == _frequency_words(table)
    np.testing.assert_array_equal(_bits(kv.vectors), _bits(table.vectors[order]))


@pytest.mark.parametrize("fmt,binary,no_header", GENSIM_FORMATS)
def test_top_k_keeps_the_most_frequent_in_frequency_order(table, tmp_path, fmt, binary, no_header):
    path = export_vectors(table, tmp_path / "out", format=fmt, top_k=5)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)
    assert kv.index_to_key == _frequency_words(table)[:5]
    rows = [table.get_index(w) for w in kv.index_to_key]
    assert list(table.counts[rows]) == sorted(table.counts, reverse=True)[:5]
    np.testing.assert_array_equal(_bits(kv.vectors), _bits(table.vectors[rows]))


def test_without_counts_rows_stay_as_they_are(tmp_path):
    wv = WordVectors(["the", "of", "and", "king"], _matrix(4, 3))
    path = export_vectors(wv, tmp_path / "v.vec", format="word2vec", top_k=2)
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["the", "of"]


def test_npy_round_trips(table, tmp_path):
    path = export_vectors(table, tmp_path / "folder", format="npy", top_k=7)
    back = WordVectors.load(path, cache=False)
    assert back.index_to_key == _frequency_words(table)[:7]
    np.testing.assert_array_equal(back.vectors, table[back.index_to_key])


def test_top_k_larger_than_the_table_keeps_everything_and_says_so(table, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="embedlab.inspect.export"):
        path = export_vectors(table, tmp_path / "v.txt", format="glove", top_k=1000)
    assert len(KeyedVectors.load_word2vec_format(path, no_header=True)) == 30
    assert "more than the 30 rows" in caplog.text


@pytest.mark.parametrize("top_k", [0, -3])
def test_top_k_below_one_is_a_config_error(table, tmp_path, top_k):
    with pytest.raises(ConfigError, match="positive integer"):
        export_vectors(table, tmp_path / "v.vec", format="word2vec", top_k=top_k)
    assert not list(tmp_path.iterdir())


def test_unknown_format_lists_the_formats(table, tmp_path):
    with pytest.raises(ConfigError, match="word2vec, word2vec-binary, glove, npy, projector"):
        export_vectors(table, tmp_path / "v", format="csv")
    with pytest.raises(ConfigError, match="can be read but not written"):
        export_vectors(table, tmp_path / "v", format="fasttext-bin")


def test_metadata_only_with_the_projector(table, tmp_path):
    with pytest.raises(ConfigError, match="only be written with format='projector'"):
        export_vectors(table, tmp_path / "v.vec", format="word2vec", metadata={"g": ["x"] * 30})
    with pytest.raises(ConfigError, match="one value per row"):
        export_vectors(table, tmp_path / "p", format="projector", metadata={"g": ["x"]})
    with pytest.raises(ConfigError, match="clashes"):
        export_vectors(table, tmp_path / "p", format="projector", metadata={"count": [1] * 30})
    assert not list(tmp_path.iterdir())


def _read(folder, name):
    return (folder / name).read_text(encoding="utf-8")


def test_projector_folder_layout(table, tmp_path):
    genre = np.array(["drama", None, "comedy"] * 10, dtype=object)
    share = np.linspace(0, 1, 30, dtype=np.float32)
    share[3] = np.nan
    out = export_vectors(
        table, tmp_path / "proj", format="projector", metadata={"genre": genre, "share": share}
    )
    assert sorted(os.listdir(out)) == sorted([VECTORS_TSV, METADATA_TSV, PROJECTOR_CONFIG])
    config = _read(out, PROJECTOR_CONFIG)
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert 'tensor_name: "embedding"' in config and str(tmp_path) not in config

    lines = _read(out, VECTORS_TSV).splitlines()
    order = np.argsort(-table.counts, kind="stable")
    assert len(lines) == 30
    values = np.array([[float(v) for v in line.split("\t")] for line in lines])
    np.testing.assert_array_equal(_bits(values.astype(np.float32)), _bits(table.vectors[order]))

    meta = _read(out, METADATA_TSV).split("\n")
    assert meta[-1] == "" and len(meta[:-1]) == 31  # a header, then one line per row
    assert meta[0] == "label\tcount\tgenre\tshare"
    rows = [line.split("\t") for line in meta[1:-1]]
    assert [r[0] for r in rows] == _frequency_words(table)
    assert [int(r[1]) for r in rows] == sorted(table.counts, reverse=True)
    first = int(order[0])
    assert rows[0][2] == ("" if genre[first] is None else genre[first])
    assert rows[0][3] == ("" if first == 3 else str(share[first]))
    missing = list(order).index(3)
    assert rows[missing][3] == ""  # NaN: an empty field, which the projector reads as missing


def test_projector_single_label_column_has_no_header(tmp_path):
    wv = WordVectors(["king", "queen", "man"], _matrix(3, 4))
    out = export_vectors(wv, tmp_path / "proj", format="projector")
    assert _read(out, METADATA_TSV) == "king\nqueen\nman\n"
    assert len(_read(out, VECTORS_TSV).splitlines()) == 3


def test_projector_escapes_tabs_and_line_breaks_in_labels(tmp_path):
    words = ["tab\there", "new\nline", "carriage\rreturn", " ", "para\u2028graph", "plain"]
    wv = WordVectors(words, _matrix(6, 3))
    out = export_vectors(wv, tmp_path / "proj", format="projector", metadata={"g": words})
    text = _read(out, METADATA_TSV)
    lines = text.split("\n")[:-1]
    assert len(lines) == 7 and len(text.splitlines()) == 7  # no extra line breaks anywhere
    assert all(line.count("\t") == 1 for line in lines)
    labels = [line.split("\t")[0] for line in lines[1:]]
    assert labels == ["tab\\there", "new\\nline", "carriage\\rreturn", "' '", "para\\u2028graph",
                      "plain"]
    assert all(line.strip() for line in lines)  # the projector skips blank lines


def test_projector_refuses_a_folder_that_is_not_a_projector_export(table, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not a previous projector export"):
        export_vectors(table, precious, format="projector")
    assert os.listdir(precious) == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        export_vectors(table, a_file, format="projector")
    empty = tmp_path / "empty"
    empty.mkdir()
    export_vectors(table, empty, format="projector")
    assert len(os.listdir(empty)) == 3


def test_projector_replaces_a_previous_export(table, tmp_path):
    out = tmp_path / "proj"
    export_vectors(table, out, format="projector")
    export_vectors(table, out, format="projector", top_k=4)
    assert len(_read(out, VECTORS_TSV).splitlines()) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]  # no temporary folders left


def test_a_failed_projector_export_leaves_nothing(table, tmp_path, monkeypatch):
    out = tmp_path / "proj"
    export_vectors(table, out, format="projector", top_k=3)
    before = {name: _read(out, name) for name in os.listdir(out)}

    def broken(path, matrix):
        path.write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "_write_tsv_matrix", broken)
    with pytest.raises(OSError, match="disk full"):
        export_vectors(table, out, format="projector")
    assert {name: _read(out, name) for name in os.listdir(out)} == before
    with pytest.raises(OSError):
        export_vectors(table, tmp_path / "new", format="projector")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_non_finite_rows_are_refused_by_the_projector(tmp_path):
    matrix = _matrix(4, 3)
    matrix[2, 1] = np.nan
    wv = WordVectors(["a", "b", "c", "d"], matrix)
    with pytest.raises(VectorsError, match="'c'"):
        export_vectors(wv, tmp_path / "proj", format="projector")
    assert not list(tmp_path.iterdir())


def test_a_word_the_text_formats_cannot_hold_leaves_no_file(tmp_path):
    wv = WordVectors(["fine", "two\nlines", "ok"], _matrix(3, 3))
    with pytest.raises(VectorsError, match="line break"):
        export_vectors(wv, tmp_path / "v.vec", format="word2vec")
    assert not list(tmp_path.iterdir())
