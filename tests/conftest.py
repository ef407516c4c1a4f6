"""Shared fixtures: tiny generated data sets, written by the tests themselves."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

POSITIVE = ["great", "tasty", "love", "perfect", "fresh", "delicious", "excellent", "yummy"]
NEGATIVE = ["awful", "stale", "broken", "bitter", "refund", "gross", "bland", "terrible"]
FILLER = ["the", "coffee", "box", "tea", "it", "was", "and", "i", "this", "snack", "very", "a"]


def make_reviews(n: int = 240, *, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short reviews whose label follows their sentiment words: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        good = bool(rng.random() < 0.6)
        words = list(rng.choice(FILLER, size=rng.integers(3, 9)))
        cue = POSITIVE if good else NEGATIVE
        for _ in range(rng.integers(1, 3)):
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cue)))
        text = " ".join(words).capitalize() + rng.choice([".", "!", "..."])
        texts.append(text)
        labels.append("great" if good else "other")
    return texts, labels


@pytest.fixture
def reviews():
    return make_reviews()


@pytest.fixture
def reviews_csv(tmp_path):
    import pyarrow as pa
    from pyarrow import csv

    texts, labels = make_reviews(240, seed=1)
    path = tmp_path / "reviews.csv"
    csv.write_csv(pa.table({"review": texts, "score": labels}), path)
    return path
