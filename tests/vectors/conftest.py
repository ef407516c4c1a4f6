"""Fixtures for the vectors tests: a private cache folder and tiny vector sets."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own cache root, so no test sees another's cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMBEDLAB_CACHE_DIR", str(folder))
    return folder


def random_vectors(n: int = 50, dim: int = 8, *, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """`n` distinct words (some odd: quotes, accents) and float32 vectors."""
    rng = np.random.default_rng(seed)
    odd = ['"', "'", "naïve", "日本", "a,b", "#", "NA", "nan-word", "Paris", "paris"]
    words = odd[: min(n, len(odd))] + [f"w{i}" for i in range(max(0, n - len(odd)))]
    return words, rng.standard_normal((n, dim)).astype(np.float32)


@pytest.fixture
def small():
    return random_vectors()


@pytest.fixture
def glove_file(tmp_path, small):
    """A GloVe text file written the way GloVe writes it (values '%.6g')."""
    words, matrix = small
    path = tmp_path / "small.txt"
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for word, row in zip(words, matrix, strict=True):
            handle.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    return path


@pytest.fixture
def make_kv():
    """Build a gensim KeyedVectors from words and a matrix (gensim is the reference)."""

    def build(words, matrix):
        from gensim.models import KeyedVectors

        kv = KeyedVectors(matrix.shape[1])
        kv.add_vectors(list(words), matrix)
        return kv

    return build


@pytest.fixture
def make_vectors():
    return random_vectors
