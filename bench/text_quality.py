"""Quality of each text recipe with its default settings on the women's reviews split.

Protocol (docs/data.md): rows without `Review Text` dropped, file order,
`default_rng(0).permutation(n)`, first n // 5 test; label `Recommended IND`. Each recipe is
trained with its defaults (early stopping on a validation split carved from train; the test
set is touched once, at the end) for 3 seeds.

    python -m bench.text_quality [--recipes cnn,bag] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench._report import md_table, write_section

MAJORITY = 0.821
TEXT, LABEL = "Review Text", "Recommended IND"


def run(recipes=("flatten", "lstm", "bilstm", "cnn", "bag"), seeds=(0, 1, 2)) -> dict:
    from embedlab.data.datasets import split_by_permutation, womens_reviews
    from embedlab.models.text import TextClassifier

    train, test = split_by_permutation(womens_reviews(), seed=0)
    majority = max(np.mean(test[LABEL].to_numpy()), 1 - np.mean(test[LABEL].to_numpy()))
    results = {}
    for arch in recipes:
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            clf = TextClassifier(arch=arch, seed=seed).fit(train[TEXT], train[LABEL])
            m = clf.evaluate(test[TEXT], test[LABEL])
            m["seconds"] = time.perf_counter() - start
            m["epochs"] = len(clf.history.epochs)
            runs.append(m)
            print(f"{arch} seed {seed}: auc {m['auc']:.4f} acc {m['accuracy']:.4f} "
                  f"({m['epochs']} epochs, {m['seconds']:.0f} s)", flush=True)
        results[arch] = {
            "auc": float(np.mean([r["auc"] for r in runs])),
            "auc_min": float(np.min([r["auc"] for r in runs])),
            "accuracy": float(np.mean([r["accuracy"] for r in runs])),
            "seconds": float(np.mean([r["seconds"] for r in runs])),
            "epochs": float(np.mean([r["epochs"] for r in runs])),
        }
    rows = [
        [arch, r["auc"], r["auc_min"], r["accuracy"], f"{r['epochs']:.1f}", f"{r['seconds']:.0f}"]
        for arch, r in results.items()
    ]
    best = max(results, key=lambda a: results[a]["auc"])
    body = (
        f"Women's reviews split (label Recommended IND; {train.num_rows} train, "
        f"{test.num_rows} test rows; majority accuracy {majority:.3f}). Each recipe with its "
        f"default settings, mean of seeds {list(seeds)}. Targets: accuracy above the majority "
        "rate and AUC >= 0.93 for every recipe; the best >= 0.945 (TF-IDF + logistic "
        "regression: 0.948).\n\n"
        + md_table(["recipe", "test AUC (mean)", "AUC (worst seed)", "accuracy (mean)",
                    "epochs", "seconds/run"], rows)
        + f"\n\nBest recipe: `{best}` at {results[best]['auc']:.3f} AUC."
    )
    write_section("Text recipes: quality", body, command="python -m bench.text_quality")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipes", default="flatten,lstm,bilstm,cnn,bag")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    run(tuple(args.recipes.split(",")), tuple(int(s) for s in args.seeds.split(",")))


if __name__ == "__main__":
    main()
