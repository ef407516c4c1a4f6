"""TextEncoder: ids, padding and truncation, length policy, n-grams, files, argument checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import ConfigError, DataError
from embedlab.text import PAD, UNK, TextEncoder, tokenize
from embedlab.text._hashing import token_hashes
from embedlab.text._sequences import pad_into

TRAIN = ["the cat sat", "the dog sat down", "a cat!", "the end"]
# the:3 cat:2 sat:2 !:1 a:1 dog:1 down:1 end:1 -> ids the=2 cat=3 sat=4 !=5 a=6 dog=7 down=8 end=9


def test_fit_encode_reserved_and_unknown_ids():
    encoder = TextEncoder(length=6).fit(TRAIN)
    assert encoder.is_fitted
    assert encoder.vocabulary.index_to_key[:5] == [PAD, UNK, "the", "cat", "sat"]
    assert encoder.input_dim == len(encoder.vocabulary) == 10
    ids = encoder.encode(["The CAT sat on a mat!", "", None])
    assert ids.dtype == np.int32
    assert ids.tolist() == [[2, 3, 4, 1, 6, 1], [0] * 6, [0] * 6]


@pytest.mark.parametrize(
    ("padding", "truncation", "expected"),
    [
        ("post", "post", [[2, 3, 4, 0], [2, 7, 4, 8]]),
        ("pre", "post", [[0, 2, 3, 4], [2, 7, 4, 8]]),
        ("post", "pre", [[2, 3, 4, 0], [7, 4, 8, 5]]),
        ("pre", "pre", [[0, 2, 3, 4], [7, 4, 8, 5]]),
    ],
)
def test_padding_and_truncation(padding, truncation, expected):
    encoder = TextEncoder().fit(TRAIN)
    ids = encoder.encode(
        ["the cat sat", "the dog sat down!"], length=4, padding=padding, truncation=truncation
    )
    assert ids.tolist() == expected
    # The same settings given to the constructor.
    fixed = TextEncoder(length=4, padding=padding, truncation=truncation).fit(TRAIN)
    assert fixed.encode(["the cat sat", "the dog sat down!"]).tolist() == expected


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("truncation", ["post", "pre"])
def test_padding_matches_a_row_by_row_reference(padding, truncation):
    rng = np.random.default_rng(5)
    rows = [list(rng.integers(2, 99, size=rng.integers(0, 12))) for _ in range(400)]
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    ids = np.concatenate([np.asarray(r, dtype=np.int32) for r in rows])
    for length in (1, 4, 11, 20):
        out = np.zeros((len(rows), length), dtype=np.int32)
        pad_into(out, ids, offsets, padding=padding, truncation=truncation)
        for row, values in zip(out.tolist(), rows, strict=True):
            kept = (
                values[:length] if truncation == "post" else values[max(len(values) - length, 0) :]
            )
            filler = [0] * (length - len(kept))
            assert row == (kept + filler if padding == "post" else filler + kept)


def test_nothing_cut_when_texts_fit():
    encoder = TextEncoder().fit(TRAIN)
    assert encoder.encode(["a cat"], length=3, padding="pre").tolist() == [[0, 6, 3]]
    assert encoder.encode(["a cat"], length=2, truncation="pre").tolist() == [[6, 3]]


def test_min_count_and_max_tokens():
    encoder = TextEncoder(min_count=2).fit(TRAIN)
    assert encoder.vocabulary.index_to_key == [PAD, UNK, "the", "cat", "sat"]
    small = TextEncoder(max_tokens=3).fit(TRAIN)
    assert small.input_dim == 3
    assert small.encode(["the cat"], length=3).tolist() == [[2, 1, 0]]
    assert TextEncoder(max_tokens=None).fit(TRAIN).input_dim == 10


def test_suggest_length_is_a_clipped_percentile():
    texts = [" ".join(["w"] * n) for n in range(1, 101)]  # lengths 1..100
    encoder = TextEncoder().fit(texts)
    assert encoder.suggest_length() == 95
    assert encoder.suggest_length(percentile=50) == 50
    assert encoder.suggest_length(percentile=100) == 100
    assert encoder.suggest_length(percentile=50, cap=20) == 20
    assert encoder.suggest_length(percentile=1, minimum=8) == 8
    assert encoder.encode(texts).shape == (100, 95)  # no length given: the suggestion
    assert TextEncoder(length=7).fit(texts).encode(texts).shape == (100, 7)
    assert encoder.encode(texts, length=3).shape == (100, 3)
    with pytest.raises(ConfigError, match="percentile"):
        encoder.suggest_length(percentile=0)
    with pytest.raises(ConfigError, match="cap"):
        encoder.suggest_length(cap=4, minimum=8)


def test_lengths_count_tokens_and_ngrams():
    encoder = TextEncoder().fit(TRAIN)
    assert encoder.lengths(["a b c!", "", None]).tolist() == [4, 0, 0]
    trigrams = TextEncoder(ngrams=3, ngram_buckets=100).fit(TRAIN)
    # 4 tokens + 3 bigrams + 2 trigrams; 1 token alone has no n-grams.
    assert trigrams.lengths(["a b c!", "x"]).tolist() == [9, 1]
    assert trigrams.suggest_length(percentile=100, minimum=1) == 4 + 3 + 2


def test_unknown_rate():
    encoder = TextEncoder().fit(TRAIN)
    assert encoder.unknown_rate(["the cat", "zebra yak"]) == pytest.approx(0.5)
    assert encoder.unknown_rate(["", None]) == 0.0


def test_ngram_layout_and_unknown_words_make_distinct_ngrams():
    encoder = TextEncoder(ngrams=2, ngram_buckets=1_000_003).fit(TRAIN)
    vocab_size = len(encoder.vocabulary)
    assert encoder.input_dim == vocab_size + 1_000_003
    ids = encoder.encode(["the cat sat", "zebra yak", "yak zebra"], length=6)
    assert ids[0, :3].tolist() == [2, 3, 4]
    assert (ids[0, 3:5] >= vocab_size).all() and ids[0, 5] == 0
    assert ids[1, :2].tolist() == [1, 1] and ids[2, :2].tolist() == [1, 1]
    assert ids[1, 2] >= vocab_size and ids[1, 2] != ids[2, 2]  # order matters, words too
    again = encoder.encode(["the cat sat down"], length=7)
    assert again[0, 4:6].tolist() == ids[0, 3:5].tolist()  # same bigram, same bucket


def _fmix64(h: int) -> int:
    mask = (1 << 64) - 1
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB93FE53EC049) & mask
    return h ^ (h >> 33)


def test_ngram_ids_match_a_document_by_document_reference():
    rng = np.random.default_rng(7)
    words = ["a", "b", "c", "dé", "e!"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 7))) for _ in range(200)]
    encoder = TextEncoder(max_tokens=5, ngrams=3, ngram_buckets=13).fit(texts)
    size = len(encoder.vocabulary)
    token_lists = tokenize(texts).to_pylist()
    keys = sorted({t for tokens in token_lists for t in tokens})
    hashes = dict(zip(keys, (int(h) for h in token_hashes(pa.array(keys))), strict=True))
    mask = (1 << 64) - 1
    expected = []
    for tokens in token_lists:
        row = encoder.vocabulary.lookup(tokens).tolist() if tokens else []
        for n in (2, 3):
            for i in range(len(tokens) - n + 1):
                h = n
                for token in tokens[i : i + n]:
                    h = (h * 116049371 + hashes[token]) & mask
                row.append(size + _fmix64(h) % 13)
        expected.append(row)
    length = max(len(row) for row in expected)
    got = encoder.encode(texts, length=length)
    assert got.tolist() == [row + [0] * (length - len(row)) for row in expected]


def test_ngrams_need_buckets():
    with pytest.raises(ConfigError, match=r"ngram_buckets.*Received: ngrams=2, ngram_buckets=0"):
        TextEncoder(ngrams=2)


def test_token_hash_is_pinned():
    # Saved models depend on these values: a change here breaks every saved n-gram bucket.
    hashes = token_hashes(pa.array(["a", "hello", "日本"]))
    assert [hex(int(h)) for h in hashes] == [
        "0xcba3be314837ba2a",
        "0x34bf058a22572ff2",
        "0x8aea142942fbd46f",
    ]


def test_ngram_ids_are_the_same_in_another_process():
    texts = ["the cat sat", "zebra yak and the dog sat down!", "日本語 テキスト 😀 ok"]
    local = TextEncoder(ngrams=3, ngram_buckets=997, length=12).fit(TRAIN).encode(texts).tolist()
    script = textwrap.dedent(
        f"""
        import json
        from embedlab.text import TextEncoder
        encoder = TextEncoder(ngrams=3, ngram_buckets=997, length=12).fit({TRAIN!r})
        print(json.dumps(encoder.encode({texts!r}).tolist()))
        """
    )
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(result.stdout) == local


@pytest.mark.parametrize("ngrams,buckets", [(1, 0), (2, 7), (3, 50)])
@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("truncation", ["post", "pre"])
def test_ids_stay_below_input_dim(ngrams, buckets, padding, truncation):
    rng = np.random.default_rng(ngrams)
    words = [f"w{i}" for i in range(40)] + ["!", "?", "é"]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 30))) for _ in range(300)]
    encoder = TextEncoder(max_tokens=20, ngrams=ngrams, ngram_buckets=buckets).fit(texts[:100])
    for length in (1, 5, 64):
        ids = encoder.encode(texts, length=length, padding=padding, truncation=truncation)
        assert ids.min() >= 0
        assert ids.max() < encoder.input_dim
        if buckets:
            assert ids.max() >= len(encoder.vocabulary) or length == 1


def test_large_input_in_chunks_matches_small_batches():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 40))) for _ in range(12_000)]
    encoder = TextEncoder(max_tokens=200, ngrams=2, ngram_buckets=101, length=30).fit(texts)
    whole = encoder.encode(texts)
    pieces = np.concatenate([encoder.encode(texts[i : i + 500]) for i in range(0, 12_000, 500)])
    assert np.array_equal(whole, pieces)
    assert np.array_equal(encoder.encode(pa.chunked_array([texts[:5000], texts[5000:]])), whole)


def test_save_load_round_trip(tmp_path):
    encoder = TextEncoder(max_tokens=50, ngrams=2, ngram_buckets=31, truncation="pre").fit(TRAIN)
    texts = ["the cat sat down", "unknown words here!"]
    directory = encoder.save(tmp_path / "encoder")
    assert sorted(p.name for p in directory.iterdir()) == ["encoder.json", "vocabulary.txt"]
    loaded = TextEncoder.load(directory)
    assert loaded.get_config() == encoder.get_config()
    assert loaded.vocabulary == encoder.vocabulary
    assert loaded.suggest_length() == encoder.suggest_length()
    assert np.array_equal(loaded.encode(texts), encoder.encode(texts))


def test_get_config_is_json_safe_and_rebuilds():
    encoder = TextEncoder(max_tokens=None, length=5, padding="pre").fit(TRAIN)
    config = encoder.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["max_tokens"] is None and config["padding"] == "pre"
    rebuilt = TextEncoder.from_config(config)
    assert rebuilt.get_config() == config and not rebuilt.is_fitted
    with pytest.raises(ConfigError, match="bogus"):
        TextEncoder.from_config({**config, "bogus": 1})


def test_load_names_the_missing_file(tmp_path):
    TextEncoder().fit(TRAIN).save(tmp_path)
    (tmp_path / "vocabulary.txt").unlink()
    with pytest.raises(DataError, match="lacks vocabulary.txt"):
        TextEncoder.load(tmp_path)
    with pytest.raises(DataError, match="lacks encoder.json"):
        TextEncoder.load(tmp_path / "nowhere")


def test_load_rejects_a_damaged_config(tmp_path):
    TextEncoder().fit(TRAIN).save(tmp_path)
    (tmp_path / "encoder.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not a TextEncoder config"):
        TextEncoder.load(tmp_path)
    (tmp_path / "encoder.json").write_text('{"version": 99, "config": {}}', encoding="utf-8")
    with pytest.raises(DataError, match="Upgrade embedlab"):
        TextEncoder.load(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ngrams": 0}, "`ngrams` must be an integer >= 1. Received: ngrams=0"),
        ({"max_tokens": 2}, "Received: max_tokens=2"),
        ({"max_tokens": 2.5}, "of type float"),
        ({"min_count": 0}, "Received: min_count=0"),
        ({"ngram_buckets": -1}, "Received: ngram_buckets=-1"),
        ({"length": 0}, "Received: length=0"),
        ({"padding": "left"}, "`padding` must be 'post' or 'pre'. Received: padding='left'"),
        ({"truncation": None}, "Received: truncation=None"),
    ],
)
def test_arguments_are_checked_at_the_door(kwargs, message):
    with pytest.raises(ConfigError) as caught:
        TextEncoder(**kwargs)
    assert message in str(caught.value)


def test_encode_arguments_are_checked():
    encoder = TextEncoder().fit(TRAIN)
    with pytest.raises(ConfigError, match="Received: length=0"):
        encoder.encode(TRAIN, length=0)
    with pytest.raises(ConfigError, match="Received: padding='both'"):
        encoder.encode(TRAIN, padding="both")


def test_unfitted_encoder_says_to_fit():
    encoder = TextEncoder()
    assert not encoder.is_fitted
    for call in (lambda: encoder.encode(TRAIN), lambda: encoder.input_dim):
        with pytest.raises(ConfigError, match="Call fit"):
            call()
    with pytest.raises(DataError, match="at least one text"):
        encoder.fit([])


def test_empty_inputs():
    encoder = TextEncoder(length=4).fit(["", None])
    assert encoder.vocabulary.index_to_key == [PAD, UNK]
    assert encoder.suggest_length() == 8
    assert encoder.encode([]).shape == (0, 4)
    assert encoder.encode(["new words"]).tolist() == [[1, 1, 0, 0]]
