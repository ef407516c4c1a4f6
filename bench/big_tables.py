"""Tables of millions of rows: step time and memory of row-sparse training beside plain
Keras, a whole `embedlab train recommender` epoch with a million users, and quality on
both paths.

1. Step time (ms) of the matrix-factorisation recommender (batch 1024, dim 64; items 10k)
   against the number of user rows: plain Keras (`keras.layers.Embedding`, Adam) and
   embedlab's row-sparse tables (`SparseEmbedding` in a `RowSparseModel`, row-wise Adagrad;
   the recommender's defaults). Medians over 3 timed epochs of 40 steps each. Targets:
   1M rows <= 1.5x the step time at 10k, 10M rows <= 2x.
2. Peak RSS training a 10M x 64 table (2.56 GB), in a process of its own. Target <= 3.5x
   the table's bytes.
3. One epoch of `embedlab train recommender` (batch 1024, default dim) on 2M synthetic
   ratings with ~1M distinct users against 10k users: the whole command (reading, ID maps,
   training, validation, saving, report). Target: <= 1.5x.
4. Quality on both paths (`sparse=False` / `sparse=True` forced): MovieLens 100k RMSE,
   Adult AUC, women's reviews AUC (the bag recipe). Targets: within 0.005 RMSE, 0.003 AUC.

    python -m bench.big_tables [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._report import md_table, write_section

BATCH, DIM, ITEMS = 1024, 64, 10_000
STEPS = 40

def _probe(rows: int, path: str, steps: int = STEPS) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench._step_probe", str(rows), path,
                           str(steps), str(BATCH), str(DIM), str(ITEMS)],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def step_times(sizes: list[int]) -> tuple[list[list], dict]:
    rows, found = [], {}
    for size in sizes:
        dense = None
        if size <= 1_000_000:
            dense = _probe(size, "dense", steps=STEPS if size < 1_000_000 else 10)
        sparse = _probe(size, "sparse")
        found[size] = (dense, sparse)
        print(f"{size:,} rows: dense {dense and round(dense['ms'], 2)} ms, "
              f"sparse {sparse['ms']:.2f} ms", flush=True)
    base = found[sizes[0]][1]["ms"]
    for size in sizes:
        dense, sparse = found[size]
        rows.append([f"{size:,}", f"{dense['ms']:.2f}" if dense else "not run",
                     f"{sparse['ms']:.2f}", f"{sparse['ms'] / base:.2f}x",
                     f"{dense['ms'] / sparse['ms']:.1f}x" if dense else "-"])
    return rows, found


def _ratings(path: Path, n: int, users: int, seed: int = 0) -> None:
    """Synthetic ratings: half the users uniform over the range, half heavy-tailed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    half = n // 2
    uniform = rng.integers(0, users, half)
    zipf = (rng.zipf(1.2, n - half) * 2654435761) % users
    user = np.concatenate([uniform, zipf])
    item = (rng.zipf(1.2, n) * 40503) % 20_000
    rating = rng.integers(1, 6, n).astype("float32")
    pq.write_table(pa.table({"user": user.astype("int64"), "item": item.astype("int64"),
                             "rating": rating}), path, row_group_size=200_000)


def end_to_end(n: int) -> list[list]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for users in (10_000, 5_000_000):  # ~1M distinct users from a 5M range
            data = Path(tmp) / f"ratings-{users}.parquet"
            _ratings(data, n, users)
            command = [sys.executable, "-m", "embedlab", "-q", "train", "recommender", str(data),
                       "--user", "user", "--item", "item", "--rating", "rating",
                       "--epochs", "1", "--batch-size", "1024", "-o", str(Path(tmp) / "run")]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            seconds = time.perf_counter() - start
            manifest = json.loads((Path(tmp) / "run" / "manifest.json").read_text())
            results[users] = seconds
            rows.append([f"{manifest['data']['users']:,}", f"{n:,}", f"{seconds:.1f}"])
            print(f"{users:,} users: {seconds:.1f} s", flush=True)
        rows.append(["ratio", "", f"{results[5_000_000] / results[10_000]:.2f}x"])
    return rows


