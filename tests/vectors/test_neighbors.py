"""Nearest neighbors: exact lists equal gensim's and brute force; the HNSW index is cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors import WordVectors, hnsw
from embedlab.vectors import neighbors as nb
from embedlab.vectors.neighbors import NeighborIndex, UnknownKeyError, nearest


def table(n: int, dim: int, *, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    return [f"w{i}" for i in range(n)], rng.standard_normal((n, dim)).astype(np.float32)


def brute_force(matrix: np.ndarray, query: np.ndarray, k: int, leave_out: int = -1):
    """Rows by float64 cosine, ties by row: the reference."""
    wide = matrix.astype(np.float64)
    norms = np.linalg.norm(wide, axis=1)
    scores = np.divide(wide @ query, norms, out=np.zeros(len(wide)), where=norms > 0)
    scores /= max(np.linalg.norm(query), 1e-300)
    order = [int(i) for i in np.lexsort((np.arange(len(wide)), -scores)) if i != leave_out]
    return order[:k], scores


@pytest.fixture(scope="module")
def big():
    """20,000 rows: enough for the grouped search (small tables score every row)."""
    from gensim.models import KeyedVectors

    words, matrix = table(20_000, 16, seed=1)
    matrix[7] = 0.0
    kv = KeyedVectors(16)
    kv.add_vectors(words, matrix)
    return WordVectors(words, matrix), kv


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("n", [60, 20_000])
def test_exact_lists_equal_gensim_word_and_score(big, n):
    from gensim.models import KeyedVectors

    if n == 20_000:
        wv, kv = big
    else:
        words, matrix = table(n, 8, seed=2)
        wv, kv = WordVectors(words, matrix), KeyedVectors(8)
        kv.add_vectors(words, matrix)
    picks = np.random.default_rng(3).choice(len(wv), min(len(wv), 150), replace=False)
    keys = [wv.index_to_key[i] for i in picks if i != 7]  # gensim makes NaN of a zero row
    ours = nearest(wv, keys, 10, method="exact")
    assert ours == [kv.most_similar(key, topn=10) for key in keys]
    column_major = WordVectors(wv.index_to_key, np.asfortranarray(wv.vectors))
    assert nearest(column_major, keys, 10, method="exact") == ours


def test_the_last_rows_of_an_odd_table_score_as_in_gensim():
    """BLAS scores the last n % 4 rows another way; they must still match to the bit."""
    from gensim.models import KeyedVectors

    words, matrix = table(6_003, 16, seed=9)
    noise = np.random.default_rng(10).standard_normal((3, 16)).astype(np.float32)
    matrix[-3:] = matrix[:3] + 0.05 * noise  # neighbors of w0, w1, w2
    kv = KeyedVectors(16)
    kv.add_vectors(words, matrix)
    keys = ["w0", "w1", "w2", "w6000", "w6002", "w17"]
    ours = nearest(WordVectors(words, matrix), keys, 10, method="exact")
    assert [found[0][0] for found in ours[:3]] == ["w6000", "w6001", "w6002"]
    assert ours == [kv.most_similar(key, topn=10) for key in keys]


def test_exact_equals_brute_force_on_vectors_and_rows(big):
    wv, _ = big
    matrix = np.array(wv.vectors)
    matrix[300:320] = matrix[5]  # exact ties, broken by row number (gensim's order is arbitrary)
    index = NeighborIndex(matrix, method="exact")
    queries = np.random.default_rng(4).standard_normal((40, 16)).astype(np.float32)
    rows, scores = index.search(queries, 12)
    for query, got, got_scores in zip(queries, rows, scores, strict=True):
        expected, reference = brute_force(matrix, query, 12)
        assert got.tolist() == expected
        np.testing.assert_allclose(got_scores, reference[expected], atol=2e-6)
    by_row = index.nearest([5, 11], k=25)  # unnamed rows are named by number
    assert by_row[0][:20] == [(r, by_row[0][0][1]) for r in range(300, 320)]
    assert [r for r, _ in by_row[1]] == brute_force(matrix, matrix[11], 25, leave_out=11)[0]


def test_query_word_left_out_its_vector_not(big):
    wv, _ = big
    by_word, by_vector = nearest(wv, ["w42", wv["w42"]], 5)
    assert "w42" not in [w for w, _ in by_word]
    assert by_vector[0][0] == "w42" and by_vector[0][1] == pytest.approx(1.0, abs=1e-6)
    assert [w for w, _ in by_vector[1:]] == [w for w, _ in by_word[:4]]
    assert wv.neighbors("w42", topn=5) == [by_word]  # one list per key, also for one key
    assert nearest(wv, np.stack([wv["w1"], wv["w2"]]), 3)[1][0][0] == "w2"


def test_k_beyond_the_table():
    words, matrix = table(5, 4)
    wv = WordVectors(words, matrix)
    by_word, by_vector = nearest(wv, ["w0", matrix[0]], 10)
    assert sorted(w for w, _ in by_word) == ["w1", "w2", "w3", "w4"]
    assert len(by_vector) == 5
    rows, scores = NeighborIndex(wv).search(matrix[:1], 10, exclude=np.array([0]))
    assert rows.shape == (1, 5) and rows[0, -1] == -1 and scores[0, -1] == -np.inf


def test_zero_rows_score_zero_never_nan():
    words, matrix = table(6, 4)
    matrix[[2, 4]] = 0.0
    wv = WordVectors(words, matrix)
    lists = nearest(wv, ["w0", "w2", np.zeros(4, np.float32)], 5)
    scores = dict(lists[0])
    assert scores["w2"] == 0.0 and scores["w4"] == 0.0
    assert all(np.isfinite(s) for found in lists for _, s in found)
    # a zero query scores 0 everywhere: the first rows, in table order
    assert lists[1] == [(w, 0.0) for w in ["w0", "w1", "w3", "w4", "w5"]]
    assert [w for w, _ in lists[2]] == ["w0", "w1", "w2", "w3", "w4"]


def test_zero_queries_on_a_large_table(big):
    wv, _ = big  # row 7 is zero: as a word it leaves itself out
    by_zero_row, by_zero_vector = nearest(wv, ["w7", np.zeros(16)], 8, method="exact")
    assert by_zero_row == [(f"w{i}", 0.0) for i in [0, 1, 2, 3, 4, 5, 6, 8]]
    assert by_zero_vector == [(f"w{i}", 0.0) for i in range(8)]


def test_errors_say_what_to_do():
    words, matrix = table(30, 4)
    wv = WordVectors(words, matrix)
    with pytest.raises(UnknownKeyError, match="'nope'") as caught:
        nearest(wv, ["w1", "nope"])
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, VectorsError)
    with pytest.raises(UnknownKeyError, match=r"\[0, 30\)"):
        nearest(wv, [30])
    with pytest.raises(VectorsError, match="4 values"):
        nearest(wv, [np.ones(3)])
    with pytest.raises(ConfigError, match="k"):
        nearest(wv, ["w1"], 0)
    with pytest.raises(ConfigError, match="method"):
        NeighborIndex(wv, method="fast")
    with pytest.raises(ConfigError, match="no words"):
        NeighborIndex(matrix).nearest(["w1"])
    matrix[3, 1] = np.nan
    with pytest.raises(VectorsError, match="row 3"):
        NeighborIndex(matrix).nearest([0])


def test_auto_turns_approximate_for_large_tables(monkeypatch):
    words, matrix = table(50, 4)
    assert NeighborIndex(matrix).method == "exact"
    monkeypatch.setattr(nb, "AUTO_APPROXIMATE_ROWS", 50)
    index = NeighborIndex(matrix)
    assert index.method == "approximate"
    # a few queries and no index yet: exact, nothing built
    index.nearest([0, 1], 3)
    assert index._hnsw is None and index.cache_state == "not built"
    # a batch large enough to pay for the build goes through the index, which is cached
    monkeypatch.setattr(hnsw, "AUTO_BUILD_QUERIES", 40)
    index.nearest(list(range(40)), 3)
    assert index.cache_state == "created"
    # a fresh index over the same rows finds it in the cache and uses it for one query
    again = NeighborIndex(matrix)
    again.nearest([0], 3)
    assert again.cache_state == "reused"


@pytest.fixture(scope="module")
def clustered():
    """3,000 rows around 60 centres: neighbors that mean something, for recall."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((60, 24))
    matrix = centres[rng.integers(0, 60, 3000)] + 0.6 * rng.standard_normal((3000, 24))
    return [f"v{i}" for i in range(3000)], matrix.astype(np.float32)


