"""Malformed files: each error names the file and the place, or the load counts and goes on."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors import WordVectors


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


GOOD = b"a 1 2 3\nb 4 5 6\n"


def test_wrong_number_of_values(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD + b"c 7 8\nd 1 2 3\n")
    with pytest.raises(VectorsError) as info:
        WordVectors.load(path)
    message = str(info.value)
    assert "line 3 of" in message and "v.txt" in message
    assert "has 2 values where 3 were expected" in message
    assert "is this really the glove format?" in message.lower()


def test_extra_numbers_are_not_a_word_with_spaces(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD + b"c 7 8 9 10\n")
    with pytest.raises(VectorsError, match="line 3 of .* has 4 values where 3"):
        WordVectors.load(path)


def test_bad_lines_skipped_and_counted(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD + b"c 7 8\nd 1 x 3\n\ne 0 0 1\n")
    wv = WordVectors.load(path, on_bad_line="skip")
    assert wv.index_to_key == ["a", "b", "e"]
    stats = wv.load_stats
    assert (stats.skipped_lines, stats.empty_lines, stats.first_skipped) == (2, 1, [3, 4])


def test_value_that_is_not_a_number(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD * 3 + b"c 7 oops 9\n")
    with pytest.raises(VectorsError, match=r"line 7 of .* not a number: 'oops'"):
        WordVectors.load(path)


def test_header_disagrees_with_body(tmp_path):
    too_many = _write(tmp_path, "a.vec", b"3 3\n" + GOOD)
    with pytest.raises(VectorsError, match="says 3 words, but the file holds 2"):
        WordVectors.load(too_many)
    wrong_dim = _write(tmp_path, "b.vec", b"2 4\n" + GOOD)
    with pytest.raises(VectorsError, match="line 2 of .* 3 values where 4 .*header on line 1"):
        WordVectors.load(wrong_dim)


def test_truncated_binary(tmp_path):
    words, matrix = ["a", "b", "c"], np.arange(9, dtype=np.float32).reshape(3, 3)
    path = WordVectors(words, matrix).save(tmp_path / "v.bin")
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(VectorsError, match="ends after 2 of the 3 words .* truncated"):
        WordVectors.load(path)
    path.write_bytes(data.replace(b"3 3\n", b"9000 3\n", 1))
    with pytest.raises(VectorsError, match="room for at most"):
        WordVectors.load(path)
    path.write_bytes(data.replace(b"3 3\n", b"2 3\n", 1))
    with pytest.raises(VectorsError, match="more data follows"):
        WordVectors.load(path)


def test_invalid_utf8_replaced_and_counted(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD + b"caf\xe9 7 8 9\n")
    wv = WordVectors.load(path)
    assert wv.index_to_key[2] == "caf\ufffd" and wv.load_stats.bad_utf8 == 1


def test_duplicates_first_kept_and_counted(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD + b"a 9 9 9\nc 1 1 1\n")
    wv = WordVectors.load(path)
    assert wv.index_to_key == ["a", "b", "c"] and wv.load_stats.duplicates == 1
    np.testing.assert_array_equal(wv["a"], [1, 2, 3])
    np.testing.assert_array_equal(wv["c"], [1, 1, 1])


@pytest.mark.parametrize("value", [b"nan", b"inf", b"-Infinity"])
def test_nonfinite_values(tmp_path, value):
    path = _write(tmp_path, "v.txt", GOOD + b"c 1 " + value + b" 3\nd 0 0 0\n")
    with pytest.raises(VectorsError, match="line 3 of .* NaN or infinite value \\(word 'c'"):
        WordVectors.load(path)
    assert WordVectors.load(path, on_nonfinite="skip").index_to_key == ["a", "b", "d"]
    zeroed = WordVectors.load(path, on_nonfinite="zero")
    np.testing.assert_array_equal(zeroed["c"], [1, 0, 3])
    assert zeroed.load_stats.nonfinite == 1


def test_empty_files(tmp_path):
    for name, data in [("e.txt", b""), ("blank.txt", b"\n\n  \n")]:
        with pytest.raises(VectorsError, match="is empty"):
            WordVectors.load(_write(tmp_path, name, data))


def test_word_without_values(tmp_path):
    with pytest.raises(VectorsError, match="holds no values after the word"):
        WordVectors.load(_write(tmp_path, "w.txt", b"lonely\nwords\n"))


def test_bad_options(tmp_path):
    path = _write(tmp_path, "v.txt", GOOD)
    with pytest.raises(ConfigError, match="on_bad_line must be one of"):
        WordVectors.load(path, on_bad_line="ignore")
    with pytest.raises(ConfigError, match="`limit` must be a positive integer"):
        WordVectors.load(path, limit=0)


def test_stray_carriage_return_and_bom(tmp_path):
    path = _write(tmp_path, "v.txt", b"\xef\xbb\xbfa 1 2 3\nb\rx 4 5 6\n")
    wv = WordVectors.load(path)
    assert wv.index_to_key == ["a", "b\rx"]


def test_irregular_lines_in_a_large_file_keep_line_numbers(tmp_path, monkeypatch):
    import embedlab.vectors.glove as glove

    monkeypatch.setattr(glove, "CHUNK_BYTES", 64)  # many chunks, parsed on the pool
    monkeypatch.setattr(glove, "FIRST_BYTES", 64)
    lines = [b"w%d %d 1 2" % (i, i) for i in range(200)]
    lines[150] = b"broken 1 2"
    path = _write(tmp_path, "v.txt", b"\n".join(lines) + b"\n")
    with pytest.raises(VectorsError, match="line 151 of"):
        WordVectors.load(path)
    wv = WordVectors.load(path, on_bad_line="skip")
    assert len(wv) == 199 and wv.load_stats.first_skipped == [151]
    np.testing.assert_array_equal(np.asarray(wv.vectors)[:, 0], [i for i in range(200) if i != 150])


def test_lines_longer_than_a_chunk(tmp_path, monkeypatch):
    import gzip

    import embedlab.vectors.glove as glove

    monkeypatch.setattr(glove, "CHUNK_BYTES", 16)
    monkeypatch.setattr(glove, "FIRST_BYTES", 8)
    rows = [f"w{i} " + " ".join(str(i + j) for j in range(20)) for i in range(30)]
    plain = _write(tmp_path, "v.txt", ("\n".join(rows) + "\n").encode())
    packed = _write(tmp_path, "v.txt.gz", gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        wv = WordVectors.load(path, cache=False)
        assert len(wv) == 30 and wv.vector_size == 20
        np.testing.assert_array_equal(wv["w29"], np.arange(29, 49))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_header_claiming_a_huge_dimension_is_refused_at_once(tmp_path, suffix):
    import gzip
    import resource

    body = b"200 1000000000\n" + b"".join(b"w%d 0.5 0.25 1\n" % i for i in range(200))
    data = gzip.compress(body) if suffix else body
    path = _write(tmp_path, "huge.txt" + suffix, data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(VectorsError, match="1,000,000,000|1000000000"):
        WordVectors.load(path, cache=False)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200_000  # a claim of 200 x 1e9 floats (800 GB) allocates nothing


@pytest.mark.parametrize("header", [b"3 -5\n", b"-3 3\n"])
def test_a_negative_header_is_called_a_damaged_header(tmp_path, header):
    path = _write(tmp_path, "neg.txt", header + GOOD)
    with pytest.raises(VectorsError, match="word2vec 'count dim' header") as info:
        WordVectors.load(path, cache=False)
    assert "glove format" not in str(info.value)
