"""fastText .bin models: word vectors and unknown words' vectors as fastText computes them."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import VectorsError
from embedlab.vectors import WordVectors, detect_format
from embedlab.vectors.fasttext_bin import ngram_buckets


@pytest.fixture(scope="module")
def fasttext_model(tmp_path_factory):
    """A tiny fastText model trained by gensim and saved in Facebook's binary format."""
    from gensim.models import FastText
    from gensim.models.fasttext import load_facebook_vectors, save_facebook_model

    rng = np.random.default_rng(0)
    vocab = ["coffee", "tea", "naïve", "café", "東京", "apple", "banana", "grape", "bread"]
    sentences = [list(rng.choice(vocab, size=8)) for _ in range(60)]
    model = FastText(
        vector_size=12, window=3, min_count=1, min_n=2, max_n=4, bucket=500, seed=1, workers=1
    )
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=2)
    path = tmp_path_factory.mktemp("ft") / "tiny.bin"
    save_facebook_model(model, str(path))
    return path, load_facebook_vectors(str(path))


def test_reads_words_and_vectors_like_gensim(fasttext_model):
    path, reference = fasttext_model
    assert detect_format(path) == "fasttext-bin"
    wv = WordVectors.load(path)
    assert wv.format == "fasttext-bin" and wv.has_subwords
    assert wv.index_to_key == reference.index_to_key
    np.testing.assert_allclose(wv.vectors, reference.vectors, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("word", ["coffees", "teacup", "naïveté", "cafés", "東京都", "zz"])
def test_unknown_word_vectors_match_gensim(fasttext_model, word):
    path, reference = fasttext_model
    wv = WordVectors.load(path)
    assert word not in wv
    np.testing.assert_allclose(
        wv.get_vector(word), reference.get_vector(word), rtol=1e-5, atol=1e-6
    )


def test_subwords_survive_the_cache(fasttext_model):
    path, reference = fasttext_model
    WordVectors.load(path)
    cached = WordVectors.load(path)
    assert cached.cache_state == "reused" and cached.has_subwords
    np.testing.assert_allclose(cached["teacup"], reference["teacup"], rtol=1e-5, atol=1e-6)


def test_ngram_hashes_match_gensim():
    from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

    words = ["where", "naïve", "東京", "a"]
    buckets, owner = ngram_buckets([w.encode() for w in words], 3, 5, 2_000_000)
    for i, word in enumerate(words):
        expected = [ft_hash_bytes(g) % 2_000_000 for g in compute_ngrams_bytes(word, 3, 5)]
        assert sorted(buckets[owner == i].tolist()) == sorted(expected), word


def test_truncated_and_foreign_files(fasttext_model, tmp_path):
    path, _ = fasttext_model
    data = path.read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VectorsError, match="truncated"):
        WordVectors.load(cut, format="fasttext-bin")
    other = tmp_path / "other.bin"
    other.write_bytes(b"\x00" * 200)
    with pytest.raises(VectorsError, match="magic number"):
        WordVectors.load(other, format="fasttext-bin")
