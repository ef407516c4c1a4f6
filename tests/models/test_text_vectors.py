import json

import numpy as np
import pytest

from embedlab.errors import ConfigError
from embedlab.models.text import TextClassifier
from embedlab.vectors import WordVectors
from tests.conftest import FILLER, NEGATIVE, POSITIVE, make_reviews


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    words = POSITIVE + NEGATIVE + FILLER[:-2] + ["unused"]  # two filler words missing
    matrix = rng.normal(0, 0.7, (len(words), 6)).astype("float32")
    matrix[: len(POSITIVE)] += 2.0  # a sentiment direction the model can use frozen
    return WordVectors(words, matrix, source="tiny")


def test_frozen_table_stays_and_bundle_keeps_initial_rows(vectors, tmp_path):
    texts, labels = make_reviews(200, seed=6)
    clf = TextClassifier(arch="bag", vectors=vectors, freeze=True, epochs=3, seed=0,
                         validation_split=0.0, ngrams=1, ngram_buckets=0)
    clf.fit(texts, labels)
    assert clf.dim == 6  # follows the vectors
    table = np.asarray(clf.model.get_layer("embedding").get_weights()[0])
    np.testing.assert_array_equal(table, clf.initial_embedding)
    # Rows are the vectors rescaled by one constant: cosine neighbors unchanged.
    vocab = clf.encoder.vocabulary
    row = table[vocab.key_to_index["great"]]
    original = vectors.get_vector("great")
    cos = row @ original / np.linalg.norm(row) / np.linalg.norm(original)
    assert cos == pytest.approx(1.0, abs=1e-6)
    # Missing: the two filler words left out, and the punctuation tokens.
    assert {w for w, _ in clf.coverage.missing_top} == {"very", "a", ".", "!"}
    assert clf.coverage.words_found == len(vocab) - 2 - 4
    path = clf.save(tmp_path / "b")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["vectors"]["mode"] == "frozen" and manifest["coverage"]
    back = TextClassifier.load(path)
    np.testing.assert_array_equal(back.initial_embedding, clf.initial_embedding)
    assert back.embedding_vectors(initial=True).most_similar("great", topn=3) == \
        clf.embedding_vectors(initial=True).most_similar("great", topn=3)


def test_freeze_then_fine_tune_marks_the_switch_and_moves_the_table(vectors):
    texts, labels = make_reviews(200, seed=7)
    clf = TextClassifier(arch="bag", vectors=vectors, freeze_epochs=1, epochs=3, seed=0,
                         validation_split=0.0, ngrams=1, ngram_buckets=0)
    clf.fit(texts, labels)
    phases = clf.history.phases
    assert [p["name"] for p in phases] == ["frozen", "fine-tune"]
    assert phases[1]["start_epoch"] == 1 and phases[1]["learning_rate"] == pytest.approx(5e-4)
    assert [e["phase"] for e in clf.history.epochs] == ["frozen", "fine-tune", "fine-tune"]
    table = np.asarray(clf.model.get_layer("embedding").get_weights()[0])
    assert not np.allclose(table, clf.initial_embedding)


def test_vector_options_are_checked(vectors):
    with pytest.raises(ConfigError, match="dimension 6"):
        TextClassifier(arch="bag", vectors=vectors, dim=8, epochs=1).fit(*make_reviews(30))
    with pytest.raises(ConfigError, match="Pass one of them"):
        TextClassifier(vectors=vectors, freeze=True, freeze_epochs=1)
    with pytest.raises(ConfigError, match="below `epochs`"):
        TextClassifier(vectors=vectors, freeze_epochs=5, epochs=5)
    with pytest.raises(ConfigError, match="initial rows"):
        TextClassifier(arch="bag", epochs=1).fit(*make_reviews(30)).embedding_vectors(
            initial=True)
