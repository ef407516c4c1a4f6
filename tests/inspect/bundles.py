"""Small bundles of every kind for the inspect tests, trained once per module that asks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from embedlab.vectors import WordVectors
from tests.conftest import FILLER, NEGATIVE, POSITIVE, make_reviews
from tests.models.test_recommender import make_ratings


def tiny_vectors() -> WordVectors:
    """Pre-trained-looking vectors: sentiment words apart, two filler words missing."""
    rng = np.random.default_rng(0)
    words = POSITIVE + NEGATIVE + FILLER[:-2] + ["unused"]
    matrix = rng.normal(0, 0.7, (len(words), 6)).astype("float32")
    matrix[: len(POSITIVE)] += 2.0
    return WordVectors(words, matrix, source="tiny")


def text_bundle(root, *, vectors: bool = True):
    """A text bundle (GloVe-like start, frozen one epoch then fine-tuned) with a test set."""
    from embedlab import jobs

    texts, labels = make_reviews(300, seed=3)
    t2, l2 = make_reviews(80, seed=4)
    options = dict(vectors=tiny_vectors(), freeze_epochs=1) if vectors else {}
    report, clf = jobs.train_text(
        pa.table({"review": texts, "score": labels}), text="review", label="score",
        output=root / "text", test=pa.table({"review": t2, "score": l2}), arch="bag",
        epochs=3, ngrams=1, ngram_buckets=0, seed=0, **options,
    )
    return report, clf


def recommender_bundle(root):
    from embedlab.jobs import train_recommender

    return train_recommender(
        make_ratings(), user="user", item="item", rating="rating", output=root / "rec",
        test=make_ratings(seed=1), epochs=8, dim=6, learning_rate=1e-2,
    )


def tabular_table(n: int = 400, *, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue", "grey"], n)
    size = rng.choice(["S", "M", "L"], n)
    x = rng.normal(size=n)
    score = (color == "red") * 2.0 + (size == "L") * 1.0 + x - 1.0
    label = np.where(score + rng.normal(scale=0.3, size=n) > 0, "yes", "no")
    return pa.table({"color": color, "size": size, "x": x, "label": label})


def tabular_bundle(root):
    from embedlab.jobs import train_tabular

    return train_tabular(tabular_table(), label="label", output=root / "tab",
                         test=tabular_table(120, seed=1), epochs=4, learning_rate=5e-3)
