"""User and item embeddings on MovieLens 100k: explicit ratings (RMSE) and implicit feedback
(HitRate@10 and NDCG@10 by leave-last-out), each with its default settings.

Protocols (docs/data.md):
- explicit: ratings in file order, `default_rng(0).permutation(n)`, the first n // 5 test;
  target RMSE <= 0.92.
- implicit: ratings >= 4 are positives; each user's last positive by timestamp (ties: the
  later row in file order) is held out; the model trains on every other row; the held-out
  item is ranked against the full catalogue with the user's other positives left out (ties
  count in its favour). The most-popular baseline (training positives per item) is ranked
  the same way. Target: HitRate@10 >= 1.5x the baseline's.
Training under a minute on 2 cores for either.

    python -m bench.recommender [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench._report import md_table, write_section

USER, ITEM, RATING, TIME = "user_id", "movie_id", "rating", "timestamp"
MIN_POSITIVE = 4


def _surprise(train, test, seeds) -> dict:
    """scikit-surprise's SVD and SVD++ (their defaults) on the same split."""
    from surprise import SVD, Dataset, Reader, SVDpp

    frame = train.select([USER, ITEM, RATING]).to_pandas()
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()
    pairs = list(zip(test[USER].to_pylist(), test[ITEM].to_pylist(), strict=True))
    truth = test[RATING].to_numpy().astype("float64")
    out = {}
    for cls in (SVD, SVDpp):
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            algo = cls(random_state=seed).fit(trainset)
            seconds = time.perf_counter() - start
            pred = np.array([algo.predict(u, i).est for u, i in pairs])
            runs.append({"rmse": float(np.sqrt(np.mean((pred - truth) ** 2))),
                         "mae": float(np.mean(np.abs(pred - truth))), "seconds": seconds})
        out[cls.__name__] = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        print(f"surprise {cls.__name__}: rmse {out[cls.__name__]['rmse']:.4f}", flush=True)
    return out