def quality() -> list[list]:
    rows = []
    from embedlab.data.datasets import split_by_permutation
    from embedlab.data.widedeep import adult, movielens_100k
    from embedlab.models.recommender import Recommender
    from embedlab.models.tabular import TabularModel

    train, test = split_by_permutation(movielens_100k(), seed=0)
    figures = {}
    for sparse in (False, True):
        rec = Recommender(seed=0, sparse=sparse).fit(train["user_id"], train["movie_id"],
                                                     train["rating"])
        figures[sparse] = rec.evaluate(test["user_id"], test["movie_id"], test["rating"])["rmse"]
    rows.append(["MovieLens 100k RMSE", f"{figures[False]:.4f}", f"{figures[True]:.4f}",
                 f"{figures[True] - figures[False]:+.4f}"])
    print(rows[-1], flush=True)
    train, test = split_by_permutation(adult(), seed=0)
    for sparse in (False, True):
        model = TabularModel(positive=">50K", seed=0, sparse=sparse).fit(train, "income")
        figures[sparse] = model.evaluate(test, "income")["auc"]
    rows.append(["Adult AUC", f"{figures[False]:.4f}", f"{figures[True]:.4f}",
                 f"{figures[True] - figures[False]:+.4f}"])
    print(rows[-1], flush=True)
    from embedlab.data.datasets import womens_reviews
    from embedlab.models.text import TextClassifier

    train, test = split_by_permutation(womens_reviews(), seed=0)
    for sparse in (False, True):
        clf = TextClassifier(arch="bag", seed=0, sparse=sparse)
        clf.fit(train["Review Text"], train["Recommended IND"])
        figures[sparse] = clf.evaluate(test["Review Text"], test["Recommended IND"])["auc"]
    rows.append(["women's reviews AUC (bag)", f"{figures[False]:.4f}", f"{figures[True]:.4f}",
                 f"{figures[True] - figures[False]:+.4f}"])
    print(rows[-1], flush=True)
    return rows


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip 10M rows and quality")
    parser.add_argument("--parts", default="steps,e2e,quality")
    args = parser.parse_args(argv or [])
    parts = args.parts.split(",")
    command = "python -m bench.big_tables"
    if "steps" in parts:
        sizes = [10_000, 100_000, 1_000_000] + ([] if args.quick else [10_000_000])
        table, found = step_times(sizes)
        body = (
            f"Step time, ms (batch {BATCH}, dim {DIM}, {ITEMS:,} items; median of 3 epochs "
            f"of {STEPS} steps). Plain Keras: `Embedding` + Adam; ours: `SparseEmbedding` "
            "(row-wise Adagrad) in a `RowSparseModel`. Targets: 1M rows <= 1.5x the 10k step, "
            "10M <= 2x.\n\n"
            + md_table(["user rows", "plain Keras", "row-sparse", "vs 10k", "speed-up"], table))
        if 10_000_000 in found:
            peak = found[10_000_000][1]["peak"]
            table_bytes = 10_000_000 * DIM * 4
            body += (f"\n\nPeak RSS training the 10M x {DIM} table ({table_bytes / 1e9:.2f} GB): "
                     f"{peak / 1e9:.2f} GB = {peak / table_bytes:.2f}x its bytes (target "
                     "<= 3.5x). Plain Keras was not run at 10M rows: its 1M-row step already "
                     "rewrites the whole table and both Adam slots every step.")
        write_section("Big tables: step time and memory", body, command=command)
    if "e2e" in parts:
        write_section(
            "Big tables: an epoch with a million users",
            "`embedlab train recommender --epochs 1 --batch-size 1024` on 2M synthetic ratings "
            "(half the users uniform over the range, half Zipf 1.2), the whole process (reading, "
            "ID maps, training, validation, saving, report). Target: the ~1M-user run <= 1.5x "
            "the 10k-user one.\n\n"
            + md_table(["distinct users", "ratings", "seconds"], end_to_end(2_000_000)),
            command=command + " --parts e2e")
    if "quality" in parts and not args.quick:
        write_section(
            "Big tables: quality on both paths",
            "Each path forced (`sparse=False` / `sparse=True`), seed 0, the DATA.md splits. "
            "Targets: within 0.005 RMSE and 0.003 AUC.\n\n"
            + md_table(["figure", "dense", "row-sparse", "difference"], quality()),
            command=command + " --parts quality")


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    run(sys.argv[1:])
