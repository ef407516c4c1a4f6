import numpy as np
import pyarrow as pa
import pytest

from embedlab.errors import ConfigError, DataError
from embedlab.models.recommender import Recommender, leave_last_out


def make_ratings(*, seed: int = 0, users: int = 40, items: int = 30, per_user: int = 14):
    """Two tastes: users and items in the same half rate 4-5, across halves 1-2."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        for i in rng.choice(items, per_user, replace=False):
            same = (u < users // 2) == (i < items // 2)
            rating = int(rng.integers(4, 6) if same else rng.integers(1, 3))
            rows.append((u + 1, int(i) + 101, rating, int(rng.integers(0, 1000))))
    users_, items_, ratings, times = map(list, zip(*rows, strict=True))
    return pa.table({"user": users_, "item": items_, "rating": ratings, "time": times})


@pytest.fixture(scope="module")
def explicit(tmp_path_factory):
    table = make_ratings()
    rec = Recommender(epochs=25, batch_size=32, learning_rate=1e-2, l2=0.01, dim=8,
                      validation_split=0.0)
    rec.fit(table["user"], table["item"], table["rating"])
    rec.columns = {"user": "user", "item": "item"}
    path = rec.save(tmp_path_factory.mktemp("rec") / "explicit")
    return rec, path, table


def test_explicit_learns_the_two_tastes(explicit):
    rec, _, _ = explicit
    held = make_ratings(seed=1)
    m = rec.evaluate(held["user"], held["item"], held["rating"])
    spread = float(np.std(held["rating"].to_numpy()))
    assert m["rmse"] < 0.6 * spread and m["rows"] == held.num_rows
    assert rec.mode == "explicit" and rec.data_summary["users"] == 40


def test_ids_are_normalised_to_strings(explicit):
    rec, _, _ = explicit
    as_int = rec.predict([3, 3], [101, 125])
    assert rec.predict(["3", " 3 "], ["101", "125"]).tolist() == as_int.tolist()
    assert rec.predict([3.0, 3], [101.0, "125"]).tolist() == as_int.tolist()  # mixed types
    assert as_int[0] > as_int[1]  # user 3 is in the first half, item 101 too, 125 is not
    assert rec.last_counts == {"unknown_users": 0, "unknown_items": 0}


def test_recommend_leaves_seen_items_out_and_falls_back_to_popularity(explicit):
    rec, _, table = explicit
    seen = {str(i) for u, i in zip(table["user"].to_pylist(), table["item"].to_pylist(),
                                   strict=True) if u == 3}
    result = rec.recommend(3, k=5)
    assert result.known_user and len(result.items) == 5
    assert not seen & set(result.items)
    assert all(101 <= int(i) < 116 for i in result.items[:3])  # the first-half items
    everything = rec.recommend("3", k=30, exclude_seen=False)
    assert len(everything.items) == 30
    stranger = rec.recommend("nobody", k=3)
    assert not stranger.known_user and stranger.basis == "popularity"
    counts = np.bincount(table["item"].to_numpy())
    assert int(stranger.items[0]) == int(np.argmax(counts))


def test_similar_items_and_vectors(explicit):
    rec, _, _ = explicit
    near = rec.similar_items(101, k=5)
    assert sum(101 <= int(i) < 116 for i, _ in near) >= 4
    assert rec.item_vectors().vectors.shape == (30, 8)
    assert rec.user_vectors().vectors.shape == (40, 8)
    with pytest.raises(DataError, match="not seen in training"):
        rec.similar_items("999")


def test_bundle_loads_and_predict_job_reads_it(explicit, tmp_path):
    from embedlab import jobs
    from embedlab.data import write_table

    rec, path, _ = explicit
    users, items = [1, 2, 3, 40, 77], [101, 130, 115, 102, 101]
    here = rec.predict(users, items).tolist()
    loaded = Recommender.load(path)
    assert loaded.predict(users, items).tolist() == here
    assert loaded.recommend(3, k=4) == rec.recommend(3, k=4)
    src = tmp_path / "pairs.csv"
    write_table(pa.table({"user": users, "item": items}), src)
    table = jobs.predict(path, input=src)
    assert table.column_names == ["user", "item", "predicted"]
    assert table["predicted"].to_pylist() == here
    assert rec.last_counts == {"unknown_users": 1, "unknown_items": 0}  # user 77


def test_implicit_ranks_held_out_items_above_popularity():
    table = make_ratings(seed=2, per_user=16)
    positive = table["rating"].to_numpy() >= 4
    train_rows, held = leave_last_out(table["user"], table["time"], positive=positive)
    train, test = table.take(pa.array(train_rows)), table.take(pa.array(held))
    rec = Recommender(implicit=True, epochs=12, batch_size=64, dim=8, validation_split=0.0,
                      learning_rate=1e-2)
    rec.fit(train["user"], train["item"], train["rating"])
    assert rec.mode == "implicit" and rec.data_summary["positives"] == int(
        (train["rating"].to_numpy() >= 4).sum())
    ours = rec.evaluate_ranking(test["user"], test["item"], k=5)
    popular = rec.evaluate_ranking(test["user"], test["item"], k=5, scorer="popular")
    assert ours["users"] == 40 and ours["hit_rate@5"] > popular["hit_rate@5"]
    assert 0 < ours["ndcg@5"] <= ours["hit_rate@5"]
    scores = rec.predict([1, 1], [101, 130])
    assert ((scores > 0) & (scores < 1)).all()
    with pytest.raises(ConfigError, match="evaluate_ranking"):
        rec.evaluate(test["user"], test["item"], test["rating"])


def test_leave_last_out_takes_the_latest_positive_ties_by_file_order():
    users = ["a", "a", "a", "b", "b", "c"]
    times = [5, 9, 9, 1, 2, 7]
    positive = np.array([True, True, True, True, False, True])
    train, test = leave_last_out(users, times, positive=positive)
    # a: rows 1 and 2 tie at time 9, the later row (2) is last; b has one positive; c has one
    assert test.tolist() == [2]
    assert train.tolist() == [0, 1, 3, 4, 5]
    assert leave_last_out(users)[1].tolist() == [2, 4]  # no times: row order


def test_bad_input_is_a_clear_error_or_a_counted_policy():
    with pytest.raises(ConfigError, match="explicit ratings need a rating column"):
        Recommender(implicit=False).fit([1, 2], [3, 4])
    with pytest.raises(DataError, match="numeric but holds text: 'great'"):
        Recommender().fit([1, 2], [3, 4], [5, "great"])
    with pytest.raises(DataError, match="no rows to train on"):
        Recommender().fit([None, None], [3, 4], [5, 1])
    with pytest.raises(DataError, match="same length"):
        Recommender().fit([1, 2, 3], [3, 4], [5, 1])
    with pytest.raises(ConfigError, match="negatives"):
        Recommender(negatives=0)
    with pytest.raises(ConfigError, match="not trained"):
        Recommender().recommend("1")


@pytest.mark.parametrize("implicit", [False, True])
def test_row_sparse_tables_learn_as_well_as_dense_ones_and_reload(implicit, tmp_path):
    """sparse=True (what tables of SPARSE_FROM_ROWS rows get by default) trains the user and
    item tables row-sparsely; the bundle holds them and predicts the same after loading."""
    import subprocess
    import sys

    table = make_ratings(seed=2, per_user=16)
    held = make_ratings(seed=3, per_user=16)
    figures = {}
    for sparse in (False, True):
        rec = Recommender(implicit=implicit, epochs=15, batch_size=32, dim=8,
                          validation_split=0.0, learning_rate=1e-2, sparse=sparse)
        rec.fit(table["user"], table["item"], None if implicit else table["rating"])
        assert rec.model.get_layer("user_embedding").sparse is sparse
        if implicit:
            figures[sparse] = rec.evaluate_ranking(held["user"], held["item"], k=5)["hit_rate@5"]
        else:
            figures[sparse] = rec.evaluate(held["user"], held["item"], held["rating"])["rmse"]
    if implicit:
        assert figures[True] >= figures[False] - 0.15
    else:
        assert figures[True] <= figures[False] + 0.15
    rec.columns = {"user": "user", "item": "item"}
    path = rec.save(tmp_path / "sparse")
    code = ("import json; from embedlab.models.recommender import Recommender; "
            f"r = Recommender.load({str(path)!r}); "
            "print(json.dumps(r.predict([1, 2, 3], [101, 102, 130]).tolist()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    np.testing.assert_allclose(eval(out.stdout.strip().splitlines()[-1]),
                               rec.predict([1, 2, 3], [101, 102, 130]), rtol=1e-6)


def test_hashed_and_rare_ids_keep_every_api_working(tmp_path):
    table = make_ratings(seed=4)
    rec = Recommender(epochs=3, batch_size=64, dim=4, validation_split=0.0,
                      hash_buckets={"user": 8}, min_count=14)
    rec.fit(table["user"], table["item"], table["rating"])
    users = rec.data_summary["tables"]["users"]
    assert users["values"] == 40 and users["hashed"] == 8 and users["collisions"] == 40 - 8
    items = rec.data_summary["tables"]["items"]
    per_item = np.unique(table["item"].to_numpy(), return_counts=True)[1]
    assert items["hashed"] is None and items["rare"] == per_item[per_item < 14].sum() > 0
    vectors = rec.user_vectors()
    assert len(vectors) == 8 and vectors.index_to_key[0] == "<bucket 0>"
    assert rec.recommend(1, k=3).known_user
    unseen = rec.recommend("someone new", k=3)
    assert not unseen.known_user and unseen.basis == "popularity"
    scores = rec.predict(["someone new", 1], [101, 101])
    assert np.isfinite(scores).all() and rec.last_counts["unknown_users"] == 1
    rec.columns = {"user": "user", "item": "item"}
    loaded = Recommender.load(rec.save(tmp_path / "hashed"))
    assert not loaded.recommend("someone new", k=3).known_user
    np.testing.assert_allclose(loaded.predict(["someone new", 1], [101, 101]), scores,
                               rtol=1e-6)


def test_a_hashed_id_gets_the_same_row_in_every_process():
    import subprocess
    import sys

    code = ("from embedlab.text.categorical import CategoricalVocabulary; "
            "v = CategoricalVocabulary(buckets=1000).fit([f'user{i}' for i in range(5000)]); "
            "print([v.lookup(f'user{i}') for i in (1, 42, 4999)])")
    rows = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**__import__("os").environ, "PYTHONHASHSEED": seed},
                           timeout=120).stdout.strip() for seed in ("1", "2")}
    assert len(rows) == 1


def test_unknown_users_score_by_the_item_alone(explicit):
    rec, _, _ = explicit
    unknown = rec.predict([900, 901, 902], [101, 101, 101])  # never seen: the <unk> row
    assert len(set(unknown.tolist())) == 1  # the same for every unknown user
    known = rec.predict([1, 21], [101, 101])
    assert known[0] != known[1]
    table = np.asarray(rec.model.get_layer("user_embedding").embeddings)
    assert not table[:2].any()  # <pad> and <unk>: no training row reached them, zeroed
