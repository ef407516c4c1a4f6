import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv
from typer.testing import CliRunner

from embedlab import __version__
from embedlab.cli import app
from tests.conftest import make_reviews

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    texts, labels = make_reviews(240, seed=1)
    data = root / "reviews.csv"
    csv.write_csv(pa.table({"review": texts + [None, "no label"],
                            "score": labels + ["great", None]}), data)
    test = root / "test.jsonl"
    t2, l2 = make_reviews(60, seed=9)
    rows = (json.dumps({"review": a, "score": b}) + "\n" for a, b in zip(t2, l2, strict=True))
    test.write_text("".join(rows))
    out = root / "bundle"
    result = _invoke("train", "text", data, "--text", "review", "--label", "score",
                     "--arch", "bag", "--epochs", "6", "--test", test, "-o", out)
    assert result.exit_code == 0, result.output
    return root, out, result.output


def test_train_reports_task_rows_vocabulary_length_and_metrics(bundle):
    _, out, printed = bundle
    assert "task: binary (the label has 2 distinct values; positive class 'other')" in printed
    assert "240 for training, 2 dropped" in printed
    assert "vocabulary:" in printed and "length:" in printed
    assert "auc" in printed and (out / "manifest.json").exists()


def test_predict_texts_and_files(bundle, tmp_path):
    root, out, _ = bundle
    result = _invoke("predict", out, "delicious fresh tea", "stale bitter refund")
    assert result.exit_code == 0, result.output
    assert "predicted" in result.output and "probability" in result.output
    src = tmp_path / "new.csv"
    csv.write_csv(pa.table({"review": ["love it", "gross"], "id": [7, 8]}), src)
    dest = tmp_path / "pred.parquet"
    result = _invoke("predict", out, "--input", src, "-o", dest)
    assert result.exit_code == 0, result.output
    table = pq.read_table(dest)
    assert table.column_names == ["review", "id", "predicted", "probability"]
    assert table["id"].to_pylist() == [7, 8]


def test_version_and_help():
    assert _invoke("--version").output.strip() == f"embedlab {__version__}"
    for cmd in (["train", "text"], ["predict"], ["demo"]):
        result = _invoke(*cmd, "--help")
        assert result.exit_code == 0 and "Example" in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["--text", "reveiw", "--label", "score"], "column 'reveiw' is not in the data"),
        (["--text", "review", "--label", "score", "--positive", "good"], "--positive 'good'"),
        (["--text", "review", "--label", "score", "--arch", "rnn"], "`arch` must be one of"),
        (["--text", "review", "--label", "score", "--freeze"], "pre-trained vectors"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(bundle, tmp_path, args, message):
    root, _, _ = bundle
    out = tmp_path / "never"
    result = _invoke("train", "text", root / "reviews.csv", *args, "-o", out)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # "reading ..." and the error
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bad_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    one = tmp_path / "one.csv"
    one.write_text("review,score\ngood,x\nbad,x\n")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("review,score\ncaf\xe9,a\nok,b\n".encode("latin-1"))
    cases = [(tmp_path / "missing.csv", "does not exist"), (empty, "is empty"),
             (one, "one class"), (latin, "not valid UTF-8")]
    for path, message in cases:
        result = _invoke("train", "text", path, "--text", "review", "--label", "score",
                         "-o", tmp_path / "out")
        assert result.exit_code == 2 and message in result.output, (path, result.output)


def test_bad_bundle(tmp_path):
    result = _invoke("predict", tmp_path, "hello")
    assert result.exit_code == 2 and "manifest.json is missing" in result.output


def test_quiet_prints_results_only(bundle):
    _, out, _ = bundle
    result = _invoke("--quiet", "predict", out, "fresh tasty tea")
    assert result.exit_code == 0 and "predicted" in result.output
    loud = _invoke("predict", out, "fresh tasty tea", "-o", out.parent / "p.csv")
    quiet = _invoke("-q", "predict", out, "fresh tasty tea", "-o", out.parent / "q.csv")
    assert "written" in loud.output and quiet.output.strip() == ""


def test_python_dash_m_runs_the_same_app():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "embedlab", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == f"embedlab {__version__}"


def test_output_that_is_not_a_bundle_is_never_replaced(bundle, tmp_path):
    root, _, _ = bundle
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = _invoke("train", "text", root / "reviews.csv", "--text", "review", "--label",
                     "score", "--arch", "bag", "--epochs", "1", "-o", precious)
    assert result.exit_code == 2 and "not an embedlab bundle" in result.output
    assert (precious / "notes.txt").read_text() == "keep me"
