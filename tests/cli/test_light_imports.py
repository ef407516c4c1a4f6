"""Commands that only read (help, vectors, inspect, map, export, report, similar) never
import Keras or JAX: they answer fast and work where no backend is installed. `--help`
imports neither numpy nor pyarrow (nor pandas), and `vectors info` on cached vectors reads
only the cache entry's meta.json. (pyarrow itself imports pandas, when it is installed, on
its first conversion of Python values; embedlab never imports it.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bundles_v1"
HEAVY = ("keras", "jax", "tensorflow", "torch")

_PROBE = """
import json, sys
from typer.testing import CliRunner
from embedlab.cli import app
results = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    results.append([args[0], result.exit_code, result.output[-400:]])
print(json.dumps({"results": results,
                  "loaded": sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)}))
"""


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("light")
    for kind in ("text", "tabular", "recommender"):
        shutil.copytree(FIXTURES / kind, root / kind)
    words = [f"w{i}" for i in range(40)]
    matrix = np.random.default_rng(0).normal(size=(40, 5))
    lines = [" ".join([w, *(f"{v:.5f}" for v in row)])
             for w, row in zip(words, matrix, strict=True)]
    (root / "vectors.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_reading_commands_import_no_keras_jax_or_pandas(bundles, tmp_path):
    text, tab, rec = (str(bundles / k) for k in ("text", "tabular", "recommender"))
    vectors = str(bundles / "vectors.txt")
    commands = [
        ["--help"],
        ["vectors", "info", vectors],
        ["vectors", "neighbors", vectors, "w1", "-k", "3"],
        ["inspect", text, "-k", "3"],
        ["map", text, "-o", str(tmp_path / "map.png")],
        ["export", tab, "--format", "word2vec", "-o", str(tmp_path / "color.vec")],
        ["report", text, "-o", str(tmp_path / "report.html")],
        ["similar", rec, "--item", "115", "-k", "2"],
    ]
    env_cache = {"EMBEDLAB_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(commands), json.dumps(HEAVY)],
        capture_output=True, text=True, env={**_env(), **env_cache}, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for name, code, output in found["results"]:
        assert code == 0, (name, output)
    assert found["loaded"] == []


def _env() -> dict:
    import os

    env = dict(os.environ)
    env.pop("KERAS_BACKEND", None)
    return env


def test_vectors_info_on_cached_vectors_reads_only_the_cache_entry(bundles, tmp_path):
    """The cached summary answers `vectors info` without numpy or pyarrow, with the
    figures a full load gives."""
    from typer.testing import CliRunner

    from embedlab.cli import app

    env = {**_env(), "EMBEDLAB_CACHE_DIR": str(tmp_path / "cache")}
    vectors = str(bundles / "vectors.txt")
    first = subprocess.run([sys.executable, "-m", "embedlab", "vectors", "info", vectors],
                           capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0 and "created" in first.stdout
    probe = ("import sys, runpy; sys.argv = ['embedlab', 'vectors', 'info', sys.argv[1]]\n"
             "try:\n    runpy.run_module('embedlab', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('LOADED', sorted(m for m in ('numpy', 'pyarrow') if m in sys.modules))")
    second = subprocess.run([sys.executable, "-c", probe, vectors], capture_output=True,
                            text=True, env=env, timeout=120)
    assert "reused" in second.stdout
    assert "LOADED []" in second.stdout
    full = CliRunner().invoke(app, ["vectors", "info", vectors, "--no-cache"])
    norms = [line for line in full.output.splitlines() if line.startswith("norms")]
    assert norms and norms[0] in second.stdout


def test_help_imports_no_numpy_pyarrow_or_pandas():
    probe = ("import sys, runpy; sys.argv = ['embedlab', '--help']\n"
             "try:\n    runpy.run_module('embedlab', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('LOADED', sorted(m for m in ('numpy', 'pyarrow', 'pandas', 'keras', 'rich')"
             " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert "Usage: embedlab" in done.stdout
    assert "LOADED []" in done.stdout
