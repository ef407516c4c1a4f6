"""Hostile runs: options out of range, labels that are not numbers a model can fit, a loss
that diverges, two runs into one output, a run killed in the middle of a write.

Each ends in a one-line error with exit code 2, or in documented behaviour
(docs/reliability.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv
from typer.testing import CliRunner

from embedlab import atomic, locks
from embedlab.cli import app
from embedlab.errors import BundleError
from tests.conftest import make_reviews

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    texts, labels = make_reviews(160, seed=3)
    path = root / "reviews.csv"
    csv.write_csv(pa.table({"review": texts, "score": labels,
                            "stars": [float(i % 5) for i in range(len(texts))]}), path)
    return root, path


def _train(path, out, *extra):
    return _invoke("train", "text", path, "--text", "review", "--label", "score",
                   "--arch", "bag", "--epochs", "1", "-o", out, *extra)


@pytest.mark.parametrize("option, value, words", [
    ("--seed", "-1", "`seed` must be an integer from 0 to 4294967295"),
    ("--seed", str(2**32), "`seed` must be an integer from 0 to 4294967295"),
    ("--learning-rate", "inf", "`learning_rate` must be a positive finite number"),
    ("--learning-rate", "nan", "`learning_rate` must be a positive finite number"),
    ("--learning-rate", "0", "`learning_rate` must be a positive finite number"),
    ("--max-length", "0", "`max_length` must be an integer >= 1"),
])
def test_options_out_of_range_stop_before_any_data_is_read(reviews, tmp_path, option, value,
                                                          words):
    result = _invoke("train", "text", tmp_path / "absent.csv", "--text", "review", "--label",
                     "score", "-o", tmp_path / "out", option, value)
    assert result.exit_code == 2, result.output
    assert words in result.output and "does not exist" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_min_count_no_word_reaches_is_an_error(reviews, tmp_path):
    _, path = reviews
    result = _train(path, tmp_path / "out", "--min-count", "1000000000")
    assert result.exit_code == 2
    assert "the vocabulary holds only <pad> and <unk>" in result.output


def test_infinite_or_huge_regression_labels_are_refused(tmp_path):
    texts, _ = make_reviews(60, seed=4)
    for bad in (float("inf"), 1e300):
        path = tmp_path / "labels.parquet"
        scores = [float(i % 7) + 0.5 for i in range(len(texts))]
        scores[5] = bad
        pq.write_table(pa.table({"review": texts, "y": scores}), path)
        result = _invoke("train", "text", path, "--text", "review", "--label", "y",
                         "--epochs", "1", "-o", tmp_path / "out")
        assert result.exit_code == 2, result.output
        assert "regression labels must be finite numbers" in result.output
        assert "(row 5)" in result.output


def test_a_nested_label_column_is_refused(tmp_path):
    texts, labels = make_reviews(40, seed=5)
    path = tmp_path / "nested.jsonl"
    path.write_text("".join(json.dumps({"review": t, "score": [s]}) + "\n"
                            for t, s in zip(texts, labels, strict=True)))
    result = _invoke("train", "text", path, "--text", "review", "--label", "score",
                     "--epochs", "1", "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "a label must be one plain value" in result.output


def test_a_diverged_loss_stops_the_run_and_keeps_the_old_bundle(reviews, tmp_path):
    _, path = reviews
    out = tmp_path / "out"
    assert _train(path, out).exit_code == 0
    before = (out / "manifest.json").read_bytes()
    result = _invoke("train", "text", path, "--text", "review", "--label", "stars",
                     "--arch", "bag", "--epochs", "2", "-o", out, "--learning-rate", "1e38")
    assert result.exit_code == 2, result.output
    assert "training diverged" in result.output and "epoch 1" in result.output
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.lock"]


def test_a_run_at_chance_warns_and_still_saves(tmp_path, caplog):
    # every text the same: no model can tell the labels apart, the AUC is exactly 0.5
    path = tmp_path / "same.csv"
    csv.write_csv(pa.table({"review": ["the same words every time"] * 120,
                            "score": [i % 2 for i in range(120)]}), path)
    with caplog.at_level("WARNING"):
        result = _train(path, tmp_path / "out", "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "no better than chance" in caplog.text
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert any("no better than chance" in w for w in manifest["history"]["warnings"])


@pytest.mark.parametrize("task, y, outputs, warned", [
    ("binary", [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], True),
    ("binary", [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], False),
    ("multiclass", [0, 0, 0, 1], [[0.9, 0.1]] * 4, True),
    ("multiclass", [0, 0, 1, 1], [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]], False),
    ("regression", [1.0, 2.0, 3.0, 4.0], [2.5, 2.5, 2.5, 2.5], True),
    ("regression", [1.0, 2.0, 3.0, 4.0], [1.1, 2.0, 2.9, 4.2], False),
])
def test_chance_is_judged_against_the_simplest_answer(task, y, outputs, warned):
    from embedlab.training.trainer import chance_warning

    assert (chance_warning(task, np.array(y), np.array(outputs)) is not None) is warned


def test_the_report_is_in_the_bundle_when_it_appears(reviews, tmp_path, monkeypatch):
    _, path = reviews
    out = tmp_path / "out"
    seen = []
    commit = atomic.commit_directory

    def spy(tmp, target, **kw):
        if target == out:  # not the per-epoch checkpoints beside it
            seen.append(sorted(p.name for p in tmp.iterdir()))
        return commit(tmp, target, **kw)

    monkeypatch.setattr(atomic, "commit_directory", spy)
    assert _train(path, out).exit_code == 0
    assert len(seen) == 1 and "report.html" in seen[0] and "manifest.json" in seen[0]
    assert "embedlab report: " + str(out) in (out / "report.html").read_text()


def test_a_second_run_into_a_locked_output_fails_at_once_naming_the_holder(reviews, tmp_path):
    _, path = reviews
    out = tmp_path / "out"
    code = ("import sys, time; from embedlab import locks\n"
            "with locks.output_lock(sys.argv[1]):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = _train(path, out)
        assert result.exit_code == 2, result.output
        assert f"another embedlab run (PID {holder.pid}) is writing" in result.output
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder: the next run goes through
    assert _train(path, out).exit_code == 0


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with locks.output_lock(tmp_path / "out"), locks.output_lock(tmp_path / "out"):
        pass
    with locks.output_lock(tmp_path / "out"):
        pass


def test_an_unwritable_output_place_fails_before_training(reviews, tmp_path):
    _, path = reviews
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    if os.geteuid() == 0:  # root writes in any folder, not in /proc
        if not os.path.isdir("/proc/1"):
            pytest.skip("root writes anywhere and there is no /proc")
        parent = Path("/proc/1")
    try:
        result = _train(path, parent / "out")
        assert result.exit_code == 2
        assert "cannot write in" in result.output
        assert not (parent / "out").exists()
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_what_a_killed_run_left_beside_the_output_is_removed(reviews, tmp_path):
    _, path = reviews
    out = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / f".out.{dead}.abc.tmp").mkdir()                # a kill in the middle of a save
    (tmp_path / f".out.{dead}.def.tmp" / "x").mkdir(parents=True)
    (tmp_path / ".out.old-123456789").mkdir()                  # an older release's swap
    (tmp_path / f".report.html.{dead}.x.tmp").write_text("")   # not this output's: kept
    assert _train(path, out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".report.html.{dead}.x.tmp", "out", "out.lock"]


def test_a_live_writers_temporary_is_kept(tmp_path):
    mine = atomic.temporary_sibling(tmp_path / "entry")
    atomic.remove_stale(tmp_path / "entry", locked=True)
    assert mine.exists()


def test_locked_bundle_writes_name_the_problem(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match="is a file"):
        _write(tmp_path / "file")


def _write(path):
    from embedlab import artifacts

    artifacts.write_bundle(path, {"kind": "text"})
