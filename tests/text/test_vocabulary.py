"""Vocabulary: reserved ids, ordering, min_count/max_tokens arithmetic, lookup, files."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import ConfigError, DataError
from embedlab.text import PAD, UNK, Vocabulary, tokenize

DOCS = [["b", "a", "c", "a"], ["a", "b", "d"], ["e"], []]  # a:3 b:2 c:1 d:1 e:1


def test_reserved_ids_and_order():
    vocab = Vocabulary.build(DOCS)
    assert vocab.index_to_key == [PAD, UNK, "a", "b", "c", "d", "e"]
    assert (PAD, UNK) == ("<pad>", "<unk>")
    assert vocab.key_to_index["<pad>"] == 0 and vocab.key_to_index["<unk>"] == 1
    assert vocab.key_to_index["a"] == 2
    assert len(vocab) == 7
    assert vocab.counts.dtype == np.int64
    assert vocab.counts.tolist() == [0, 0, 3, 2, 1, 1, 1]


def test_ties_break_by_token_so_ids_are_deterministic():
    first = Vocabulary.build([["z", "y", "x", "é", "b"]])
    second = Vocabulary.build([["b", "é", "x", "y", "z"]])
    assert first.index_to_key == second.index_to_key == [PAD, UNK, "b", "x", "y", "z", "é"]


def test_max_tokens_counts_the_reserved_ids():
    vocab = Vocabulary.build(DOCS, max_tokens=4)
    assert vocab.index_to_key == [PAD, UNK, "a", "b"]
    assert len(vocab) == 4
    # 8 tokens in all, 5 of them "a" or "b": the other 3 are counted under <unk>.
    assert vocab.counts.tolist() == [0, 3, 3, 2]


def test_min_count_leaves_rare_words_out():
    vocab = Vocabulary.build(DOCS, min_count=2)
    assert vocab.index_to_key == [PAD, UNK, "a", "b"]
    assert vocab.counts[1] == 3
    both = Vocabulary.build(DOCS, min_count=2, max_tokens=3)
    assert both.index_to_key == [PAD, UNK, "a"]
    nothing = Vocabulary.build(DOCS, min_count=10)
    assert nothing.index_to_key == [PAD, UNK]
    assert nothing.counts.tolist() == [0, 8]


def test_build_accepts_arrow_lists_in_many_chunks():
    lists = tokenize([f"w{i % 50} common" for i in range(9000)])
    chunked = pa.chunked_array([lists.slice(0, 4000), lists.slice(4000)])
    vocab = Vocabulary.build(chunked)
    assert vocab.index_to_key[2] == "common"
    assert vocab.counts[2] == 9000
    assert Vocabulary.build(lists) == vocab


def test_lookup_maps_unknowns_to_one():
    vocab = Vocabulary.build(DOCS)
    ids = vocab.lookup(["a", "zzz", "e", "<unk>", "<pad>"])
    assert ids.dtype == np.int32
    assert ids.tolist() == [2, 1, 6, 1, 0]
    assert vocab.lookup(pa.array(["b", None])).tolist() == [3, 1]
    assert vocab.lookup(pa.array(["b"], pa.large_string())).tolist() == [3]
    assert vocab.lookup([]).tolist() == []
    assert "a" in vocab and "zzz" not in vocab


def test_constructor_from_words():
    vocab = Vocabulary(["the", "cat"], counts=[5, 2], unknown_count=1)
    assert vocab.index_to_key == [PAD, UNK, "the", "cat"]
    assert vocab.counts.tolist() == [0, 1, 5, 2]
    assert Vocabulary().index_to_key == [PAD, UNK]
    with pytest.raises(ConfigError, match="twice"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ConfigError, match="reserved"):
        Vocabulary(["<unk>"])
    with pytest.raises(ConfigError, match="one count per word"):
        Vocabulary(["a"], counts=[1, 2])


def test_from_counts_sums_repeated_tokens():
    vocab = Vocabulary.from_counts(["a", "b", "a", None], [1, 2, 2, 9])
    assert vocab.index_to_key == [PAD, UNK, "a", "b"]
    assert vocab.counts.tolist() == [0, 0, 3, 2]


def test_bad_arguments_say_what_was_received():
    with pytest.raises(
        ConfigError,
        match=r"`max_tokens` must be None or an integer >= 3.*"
        r"Received: max_tokens=2",
    ):
        Vocabulary.build(DOCS, max_tokens=2)
    with pytest.raises(ConfigError, match="Received: min_count=0"):
        Vocabulary.build(DOCS, min_count=0)
    with pytest.raises(ConfigError, match="of type bool"):
        Vocabulary.build(DOCS, min_count=True)
    with pytest.raises(DataError, match="list<string>"):
        Vocabulary.build(pa.array([1, 2]))


def test_save_load_round_trip(tmp_path):
    vocab = Vocabulary.build(tokenize(["Ünïcode “quotes” and\u00a0tabs", "and again"]))
    path = vocab.save(tmp_path / "vocab.txt")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[:3] == ["<pad>\t0", "<unk>\t0", "and\t2"]
    assert text.endswith("\n")
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    probe = ["and", "“", "nope"]
    assert loaded.lookup(probe).tolist() == vocab.lookup(probe).tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.txt"]  # no temporary left behind


def test_save_overwrites_in_place(tmp_path):
    path = tmp_path / "v.txt"
    Vocabulary(["old"]).save(path)
    Vocabulary(["new"]).save(path)
    assert Vocabulary.load(path).index_to_key == [PAD, UNK, "new"]


def test_save_refuses_tokens_with_tabs(tmp_path):
    with pytest.raises(DataError, match="tabs or line breaks"):
        Vocabulary(["a\tb"]).save(tmp_path / "v.txt")


def test_load_accepts_windows_line_ends(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"<pad>\t0\r\n<unk>\t3\r\nword\t7\r\n")
    vocab = Vocabulary.load(path)
    assert vocab.index_to_key == [PAD, UNK, "word"]
    assert vocab.counts.tolist() == [0, 3, 7]


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (b"<pad>\t0\n<unk>\t0\nword 3\n", 3, "no tab"),
        (b"<pad>\t0\n<unk>\t0\nword\tmany\n", 3, "not a whole number"),
        (b"<pad>\t0\n<unk>\t0\nword\t-1\n", 3, "not a whole number"),
        (b"<unk>\t0\n<pad>\t0\n", 1, "found '<unk>'"),
        (b"<pad>\t0\n<unk>\t0\na\t1\nb\t1\na\t1\n", 5, "repeats line 3"),
        (b"<pad>\t0\n", 2, "only 1 line"),
        (b"<pad>\t0\n<unk>\t0\n\xff\xfe\t1\n", 3, "not UTF-8"),
    ],
)
def test_malformed_file_names_path_and_line(tmp_path, content, line, problem):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=problem) as caught:
        Vocabulary.load(path)
    message = str(caught.value)
    assert str(path) in message and f"line {line}:" in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        Vocabulary.load(tmp_path / "absent.txt")
