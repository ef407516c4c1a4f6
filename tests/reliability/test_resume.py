"""Checkpoints and --resume: a run killed with SIGKILL continues from its last finished
epoch and ends with the bundle an uninterrupted run writes (figures close, same kind)."""

import json
import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv

from embedlab.training.checkpoint import Checkpoint, checkpoint_path
from tests.conftest import make_reviews

EPOCHS = 6


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    texts, labels = make_reviews(2000, seed=5)
    path = root / "reviews.csv"
    csv.write_csv(pa.table({"review": texts, "score": labels}), path)
    return path


def _command(data, out, *extra):
    return [sys.executable, "-m", "embedlab", "train", "text", str(data), "--text", "review",
            "--label", "score", "--arch", "bag", "--epochs", str(EPOCHS), "--patience",
            str(EPOCHS), "--no-report", "-o", str(out), *extra]


def _run(command, umask=None):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                          preexec_fn=None if umask is None else lambda: os.umask(umask))


def _kill_during_epoch(command, epoch):
    """Start the run, SIGKILL it once Keras announces `epoch` (the one before is saved).
    Its output is a pipe, as under a job scheduler: the lines must come as they are made."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["KERAS_BACKEND"] = "jax"
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env)
    seen = []
    try:
        for line in run.stdout:
            seen.append(line)
            if line.startswith(f"Epoch {epoch}/{EPOCHS}"):
                os.kill(run.pid, signal.SIGKILL)
                break
    finally:
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


def _manifest(out):
    return json.loads((out / "manifest.json").read_text())


def test_a_run_killed_mid_training_resumes_from_its_last_epoch(data, tmp_path):
    whole = tmp_path / "whole"
    plain = _run(_command(data, whole), umask=0o022)
    assert plain.returncode == 0, plain.stderr
    # files and folders get the user's umask: 0755 and 0644 under 022
    assert stat.S_IMODE(whole.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in whole.rglob("*") if p.is_file()}
    assert modes and set(modes.values()) == {0o644}, modes

    out = tmp_path / "out"
    first = _kill_during_epoch(_command(data, out), 4)
    assert "Epoch 1/6" in first and not out.exists()
    assert (checkpoint_path(out) / "state.json").is_file()

    resumed = _run(_command(data, out, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    printed = resumed.stdout + resumed.stderr
    assert "Epoch 4/6" in printed and "Epoch 1/6" not in printed and "Epoch 3/6" not in printed

    a, b = _manifest(whole), _manifest(out)
    assert a["kind"] == b["kind"] and a["recipe"] == b["recipe"]
    assert [r["epoch"] for r in b["history"]["epochs"]] == list(range(1, EPOCHS + 1))
    losses_a = np.array([r["loss"] for r in a["history"]["epochs"]])
    losses_b = np.array([r["loss"] for r in b["history"]["epochs"]])
    np.testing.assert_allclose(losses_b[:3], losses_a[:3], rtol=1e-6)  # the epochs kept
    np.testing.assert_allclose(losses_b, losses_a, rtol=0.05)
    auc_a = a["metrics"]["validation"]["auc"]
    assert abs(b["metrics"]["validation"]["auc"] - auc_a) < 0.01
    # nothing is left beside the output but its lock
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    assert sorted(p.name for p in tmp_path.iterdir() if "out" in p.name) == ["out", "out.lock"]


def test_a_run_without_resume_discards_an_older_checkpoint(data, tmp_path):
    out = tmp_path / "out"
    Checkpoint(checkpoint_path(out), "an interrupted run").save(
        {"phase": 0}, {"model": [np.zeros(3, np.float32)]})
    again = _run(_command(data, out, "--epochs", "2"))
    assert again.returncode == 0, again.stderr
    assert "Epoch 1/2" in again.stdout + again.stderr
    assert not checkpoint_path(out).exists()


def test_resume_refuses_a_checkpoint_of_another_run(data, tmp_path):
    out = tmp_path / "out"
    Checkpoint(checkpoint_path(out), "another run").save(
        {"phase": 0}, {"model": [np.zeros(3, np.float32)]})
    result = _run(_command(data, out, "--resume", "--seed", "7"))
    assert result.returncode == 2
    assert "was written by a run with other options or other data" in result.stderr
    assert not out.exists()


def test_resume_without_a_checkpoint_starts_from_the_first_epoch(tmp_path, caplog):
    checkpoint = Checkpoint(tmp_path / ".out.checkpoint", "run", resume=True)
    assert checkpoint.load() is None
    assert "found no checkpoint" in caplog.text


def test_checkpoints_are_swapped_in_whole(tmp_path):
    checkpoint = Checkpoint(tmp_path / ".out.checkpoint", "run")
    for step in range(3):
        checkpoint.save({"phase": step}, {"model": [np.full(4, step, np.float32)]})
    checkpoint.resume = True
    loaded = checkpoint.load()
    assert loaded.state["phase"] == 2 and loaded.model[0].tolist() == [2.0] * 4
    assert [p.name for p in tmp_path.iterdir()] == [".out.checkpoint"]
