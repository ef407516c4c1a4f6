"""A Recommender fitted on interactions streamed from Parquet files: the same vocabularies,
seen pairs and popularity as the in-memory fit, a model that learns, a bundle that loads,
and batches that serve every training row once per epoch."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedlab.models.recommender import Recommender
from tests.models.test_recommender import make_ratings


def _write_parts(table: pa.Table, root, parts: int = 3):
    root.mkdir()
    step = -(-table.num_rows // parts)
    for k in range(parts):
        pq.write_table(table.slice(k * step, step), root / f"part-{k}.parquet",
                       row_group_size=60)
    return root


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    table = make_ratings()
    root = _write_parts(table, tmp_path_factory.mktemp("stream") / "ratings")
    options = dict(epochs=25, batch_size=32, learning_rate=1e-2, l2=0.01, dim=8, seed=0)
    rec = Recommender(**options).fit_stream(root, user="user", item="item", rating="rating",
                                            buffer_rows=200)
    return rec, table, root, options


def test_streamed_fit_keeps_what_the_in_memory_fit_keeps(streamed):
    rec, table, _, options = streamed
    whole = Recommender(**options).fit(table["user"], table["item"], table["rating"])
    assert rec.users.values == whole.users.values and rec.items.values == whole.items.values
    assert rec.users.counts.tolist() == whole.users.counts.tolist()
    for got, want in ((rec.seen, whole.seen), (rec.positives, whole.positives)):
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert np.array_equal(rec.popularity, whole.popularity)
    assert rec.rating_range == whole.rating_range
    assert rec.mean_rating == pytest.approx(whole.mean_rating)
    np.testing.assert_allclose(rec.table_attributes("items")["mean rating"],
                               whole.table_attributes("items")["mean rating"], rtol=1e-6)
    summary = rec.data_summary
    assert summary["rows"] == table.num_rows and summary["streamed"]["files"] == 3
    streamed_rows = summary["streamed"]
    assert streamed_rows["training_rows"] + streamed_rows["validation_rows"] == table.num_rows


def test_streamed_model_learns_and_round_trips(streamed, tmp_path):
    rec, _, _, _ = streamed
    held = make_ratings(seed=1)
    m = rec.evaluate(held["user"], held["item"], held["rating"])
    assert m["rmse"] < 0.6 * float(np.std(held["rating"].to_numpy()))
    path = rec.save(tmp_path / "bundle")
    again = Recommender.load(path)
    assert again.predict([3, 3], [101, 125]).tolist() == rec.predict([3, 3], [101, 125]).tolist()
    assert again.recommend(3, k=5).items == rec.recommend(3, k=5).items


def test_implicit_feedback_streams_too_and_shows_rows_per_second(tmp_path, capsys):
    table = make_ratings()
    root = _write_parts(table.drop_columns(["rating"]), tmp_path / "clicks")
    rec = Recommender(epochs=3, batch_size=64, dim=8, verbose=2).fit_stream(
        root, user="user", item="item")
    assert rec.implicit and rec.data_summary["positives"] == table.num_rows
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("epoch ")]
    ran = len(rec.history.epochs)
    assert len(lines) == ran and lines[0].startswith("epoch 1/3: ")
    assert all("rows/s" in ln and "val_auc" in ln for ln in lines)
    result = rec.recommend(3, k=4)
    assert result.known_user and len(result.items) == 4


def test_stream_batches_serve_every_row_once_per_epoch():
    from embedlab.training.stream_batches import StreamBatches

    chunks = [np.arange(k * 70, (k + 1) * 70) for k in range(10)]  # 700 rows, ids = rows

    def source(rng):
        for k in rng.permutation(len(chunks)):
            yield {"user": chunks[k], "item": chunks[k] * 3}, chunks[k].astype("float32")

    batches = StreamBatches(source, 700, batch_size=64, seed=0, buffer_rows=150)
    assert len(batches) == 11
    for _ in range(2):
        served = [batches[i] for i in range(len(batches))]
        rows = np.concatenate([x["user"] for x, _ in served])
        assert len(rows) == 700 and rows.sum() == sum(range(700))
        assert np.array_equal(np.sort(rows), np.arange(700))
        assert all(np.array_equal(x["item"], x["user"] * 3) and np.array_equal(y, x["user"])
                   for x, y in served)
        assert not np.array_equal(rows, np.arange(700))  # mixed, not in file order
    with pytest.raises(IndexError, match="in order"):
        batches[5]


@pytest.mark.parametrize("every", [False, True])
def test_seen_and_positive_pairs_match_a_plain_reference(monkeypatch, every):
    from embedlab.models import interaction_stream

    monkeypatch.setattr(interaction_stream, "CHUNK_CODES", 7)  # many chunks, pairs across them
    rng = np.random.default_rng(3)
    n_users, n_items = 9, 6
    u, i = rng.integers(0, n_users, 200), rng.integers(0, n_items, 200)
    positive = np.ones(200, bool) if every else rng.random(200) < 0.4
    codes = ((u.astype(np.int64) * n_items + i) << 1) | positive
    seen, positives = interaction_stream.sorted_csr(codes, n_users, n_items, every=every)
    for (indptr, items), keep in ((seen, np.ones(200, bool)), (positives, positive)):
        for user in range(n_users):
            want = sorted(set(i[(u == user) & keep].tolist()))
            assert items[indptr[user]:indptr[user + 1]].tolist() == want
    assert (positives is seen) == every
