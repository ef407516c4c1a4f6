"""Small bundles of every kind for the inspect tests, trained once per module that asks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from embedlab.vectors import WordVectors
from tests.conftest import FILLER, NEGATIVE, POSITIVE, make_reviews


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


def ratings_table(*, seed: int = 0, users: int = 30, items: int = 24, per_user: int = 12):
    """Two tastes: users and items in the same half rate 4-5, across halves 1-2."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        for i in rng.choice(items, per_user, replace=False):
            same = (u < users // 2) == (i < items // 2)
            rating = int(rng.integers(4, 6) if same else rng.integers(1, 3))
            rows.append((u + 1, int(i) + 101, rating))
    user, item, rating = map(list, zip(*rows, strict=True))
    return pa.table({"user": user, "item": item, "rating": rating})


def recommender_bundle(root):
    from embedlab.models.recommender import train_recommender

    return train_recommender(
        ratings_table(), user="user", item="item", rating="rating", output=root / "rec",
        test=ratings_table(seed=1), epochs=8, dim=6, learning_rate=1e-2,
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
    from embedlab.models.tabular import train_tabular

    return train_tabular(tabular_table(), label="label", output=root / "tab",
                         test=tabular_table(120, seed=1), epochs=4, learning_rate=5e-3)