def _overlap(lists, reference) -> float:
    pairs = zip(lists, reference, strict=True)
    return float(np.mean([len({w for w, _ in a} & {w for w, _ in b}) / len(b) for a, b in pairs]))


def _ann_files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_approximate_recall_and_cache_reuse(clustered, cache_dir, monkeypatch):
    words, matrix = clustered
    keys = words[:200]
    exact = nearest(WordVectors(words, matrix), keys, 10, method="exact")
    first = NeighborIndex(WordVectors(words, matrix), method="approximate")
    found = first.nearest(keys, 10)
    assert first.cache_state == "created" and first.build_seconds > 0
    assert _overlap(found, exact) >= 0.95
    shared = [(a, b) for a, b in zip(found, exact, strict=True) if a == b]
    assert len(shared) >= 150  # hits are rescored exactly: same words, same scores
    folder = cache_dir / "ann"
    assert first.cache_file.parent == folder
    names = _ann_files(folder)
    assert len(names) == 2 and not any(n.startswith(".") or n.endswith(".tmp") for n in names)
    stamp = os.stat(first.cache_file).st_mtime_ns

    def no_build(*args, **kwargs):
        raise AssertionError("the cached index should have been used")

    with monkeypatch.context() as patched:
        from usearch.index import Index

        patched.setattr(Index, "add", no_build)
        again = NeighborIndex(WordVectors(words, matrix), method="approximate")
        assert again.nearest(keys, 10) == found
    assert again.cache_state == "reused" and again.build_seconds == 0
    assert os.stat(first.cache_file).st_mtime_ns == stamp
    # other vectors or other parameters: another file
    other = NeighborIndex(matrix * 2 + 1, method="approximate", connectivity=8)
    other.hnsw()
    assert other.cache_state == "created" and len(_ann_files(folder)) == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "sidecar", "wrong key"])
