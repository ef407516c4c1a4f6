"""Random vs GloVe-initialised embeddings on the women's reviews split.

The `cnn` and `bilstm` recipes, each with a random table, GloVe 6B 50d frozen, GloVe
fine-tuned from the start, and GloVe frozen for 2 epochs then fine-tuned at a tenth of the
learning rate; test AUC, mean of 3 seeds. The dimension is 50 throughout, so the random
tables are the same size as the GloVe ones.

    python -m bench.text_vectors [--recipes cnn,bilstm] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench._report import md_table, write_section

TEXT, LABEL = "Review Text", "Recommended IND"
MODES = {
    "random": {},
    "GloVe frozen": {"freeze": True},
    "GloVe fine-tuned": {},
    "GloVe frozen 2 epochs, then fine-tuned": {"freeze_epochs": 2},
}


def run(recipes=("cnn", "bilstm"), seeds=(0, 1, 2)) -> dict:
    from embedlab.data.datasets import split_by_permutation, womens_reviews
    from embedlab.models.text import TextClassifier
    from embedlab.vectors import WordVectors

    glove = WordVectors.load("glove-6b-50d")
    train, test = split_by_permutation(womens_reviews(), seed=0)
    results: dict = {}
    coverage = None
    for arch in recipes:
        for mode, options in MODES.items():
            aucs, secs = [], []
            for seed in seeds:
                start = time.perf_counter()
                vectors = None if mode == "random" else glove
                dim = 50 if vectors is None else None
                clf = TextClassifier(arch=arch, dim=dim, vectors=vectors, seed=seed, **options)
                clf.fit(train[TEXT], train[LABEL])
                aucs.append(clf.evaluate(test[TEXT], test[LABEL])["auc"])
                secs.append(time.perf_counter() - start)
                coverage = clf.coverage or coverage
                print(f"{arch} / {mode} / seed {seed}: auc {aucs[-1]:.4f} "
                      f"({secs[-1]:.0f} s)", flush=True)
            results[(arch, mode)] = (float(np.mean(aucs)), float(np.min(aucs)),
                                     float(np.mean(secs)))
            _write(results, seeds, coverage)  # after each row, so a cut-short run keeps them
    return {f"{a} / {m}": v for (a, m), v in results.items()}


def _write(results: dict, seeds, coverage) -> None:
    rows = [[arch, mode, auc, worst, f"{sec:.0f}"]
            for (arch, mode), (auc, worst, sec) in results.items()]
    best_random = max((v[0] for (a, m), v in results.items() if m == "random"), default=0.0)
    best_glove = max((v[0] for (a, m), v in results.items() if m != "random"), default=0.0)
    body = (
        f"Women's reviews split (label Recommended IND), dimension 50, mean test AUC over seeds "
        f"{list(seeds)}. Target: the best GloVe-initialised run at least as good as the best "
        "random-initialised one.\n\n"
        + (f"Coverage of the vocabulary by GloVe 6B 50d: {coverage.words_found:,} of "
           f"{coverage.words_total:,} words ({coverage.words_share:.1%}), "
           f"{coverage.tokens_share:.1%} of training tokens.\n\n"
           if coverage is not None else "")
        + md_table(["recipe", "embedding", "test AUC (mean)", "AUC (worst seed)", "seconds/run"],
                   rows)
        + f"\n\nBest GloVe-initialised: {best_glove:.3f}; best random: {best_random:.3f}."
    )
    write_section("Text recipes: pre-trained vectors", body, command="python -m bench.text_vectors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipes", default="cnn,bilstm")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    run(tuple(args.recipes.split(",")), tuple(int(s) for s in args.seeds.split(",")))


if __name__ == "__main__":
    main()
