"""Bundles damaged or forged by someone else: a clear one-line error with exit code 2 where
a command needs what is damaged, predictions as before where it does not, and no code run
whatever the files hold."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from embedlab.cli import app
from tests.inspect.bundles import recommender_bundle, text_bundle

runner = CliRunner()
TEXTS = ["great coffee, will buy again", "stale and bitter"]


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    text_bundle(root)
    recommender_bundle(root)
    return root


@pytest.fixture
def text(trained, tmp_path):
    copy = tmp_path / "text"
    shutil.copytree(trained / "text", copy)
    return copy


def _one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


def _edit_manifest(bundle, change):
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(change(manifest)))


def _without(key):
    def change(manifest):
        manifest.pop(key)
        return manifest
    return change


def _target(**values):
    def change(manifest):
        manifest["target"].update(values)
        return manifest
    return change


@pytest.mark.parametrize("change, words", [
    (lambda manifest: [manifest], ["must be a JSON object"]),
    (_without("recipe"), ["recipe"]),
    (_target(classes=5), ["classes"]),
    (_target(task="regression", std=None), ["std"]),
])
def test_a_malformed_manifest_is_refused(text, change, words):
    before = _invoke("predict", text, *TEXTS)
    assert before.exit_code == 0, before.output
    _edit_manifest(text, change)
    _one_line_error(_invoke("predict", text, *TEXTS), *words)


def test_a_vocabulary_longer_than_the_table_is_refused(text):
    vocabulary = text / "encoder" / "vocabulary.txt"
    lines = vocabulary.read_text(encoding="utf-8").splitlines()
    vocabulary.write_text("\n".join(lines + [f"extra{i}" for i in range(50)]) + "\n",
                          encoding="utf-8")
    _one_line_error(_invoke("predict", text, *TEXTS), "vocabulary")


def test_a_damaged_attributes_file_does_not_stop_predict(text):
    expected = _invoke("predict", text, *TEXTS).output
    data = (text / "attributes.npz").read_bytes()
    (text / "attributes.npz").write_bytes(data[: len(data) // 2])
    result = _invoke("predict", text, *TEXTS)
    assert result.exit_code == 0 and result.output == expected, result.output
    # inspect needs the attributes: it says what is damaged
    _one_line_error(_invoke("inspect", text), "attributes", "damaged")


class _Payload:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(MARKER[0]),))


MARKER = [""]


def test_a_pickled_initial_table_runs_no_code(text, tmp_path):
    MARKER[0] = str(tmp_path / "ran")
    expected = _invoke("predict", text, *TEXTS).output
    with open(text / "embedding_initial.npy", "wb") as handle:  # an object array, pickled
        np.save(handle, np.array([_Payload()], dtype=object), allow_pickle=True)
    result = _invoke("predict", text, *TEXTS)
    assert result.exit_code == 0 and result.output == expected, result.output
    report = _invoke("report", text, "-o", tmp_path / "r.html")
    _one_line_error(report, "embedding_initial.npy")
    assert not (tmp_path / "ran").exists()


def test_a_damaged_interactions_file_does_not_stop_predict(trained, tmp_path):
    rec = tmp_path / "rec"
    shutil.copytree(trained / "rec", rec)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\nu0,i0\nu1,i2\n")
    expected = _invoke("predict", rec, "--input", pairs)
    assert expected.exit_code == 0, expected.output
    data = (rec / "interactions.npz").read_bytes()
    (rec / "interactions.npz").write_bytes(data[:40])
    result = _invoke("predict", rec, "--input", pairs)
    assert result.exit_code == 0 and result.output == expected.output, result.output
    # recommending leaves out what each user has seen: it needs the file
    _one_line_error(_invoke("recommend", rec, "--user", "u0"), "interactions.npz")
