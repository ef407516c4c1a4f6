"""Many processes: 2 processes on localhost with 4 virtual CPU devices each train as one
process with 8 does; only process 0 writes; a dead process or an unreachable coordinator
stops the run with an error, never a hang.

Every run is `multihost_driver.py` in processes of its own (XLA_FLAGS must be set before JAX
starts), all started at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

DRIVER = Path(__file__).with_name("multihost_driver.py")
MESHES = ("data=8", "data=2,model=4")
TOLERANCE = 1e-4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(devices: int) -> dict:
    return {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
            "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}


def start(*args, devices: int = 4) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DRIVER), *map(str, args)],
                            env=environment(devices), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def result(process: subprocess.Popen, timeout: float = 120) -> tuple[int, dict | None, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    lines = stdout.strip().splitlines()
    return process.returncode, json.loads(lines[-1]) if lines else None, stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("multihost")
    subprocess.run([sys.executable, str(DRIVER), "data", str(root / "ratings.csv")],
                   env=environment(1), check=True)
    for name in ("one", "two", "die", "unreachable", "out_of_range", "cli0", "cli1"):
        (root / name).mkdir()
    port, dead_port, silent_port = free_port(), free_port(), free_port()
    cli_port = free_port()
    joined = ["--mesh", "data=2,model=4", "--coordinator", f"127.0.0.1:{cli_port}",
              "--num-processes", 2, "--process-id"]
    began = time.monotonic()
    started = {
        "one": start("train", 0, 1, 0, root / "one", devices=8),
        "two0": start("train", 0, 2, port, root / "two"),
        "two1": start("train", 1, 2, port, root / "two"),
        "die0": start("die", 0, 2, dead_port, root / "die"),
        "die1": start("die", 1, 2, dead_port, root / "die"),
        "unreachable": start("cli", root / "unreachable", "--", "--coordinator",
                             f"127.0.0.1:{silent_port}", "--num-processes", 2,
                             "--process-id", 1, "--coordinator-timeout", 5, devices=1),
        "out_of_range": start("cli", root / "out_of_range", "--", "--coordinator",
                              f"127.0.0.1:{silent_port}", "--num-processes", 2,
                              "--process-id", 2, devices=1),
        "cli0": start("cli", root / "cli0", "--", *joined, 0),
        "cli1": start("cli", root / "cli1", "--", *joined, 1),
    }
    found = {}
    for name, process in started.items():
        found[name] = result(process)
        found[name + "_seconds"] = time.monotonic() - began
    found["root"] = root
    return found


def relative(a, b) -> float:
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def test_two_processes_of_4_devices_train_as_one_of_8(runs):
    code, one, stderr = runs["one"]
    assert code == 0, stderr[-3000:]
    assert (one["processes"], one["devices"]) == (1, 8)
    for name in ("two0", "two1"):
        code, got, stderr = runs[name]
        assert code == 0, stderr[-3000:]
        assert (got["processes"], got["devices"], got["local_devices"]) == (2, 8, 4)
        for mesh in MESHES:
            assert len(got["meshes"][mesh]["losses"]) == 3  # epochs, each loss and val_loss
            assert relative(got["meshes"][mesh]["losses"],
                            one["meshes"][mesh]["losses"]) <= TOLERANCE, (name, mesh)
            assert got["meshes"][mesh]["record"]["processes"] == 2
    sharded = runs["two0"][1]["meshes"]["data=2,model=4"]["record"]
    assert sharded["mesh"] == {"data": 2, "model": 4}
    assert "user_embedding/embeddings" in sharded["sharded"]


def test_only_process_0_writes_the_bundle(runs):
    root = runs["root"]
    first, second = runs["two0"][1], runs["two1"][1]
    for mesh in MESHES:
        bundle = root / "two" / mesh.replace(",", "_").replace("=", "")
        assert first["meshes"][mesh]["output"] == str(bundle)
        assert second["meshes"][mesh]["output"] is None
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["distribution"]["processes"] == 2
    assert first["writes"], "the audit hook saw process 0 write nothing"
    assert second["writes"] == []  # process 1 never touched the output's folder
    assert not [p.name for p in (root / "two").iterdir() if "checkpoint" in p.name]


def test_a_dead_process_stops_the_others_within_60_s(runs):
    code, _, stderr = runs["die0"]
    assert code != 0
    assert "stopped sending heartbeats" in stderr or "unhealthy" in stderr, stderr[-2000:]
    assert runs["die1"][0] == 3
    assert runs["die0_seconds"] < 60
    # no bundle and no checkpoint; the lock file beside the output stays by design
    # (embedlab.locks), as after any run that stopped once it had claimed its output
    left = sorted(p.name for p in (runs["root"] / "die").iterdir())
    assert all(name.endswith(".lock") for name in left), left


@pytest.mark.parametrize("name, expected", [
    ("unreachable", "could not reach the coordinator at 127.0.0.1:"),
    ("out_of_range", "--process-id must be from 0 to --num-processes - 1 (1). Received 2."),
])
def test_bad_processes_exit_2_writing_nothing(runs, name, expected):
    code, got, stderr = runs[name]
    assert code == 0, stderr[-3000:]
    assert got["exit"] == 2, got["output"]
    last = got["output"].splitlines()[-1]
    assert last.startswith("error: ") and expected in last
    assert got["written"] == []
    assert got["seconds"] < 60


def test_the_command_line_trains_over_two_processes_and_process_0_saves(runs):
    # the validation predict at the end needs the outputs whole on every process
    for name, written in (("cli0", ["bundle", "bundle.lock"]), ("cli1", [])):
        code, got, stderr = runs[name]
        assert code == 0, stderr[-3000:]
        assert got["exit"] == 0, got["output"][-3000:]
        assert got["written"] == written, (name, got["written"])
    assert "process 0 writes the bundle" in runs["cli1"][1]["output"]