def test_a_damaged_index_file_is_rebuilt(clustered, damage):
    words, matrix = clustered
    keys = words[:50]
    first = NeighborIndex(matrix, keys=words, method="approximate")
    expected = first.nearest(keys, 10)
    path = first.cache_file
    sidecar = path.with_suffix(".json")
    if damage == "garbage":
        with open(path, "r+b") as handle:
            handle.seek(path.stat().st_size // 2)
            handle.write(b"\xff" * 4096)
    elif damage == "truncated":
        os.truncate(path, path.stat().st_size // 3)
    elif damage == "sidecar":
        sidecar.unlink()
    else:
        meta = json.loads(sidecar.read_text())
        meta["key"]["rows"] += 1
        sidecar.write_text(json.dumps(meta))
    again = NeighborIndex(matrix, keys=words, method="approximate")
    assert _overlap(again.nearest(keys, 10), expected) >= 0.9  # threaded builds may differ
    assert again.cache_state == "rebuilt (the cached one was unusable)"
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, sidecar.name])
    assert NeighborIndex(matrix, method="approximate").hnsw() is not None


def test_index_lives_in_the_vectors_cache_entry(tmp_path):
    words, matrix = table(400, 8, seed=6)
    path = tmp_path / "small.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for word, row in zip(words, matrix, strict=True):
            handle.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    wv = WordVectors.load(path)
    found = wv.neighbors(["w3", "w9"], topn=4, method="approximate")
    index = nb.index_for(wv, method="approximate")
    assert index.cache_file.parent == wv.cache_path
    assert [w for w, _ in found[0]] == [w for w, _ in wv.most_similar("w3", topn=4)]
    assert nb.index_for(wv, method="approximate") is index  # kept with the vectors


def test_importing_it_loads_no_keras():
    code = (
        "import sys, embedlab.vectors.neighbors; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'jax', 'tensorflow'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_negative_scores_on_a_padded_table():
    """6,000 rows (not a multiple of the group size), every cosine below 0."""
    words, matrix = table(6_000, 8, seed=8)
    matrix = -np.abs(matrix)
    query = np.ones(8, np.float32)
    rows, scores = NeighborIndex(matrix, method="exact").search(query, 10)
    expected, reference = brute_force(matrix, query, 10)
    assert rows[0].tolist() == expected and (scores < 0).all()
