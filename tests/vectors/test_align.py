"""embedding_matrix and CoverageReport: exact arithmetic on a tiny example."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors import CoverageReport, WordVectors, embedding_matrix

WORDS = ["the", "paris", "London", "nasa", "cat"]
MATRIX = np.arange(15, dtype=np.float32).reshape(5, 3)
VOCAB = ["<pad>", "<unk>", "the", "Paris", "london", "NASA", "dog", "cats", "Cat"]
COUNTS = [0, 7, 100, 40, 30, 20, 9, 5, 1]


@pytest.fixture
def wv():
    return WordVectors(WORDS, MATRIX, source="tiny", format="glove")


def test_rows_and_case_fallbacks(wv):
    matrix, report = embedding_matrix(wv, VOCAB, unknown="zeros", counts=COUNTS)
    assert matrix.shape == (9, 3) and matrix.dtype == np.float32
    expected = np.zeros((9, 3), np.float32)
    expected[2] = MATRIX[0]  # the (exact)
    expected[3] = MATRIX[1]  # Paris -> paris (lower)
    expected[4] = MATRIX[2]  # london -> London (Title)
    expected[5] = MATRIX[3]  # NASA -> nasa (lower)
    expected[8] = MATRIX[4]  # Cat -> cat (lower)
    np.testing.assert_array_equal(matrix, expected)
    assert (report.words_found, report.words_total, report.case_fallback) == (5, 7, 4)
    assert report.words_share == pytest.approx(5 / 7)
    assert (report.tokens_found, report.tokens_total) == (191, 212)
    assert report.tokens_share == pytest.approx(191 / 212)
    assert report.missing_top == [("dog", 9), ("cats", 5)]
    assert (report.source, report.format, report.unknown, report.dim) == (
        "tiny",
        "glove",
        "zeros",
        3,
    )


def test_report_is_json_safe_and_readable(wv):
    _, report = embedding_matrix(wv, VOCAB, counts=COUNTS)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["words_found"] == 5 and data["missing_top"] == [["dog", 9], ["cats", 5]]
    text = str(report)
    assert "5 / 7 (71.4%)" in text and "4 through another case" in text
    assert "191 / 212 (90.1%)" in text and "dog (9)" in text
    assert isinstance(report, CoverageReport)


def test_vocabulary_object_with_counts(wv):
    class Vocab:
        index_to_key = VOCAB
        counts = COUNTS

    _, report = embedding_matrix(wv, Vocab())
    assert report.tokens_total == 212
    _, without = embedding_matrix(wv, VOCAB)
    assert without.tokens_share is None and without.missing_top == [("dog", None), ("cats", None)]


def test_unknown_policies(wv):
    mean = MATRIX.mean(axis=0)
    matrix, _ = embedding_matrix(wv, VOCAB, unknown="mean")
    np.testing.assert_allclose(matrix[[1, 6, 7]], np.tile(mean, (3, 1)))
    np.testing.assert_array_equal(matrix[0], 0)
    a, _ = embedding_matrix(wv, VOCAB, unknown="random", seed=3)
    b, _ = embedding_matrix(wv, VOCAB, unknown="random", seed=3)
    c, _ = embedding_matrix(wv, VOCAB, unknown="random", seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[6], c[6])
    np.testing.assert_array_equal(a[2], MATRIX[0])


def test_random_rows_follow_the_vectors_spread():
    rng = np.random.default_rng(0)
    matrix = (rng.standard_normal((2000, 4)) * [1, 5, 0.1, 2] + [0, 3, 0, -1]).astype(np.float32)
    wv = WordVectors([f"w{i}" for i in range(2000)], matrix)
    vocab = ["<pad>", "<unk>"] + [f"x{i}" for i in range(3000)]
    out, _ = embedding_matrix(wv, vocab)
    np.testing.assert_allclose(out[2:].std(axis=0), [1, 5, 0.1, 2], rtol=0.1)
    np.testing.assert_allclose(out[2:].mean(axis=0), [0, 3, 0, -1], atol=0.3)


def test_errors(wv):
    with pytest.raises(VectorsError, match="dimension 3, but 50 was expected"):
        embedding_matrix(wv, VOCAB, expected_dim=50)
    with pytest.raises(VectorsError, match="needs fastText n-grams"):
        embedding_matrix(wv, VOCAB, unknown="subword")
    with pytest.raises(ConfigError, match="must start with the reserved '<pad>'"):
        embedding_matrix(wv, ["the", "cat"])
    with pytest.raises(ConfigError, match="`unknown` must be one of"):
        embedding_matrix(wv, VOCAB, unknown="ones")
    with pytest.raises(ConfigError, match="one count per id"):
        embedding_matrix(wv, VOCAB, counts=[1, 2])


def test_subword_policy_uses_ngrams():
    from embedlab.vectors import SubwordTable

    rng = np.random.default_rng(0)
    table = SubwordTable(rng.standard_normal((50, 3)).astype(np.float32), 2, 3, 50)
    wv = WordVectors(["cat"], np.ones((1, 3), np.float32), subwords=table)
    matrix, report = embedding_matrix(wv, ["<pad>", "<unk>", "cat", "cats"], unknown="subword")
    np.testing.assert_allclose(matrix[3], table.vectors_for(["cats"])[0][0])
    np.testing.assert_array_equal(matrix[1], 0)
    assert report.subword_filled == 1 and "1 from n-grams" in str(report)
