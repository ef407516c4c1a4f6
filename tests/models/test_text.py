import json
import subprocess
import sys

import numpy as np
import pytest

from embedlab.errors import BundleError, ConfigError, LabelError
from embedlab.models.text import TextClassifier
from tests.conftest import make_reviews


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    texts, labels = make_reviews(300, seed=2)
    clf = TextClassifier(arch="bag", epochs=8, seed=0, validation_split=0.2, patience=3)
    clf.fit(texts, labels)
    path = clf.save(tmp_path_factory.mktemp("b") / "bundle")
    return clf, path


def test_learns_the_sentiment_words(trained):
    clf, _ = trained
    texts, labels = make_reviews(200, seed=3)
    m = clf.evaluate(texts, labels)
    majority = max(labels.count("great"), labels.count("other")) / len(labels)
    assert m["accuracy"] > majority + 0.1 and m["auc"] > 0.9
    assert clf.target.task == "binary" and clf.target.positive == "other"  # larger in sort order


def test_prediction_columns(trained):
    clf, _ = trained
    cols = clf.prediction_columns(["love this delicious tea", "stale and bitter, refund"])
    assert cols["predicted"] == ["great", "other"]
    assert cols["probability"][0] < 0.5 < cols["probability"][1]  # of the positive, 'other'


def test_bundle_round_trip_in_a_fresh_process(trained):
    clf, path = trained
    texts, _ = make_reviews(20, seed=4)
    here = clf.predict_raw(texts).reshape(-1).tolist()
    code = (
        "import json, sys; from embedlab.models.text import TextClassifier; "
        f"clf = TextClassifier.load({str(path)!r}); "
        "texts = json.loads(sys.stdin.read()); "
        "print(json.dumps(clf.predict_raw(texts).reshape(-1).tolist()))"
    )
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts),
                          capture_output=True, text=True, check=True)
    there = json.loads(done.stdout.strip().splitlines()[-1])
    assert there == here  # identical, not merely close


def test_manifest_holds_what_later_tools_need(trained):
    _, path = trained
    manifest = json.loads((path / "manifest.json").read_text())
    for key in ("embedlab_version", "format_version", "task", "target", "settings", "metrics",
                "history", "token_counts", "recipe", "encoder"):
        assert key in manifest, key
    assert manifest["target"]["positive"] == "other"
    assert len(manifest["token_counts"]) == len(
        (path / "encoder" / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    )


def test_newer_or_incomplete_bundle_is_refused(trained, tmp_path):
    import shutil

    _, path = trained
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format version 99.*Upgrade embedlab"):
        TextClassifier.load(copy)
    shutil.rmtree(copy)
    shutil.copytree(path, copy)
    (copy / "model.keras").unlink()
    with pytest.raises(BundleError, match="model.keras is missing"):
        TextClassifier.load(copy)


def test_multiclass_and_regression_tasks():
    texts, labels = make_reviews(120, seed=5)
    stars = [5 if y == "great" else 1 for y in labels]
    stars = [s if i % 3 else 3 for i, s in enumerate(stars)]
    clf = TextClassifier(arch="bag", epochs=2, validation_split=0.0).fit(texts, stars)
    assert clf.target.task == "multiclass" and clf.target.classes == [1, 3, 5]
    assert clf.predict_proba(texts[:3]).shape == (3, 3)
    assert set(clf.evaluate(texts, stars)) >= {"accuracy", "macro_f1"}
    reg = TextClassifier(arch="bag", epochs=2, task="regression", validation_split=0.0)
    reg.fit(texts, [float(s) + 0.5 for s in stars])
    m = reg.evaluate(texts, [float(s) + 0.5 for s in stars])
    assert m["rmse"] > 0 and np.isfinite(m["mae"])
    with pytest.raises(ConfigError, match="classifier"):
        reg.predict_proba(texts[:2])


def test_bad_arguments_fail_at_the_door():
    with pytest.raises(ConfigError, match="arch"):
        TextClassifier(arch="gpt")
    with pytest.raises(ConfigError, match="unknown"):
        TextClassifier(arch="bag", filters=3)
    with pytest.raises(ConfigError, match="pre-trained vectors"):
        TextClassifier(freeze=True)
    with pytest.raises(LabelError, match="one class"):
        TextClassifier(arch="bag").fit(["a", "b"], ["x", "x"])
    with pytest.raises(ConfigError, match="not trained"):
        TextClassifier().predict(["x"])


def test_a_bundle_of_another_kind_is_named(trained, tmp_path):
    import shutil

    _, path = trained
    copy = tmp_path / "other"
    shutil.copytree(path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["kind"] = "tabular"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="holds a 'tabular' model, not a 'text' one"):
        TextClassifier.load(copy)
