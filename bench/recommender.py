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
            "train_rows": train.num_rows, "test_rows": test.num_rows}


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
            "positives": int(positive.sum())}


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
        + "\n\nFor reference on this set: biased SVD about 0.93 and SVD++ about 0.92 "
        "(published); an untuned Keras biased MF measured 0.921-0.930 here. "
        f"Target {'met' if e_met else 'NOT met'}.\n\n"
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
        + f"\n\nTarget {'met' if i_met else 'NOT met'}. 1-minute load average at the end: "
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