def _implicit_peers(train, test, seeds, k: int = 10) -> dict:
    """The `implicit` package's ALS and BPR (their defaults) on the training positives,
    ranked exactly as `Recommender.evaluate_ranking` ranks: against every item seen in
    training, the user's training positives left out, ties in the held-out item's favour,
    a held-out item never seen in training a miss."""
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking

    users = {u: n for n, u in enumerate(dict.fromkeys(train[USER].to_pylist()))}
    items = {i: n for n, i in enumerate(dict.fromkeys(train[ITEM].to_pylist()))}
    rating = train[RATING].to_numpy()
    rows = np.array([users[u] for u in train[USER].to_pylist()])
    cols = np.array([items[i] for i in train[ITEM].to_pylist()])
    keep = rating >= MIN_POSITIVE
    matrix = sp.csr_matrix((np.ones(int(keep.sum()), "float32"), (rows[keep], cols[keep])),
                           shape=(len(users), len(items)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    held = [(users.get(u), items.get(i))
            for u, i in zip(test[USER].to_pylist(), test[ITEM].to_pylist(), strict=True)]
    held = [(u, i) for u, i in held if u is not None]
    out = {}
    for name, make in (("ALS", AlternatingLeastSquares), ("BPR", BayesianPersonalizedRanking)):
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            model = make(random_state=seed)
            model.fit(matrix, show_progress=False)
            seconds = time.perf_counter() - start
            user_f, item_f = np.asarray(model.user_factors), np.asarray(model.item_factors)
            hits, gains = [], []
            for u, i in held:
                if i is None:
                    hits.append(0.0)
                    gains.append(0.0)
                    continue
                scores = item_f @ user_f[u]
                seen = matrix.indices[matrix.indptr[u]:matrix.indptr[u + 1]]
                scores[seen[seen != i]] = -np.inf
                rank = int((scores > scores[i]).sum())
                hits.append(float(rank < k))
                gains.append(1.0 / np.log2(rank + 2) if rank < k else 0.0)
            runs.append({"hit": float(np.mean(hits)), "ndcg": float(np.mean(gains)),
                         "seconds": seconds})
        out[name] = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
        print(f"implicit {name}: HR@{k} {out[name]['hit']:.4f} NDCG@{k} {out[name]['ndcg']:.4f}",
              flush=True)
    return out


def _explicit(seeds) -> dict:
    from embedlab.data.datasets import split_by_permutation
    from embedlab.data.widedeep import movielens_100k
    from embedlab.models.recommender import Recommender

    train, test = split_by_permutation(movielens_100k(), seed=0)
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        rec = Recommender(seed=seed).fit(train[USER], train[ITEM], train[RATING])
        seconds = time.perf_counter() - start
        m = rec.evaluate(test[USER], test[ITEM], test[RATING])
        runs.append({"seed": seed, "rmse": m["rmse"], "mae": m["mae"], "seconds": seconds,
                     "epochs": len(rec.history.epochs), "best": rec.history.best_epoch,
                     "parameters": int(rec.model.count_params())})
        print(f"explicit seed {seed}: rmse {m['rmse']:.4f} mae {m['mae']:.4f} "
              f"({runs[-1]['epochs']} epochs, {seconds:.0f} s)", flush=True)
    truth = test[RATING].to_numpy().astype("float64")
    mean = float(train[RATING].to_numpy().mean())
    return {"runs": runs, "mean_rmse": float(np.sqrt(np.mean((truth - mean) ** 2))),
            "train_rows": train.num_rows, "test_rows": test.num_rows,
            "peers": _surprise(train, test, seeds)}


def _implicit(seeds) -> dict:
    import pyarrow as pa

    from embedlab.data.widedeep import movielens_100k
    from embedlab.models.recommender import Recommender, leave_last_out

    data = movielens_100k()
    positive = data[RATING].to_numpy() >= 4
    train_rows, held = leave_last_out(data[USER], data[TIME], positive=positive)
    train, test = data.take(pa.array(train_rows)), data.take(pa.array(held))
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        rec = Recommender(implicit=True, seed=seed).fit(train[USER], train[ITEM], train[RATING])
        seconds = time.perf_counter() - start
        m = rec.evaluate_ranking(test[USER], test[ITEM], k=10)
        runs.append({"seed": seed, "hit": m["hit_rate@10"], "ndcg": m["ndcg@10"],
                     "seconds": seconds, "epochs": len(rec.history.epochs),
                     "parameters": int(rec.model.count_params()), "users": m["users"],
                     "unknown_items": m["unknown_items"], "candidates": m["candidates"]})
        print(f"implicit seed {seed}: HR@10 {m['hit_rate@10']:.4f} NDCG@10 {m['ndcg@10']:.4f} "
              f"({runs[-1]['epochs']} epochs, {seconds:.0f} s)", flush=True)
    popular = rec.evaluate_ranking(test[USER], test[ITEM], k=10, scorer="popular")
    print(f"most popular: HR@10 {popular['hit_rate@10']:.4f} NDCG@10 {popular['ndcg@10']:.4f}",
          flush=True)
    return {"runs": runs, "popular": popular, "train_rows": train.num_rows,
            "positives": int(positive.sum()), "peers": _implicit_peers(train, test, seeds)}


def run(seeds=(0, 1, 2)) -> dict:
    explicit = _explicit(seeds)
    implicit = _implicit(seeds)
    e_runs, i_runs, pop = explicit["runs"], implicit["runs"], implicit["popular"]
    e_default = e_runs[0]
    i_default = i_runs[0]
    e_rows = [[f"Recommender (explicit, defaults, seed {r['seed']})", r["rmse"], r["mae"],
               r["epochs"], f"{r['parameters']:,}", f"{r['seconds']:.0f}"] for r in e_runs]
    e_rows.append([f"mean of seeds {list(seeds)}", float(np.mean([r["rmse"] for r in e_runs])),
                   float(np.mean([r["mae"] for r in e_runs])), "-", "-",
                   f"{np.mean([r['seconds'] for r in e_runs]):.0f}"])
    e_rows.append(["global mean rating", explicit["mean_rmse"], "-", "-", "-", "-"])
    for name, label in (("SVD", "scikit-surprise SVD (defaults)"),
                        ("SVDpp", "scikit-surprise SVD++ (defaults)")):
        peer = explicit["peers"][name]
        e_rows.append([f"{label}, mean of seeds {list(seeds)}", peer["rmse"], peer["mae"], "-",
                       "-", f"{peer['seconds']:.0f}"])
    base_hit = pop["hit_rate@10"]
    i_rows = [[f"Recommender (implicit, defaults, seed {r['seed']})", r["hit"], r["ndcg"],
               f"{r['hit'] / base_hit:.2f}x", r["epochs"], f"{r['parameters']:,}",
               f"{r['seconds']:.0f}"] for r in i_runs]
    i_rows.append([f"mean of seeds {list(seeds)}", float(np.mean([r["hit"] for r in i_runs])),
                   float(np.mean([r["ndcg"] for r in i_runs])),
                   f"{np.mean([r['hit'] for r in i_runs]) / base_hit:.2f}x", "-", "-",
                   f"{np.mean([r['seconds'] for r in i_runs]):.0f}"])
    i_rows.append(["most popular (training positives per item)", base_hit, pop["ndcg@10"],
                   "1.00x", "-", "-", "-"])
    for name, label in (("ALS", "implicit ALS (defaults)"), ("BPR", "implicit BPR (defaults)")):
        peer = implicit["peers"][name]
        i_rows.append([f"{label}, mean of seeds {list(seeds)}", peer["hit"], peer["ndcg"],
                       f"{peer['hit'] / base_hit:.2f}x", "-", "-", f"{peer['seconds']:.0f}"])
    mean_rmse = float(np.mean([r["rmse"] for r in e_runs]))
    mean_hit = float(np.mean([r["hit"] for r in i_runs]))
    mean_ndcg = float(np.mean([r["ndcg"] for r in i_runs]))
    best_peer = max(implicit["peers"].values(), key=lambda p: p["hit"])
    svd = explicit["peers"]["SVD"]["rmse"]
    ahead = mean_hit > best_peer["hit"] and mean_ndcg > best_peer["ndcg"]
    peers_line = (
        f"Against the peers: RMSE {mean_rmse:.4f} against SVD {svd:.4f}"
        f" and SVD++ {explicit['peers']['SVDpp']['rmse']:.4f} (target <= 0.900: "
        f"{'met' if mean_rmse <= 0.900 else 'NOT met'}); HitRate@10 {mean_hit:.4f} and NDCG@10 "
        f"{mean_ndcg:.4f} against the better of ALS and BPR ({best_peer['hit']:.4f} / "
        f"{best_peer['ndcg']:.4f}): "
        f"{'ahead' if ahead else 'NOT ahead'}."
    )
    e_met = e_default["rmse"] <= 0.92 and e_default["seconds"] < 60
    i_met = i_default["hit"] >= 1.5 * base_hit and i_default["seconds"] < 60
    body = (
        "### Explicit ratings\n\n"
        f"MovieLens 100k, split `default_rng(0).permutation`, first 20% test "
        f"({explicit['train_rows']} train, {explicit['test_rows']} test ratings). Biased matrix "
        "factorisation, `Recommender()` defaults: 32-d vectors, per-row L2 0.2 (training only), "
        "sigmoid output over the rating range widened by 1/8 each side, Adam 1e-3, batch 256, "
        "early stopping on the validation MSE of 10% of train (patience 3). Seconds: training "
        "only. Target: RMSE <= 0.92 with default settings (seed 0), under a minute.\n\n"
        + md_table(["model", "test RMSE", "test MAE", "epochs", "parameters", "seconds"],
                   e_rows)
        + "\n\nPublished for this set (5-fold CV): SVD about 0.934, SVD++ about 0.919; an "
        "untuned Keras biased MF measured 0.921-0.930 here. "
        f"Target (0.92) {'met' if e_met else 'NOT met'}.\n\n"
        "### Implicit feedback\n\n"
        f"Ratings >= 4 are positives ({implicit['positives']} of them); each user's last "
        "positive by timestamp (ties: the later row in file order) is held out, "
        f"{i_default['users']} users evaluated (users with one positive keep it for training); "
        f"every other row trains ({implicit['train_rows']} rows). The held-out item is ranked "
        f"against the full catalogue ({i_default['candidates']} items seen in training; "
        f"{i_default['unknown_items']} held-out items never seen in training count as misses) "
        "with the user's other positives left out; ties count in its favour. "
        "`Recommender(implicit=True)` defaults: 64-d two-tower dot product plus item bias, 4 "
        "uniform negatives per positive drawn afresh each step, per-row L2 0.01, Adam 3e-3, "
        "batch 1024, early stopping on the validation AUC (patience 3). Target: HitRate@10 >= "
        "1.5x the most-popular baseline's (seed 0), under a minute.\n\n"
        + md_table(["model", "HitRate@10", "NDCG@10", "vs popular", "epochs", "parameters",
                    "seconds"], i_rows)
        + f"\n\nTarget (1.5x popular) {'met' if i_met else 'NOT met'}. {peers_line} "
        "1-minute load average at the end: "
        f"{os.getloadavg()[0]:.2f} (other work on the machine slows the seconds)."
    )
    write_section("Recommender: MovieLens 100k", body, command="python -m bench.recommender")
    return {"explicit": explicit, "implicit": implicit, "met": e_met and i_met}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    run(tuple(int(s) for s in args.seeds.split(",")))


if __name__ == "__main__":
    main()
