"""Distribution through keras.distribution: `--mesh` read and checked, the automatic
choice, and the equality of every model kind on 8 virtual CPU devices with its run on one.

The 8-device checks run `distribution_driver.py` in processes of their own (XLA_FLAGS must
be set before JAX starts), one per group, all started at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedlab.cli.app import app
from embedlab.errors import ConfigError
from embedlab.training.distribution import (
    MeshSpec,
    TableSize,
    choose,
    padded_rows,
    parse_mesh,
    plan,
    table_size,
)

DRIVER = Path(__file__).with_name("distribution_driver.py")
GROUPS = ("text", "tabular", "recommender", "errors")
MESHES = ("data=8", "model=8", "data=2,model=4")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{group: what its 8-device process printed}."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
           "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    started = {}
    for group in GROUPS:
        out = tmp_path_factory.mktemp(f"mesh_{group}")
        started[group] = subprocess.Popen([sys.executable, str(DRIVER), group, str(out)],
                                          env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True)
    found = {}
    for group, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{group}: {stderr[-3000:]}"
        found[group] = json.loads(stdout.strip().splitlines()[-1])
        assert found[group]["devices"] == 8
    return found


@pytest.mark.parametrize("group", ["text", "tabular", "recommender"])
def test_every_mesh_matches_one_device(runs, group):
    for mesh in MESHES:
        got = runs[group]["meshes"][mesh]
        assert got["epochs"] == 3, mesh
        assert got["loss"] <= TOLERANCE, (mesh, got["loss"])  # loss and val_loss, relative
        assert got["predictions"] <= TOLERANCE, mesh  # 13 rows: no data axis divides them
        assert got["three_rows"] <= TOLERANCE, mesh
        assert got["tables"] <= TOLERANCE, mesh
        assert got["table_shapes"] == got["base_shapes"], mesh  # the padding never shows


@pytest.mark.parametrize("group", ["text", "tabular", "recommender"])
def test_the_layout_is_recorded_and_tables_are_split_by_rows(runs, group):
    for mesh in MESHES:
        got = runs[group]["meshes"][mesh]
        sizes = {axis: int(n) for axis, n in (part.split("=") for part in mesh.split(","))}
        data, model = sizes.get("data", 1), sizes.get("model", 1)
        assert got["record"]["mesh"] == {"data": data, "model": model}
        assert got["record"]["processes"] == 1
        if model == 1:
            assert got["record"]["sharded"] == []
            continue
        assert got["record"]["sharded"], mesh
        for path in got["record"]["sharded"]:
            assert "bias" not in path and "embedding" in path
            rows, per_device = got["shards"][path]
            assert rows % model == 0 and per_device == [rows // model], (mesh, path)


def test_the_recommender_tables_train_row_sparsely_on_the_shards(runs):
    got = runs["recommender"]["meshes"]["data=2,model=4"]["record"]["sharded"]
    assert "user_embedding/accumulator" in got and "item_embedding/embeddings" in got
    assert not any("bias" in path for path in got)


def test_batches_that_divide_are_split_on_the_data_axis(runs):
    got = runs["errors"]["split"]
    assert got["data=8"]["64"] == ["P('data',)", [8]]
    assert got["data=2,model=4"]["64"] == ["P('data',)", [32]]
    for mesh in ("data=8", "data=2,model=4"):  # 13 rows: computed whole, no error
        assert got[mesh]["13"][1] == [13]


@pytest.mark.parametrize("group", ["text", "tabular", "recommender"])
def test_a_sharded_bundle_predicts_on_one_device(runs, group):
    for mesh in MESHES:
        got = runs[group]["meshes"][mesh]
        assert got["loaded_predictions"] <= TOLERANCE and got["loaded_tables"] <= TOLERANCE


def test_a_failed_predict_leaves_the_model_usable(runs):
    got = runs["recommender"]["usable_after_failure"]
    assert got["guarded"] <= TOLERANCE
    assert got["unguarded_emptied"] > 0  # without the guard, Keras leaves no values


def test_bad_meshes_are_one_line_errors(runs):
    got = runs["errors"]
    assert "uses 3 devices" in got["data=3"] and "8 devices there are" in got["data=3"]
    assert "only 8 exist" in got["data=16"] and "only 8 exist" in got["data=2,model=8"]
    assert "'batch' is unknown" in got["batch=8"]
    assert "twice" in got["data=8,data=1"]
    for spec in ("data=x", "data8", ""):
        assert "must be AXIS=N" in got[spec]
    assert ">= 1" in got["data=0,model=8"]
    assert "has 7 rows" in got["model axis > rows"]
    for message in got.values():
        if isinstance(message, str):
            assert "\n" not in message
    assert got["auto small"] == {"data": 8, "model": 1}
    assert got["auto big"] == {"data": 1, "model": 8}


def test_bad_meshes_exit_2_from_the_cli_writing_nothing(runs):
    for spec, result in runs["errors"]["cli"].items():
        assert result["exit"] == 2, spec
        assert result["output"].splitlines()[-1].startswith("error: --mesh"), spec
        # no bundle, no checkpoint; the lock file beside the output stays by design
        # (embedlab.locks) once a run got as far as reading its data
        assert all(name.endswith(".lock") for name in result["written"]), spec
        if spec != "model=8":
            assert result["written"] == [], spec


# ---------------------------------------------------------------- one device, in this process
def test_a_mesh_larger_than_this_machine_is_refused_before_anything_is_written(tmp_path):
    data = tmp_path / "reviews.csv"
    data.write_text("review,score\n" + "\n".join(
        f"{'great tea' if i % 2 else 'stale box'} {i},{i % 2}" for i in range(20)) + "\n")
    for spec in ("data=2", "model=2,data=1", "rows=1", "data=1,"):
        result = CliRunner().invoke(app, ["train", "text", str(data), "--text", "review",
                                          "--label", "score", "-o", str(tmp_path / "out"),
                                          "--mesh", spec])
        assert result.exit_code == 2, (spec, result.output)
        assert result.output.strip().splitlines()[-1].startswith("error: --mesh")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv"]


def test_parse_mesh():
    assert parse_mesh(None) is None
    assert parse_mesh("auto") == MeshSpec(auto=True)
    assert parse_mesh("data=1") == MeshSpec(1, 1)
    assert parse_mesh({"model": 1}) == MeshSpec(1, 1)
    with pytest.raises(ConfigError, match="only 1 exist"):
        parse_mesh({"data": 2})
    with pytest.raises(ConfigError, match="must be a string"):
        parse_mesh(8)


def test_the_memory_arithmetic_and_the_auto_rule():
    table = TableSize(1_000_000, 64)  # Adam: two slots
    assert table.bytes() == 1_000_000 * 64 * 4 * 3
    assert table.bytes(model=8) == table.bytes() / 8
    assert table_size(1000, 10, sparse=True).slots == pytest.approx(0.1)  # Adagrad per row
    fits = table.bytes() * 4
    assert choose(MeshSpec(auto=True), {"t": table}, devices=4, memory=fits) == MeshSpec(4, 1)
    assert choose(MeshSpec(auto=True), {"t": table}, devices=4,
                  memory=fits - 1) == MeshSpec(1, 4)
    assert choose(MeshSpec(2, 2), {"t": table}, devices=4, memory=1) == MeshSpec(2, 2)
    assert plan(MeshSpec(auto=True), {"t": table}) is None  # one device: no mesh


def test_padded_rows_follow_the_manifest():
    manifest = {"distribution": {"mesh": {"data": 2, "model": 4}, "processes": 1,
                                 "sharded": ["user_embedding/embeddings"]}}
    assert padded_rows(33, manifest, "user_embedding") == 36
    assert padded_rows(33, manifest, "user_bias") == 33
    assert padded_rows(33, {}, "user_embedding") == 33
