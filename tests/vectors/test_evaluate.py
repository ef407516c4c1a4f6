"""most_similar, similarity and the benchmarks give gensim's figures on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.vectors import WordVectors
from embedlab.vectors.evaluate import pearson, rankdata, spearman


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Random vectors (with a few case variants) as ours and as gensim's KeyedVectors."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)] + ["King", "king", "QUEEN", "man", "Woman"]
    matrix = rng.standard_normal((len(words), 16)).astype(np.float32)
    kv = KeyedVectors(16)
    kv.add_vectors(words, matrix)
    return WordVectors(words, matrix), kv


def test_most_similar_equals_gensim(pair):
    wv, kv = pair
    for positive, negative in [(["w1"], []), (["w2", "w3"], ["w4"]), ("king", None)]:
        ours = wv.most_similar(positive=positive, negative=negative, topn=15)
        theirs = kv.most_similar(positive=positive, negative=negative, topn=15)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    ours = wv.most_similar("w5", topn=5, restrict_vocab=100)
    assert [w for w, _ in ours] == [w for w, _ in kv.most_similar("w5", topn=5, restrict_vocab=100)]
    assert wv.similarity("w1", "w2") == pytest.approx(float(kv.similarity("w1", "w2")), abs=1e-6)
    with pytest.raises(KeyError, match="not present"):
        wv.most_similar("nope")


def test_lookups_before_and_after_the_index(pair):
    wv, _ = pair
    fresh = WordVectors(wv.words, wv.vectors)
    assert fresh.get_index("king") == 301 and "king" in fresh and "nope" not in fresh
    assert fresh._key_to_index is None  # answered from the Arrow words
    for _ in range(70):
        fresh.get_index("w9")
    assert fresh._key_to_index is not None and fresh.key_to_index["w9"] == 9
    np.testing.assert_array_equal(fresh[["w1", "w2"]], wv.vectors[[1, 2]])
    np.testing.assert_array_equal(fresh[3], wv.vectors[3])


def test_word_pairs_equal_gensim(pair, tmp_path):
    wv, kv = pair
    rng = np.random.default_rng(1)
    lines = ["# comment line", "king\tqueen\t9.0", "KING\tman\t8.5", "man\twoman\t8.5"]
    lines += [
        f"w{rng.integers(300)}\tw{rng.integers(300)}\t{rng.integers(0, 10)}" for _ in range(40)
    ]
    lines += ["w1\tmissing\t3.0", "bad line"]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    ours = wv.evaluate_word_pairs(path, restrict_vocab=304)
    theirs = kv.evaluate_word_pairs(str(path), restrict_vocab=304)
    for mine, ref in zip(ours[:2], theirs[:2], strict=True):
        # gensim and we both compute cosines in float32: equal to about 1e-7
        assert mine.statistic == pytest.approx(ref.statistic, abs=1e-6)
        assert mine.pvalue == pytest.approx(ref.pvalue, rel=1e-4)
    assert ours[2] == pytest.approx(theirs[2])


def test_analogies_equal_gensim(pair, tmp_path):
    wv, kv = pair
    rng = np.random.default_rng(2)
    lines = [": capital-like"]
    lines += [" ".join(f"w{i}" for i in rng.integers(0, 300, 4)) for _ in range(60)]
    lines += ["man king woman queen", ": second", "KING man QUEEN woman", "w1 w2 w3 missing"]
    lines += [" ".join(f"w{i}" for i in rng.integers(0, 300, 4)) for _ in range(30)]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    for restrict in (300000, 200):
        score, sections = wv.evaluate_word_analogies(path, restrict_vocab=restrict)
        ref_score, ref_sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        assert score == pytest.approx(ref_score)
        for mine, ref in zip(sections, ref_sections, strict=True):
            assert mine["section"] == ref["section"]
            assert mine["correct"] == ref["correct"] and mine["incorrect"] == ref["incorrect"]


def test_ranks_and_correlations_match_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 40).astype(float)  # many ties
    np.testing.assert_array_equal(rankdata(x), stats.rankdata(x))
    for y in (x + rng.standard_normal(40), rng.standard_normal(40), -x + 0.1 * rng.random(40)):
        for mine, ref in [
            (pearson(x, y), stats.pearsonr(x, y)),
            (spearman(x, y), stats.spearmanr(x, y)),
        ]:
            assert mine.statistic == pytest.approx(ref.statistic, abs=1e-12)
            assert mine.pvalue == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
