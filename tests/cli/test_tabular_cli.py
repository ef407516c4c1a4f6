import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv
from typer.testing import CliRunner

from embedlab.cli import app
from tests.models.test_recommender import make_ratings
from tests.models.test_tabular import make_table

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def tabular(tmp_path_factory):
    """A regression on the number `x` (the library tests cover the binary case)."""
    root = tmp_path_factory.mktemp("tabcli")
    table = make_table(320).drop_columns(["note"])
    x = [v if v == v else 0.0 for v in table["x"].to_pylist()]  # NaN -> 0.0
    x[:3] = [None] * 3
    data = root / "train.csv"
    csv.write_csv(table.set_column(table.column_names.index("x"), "x", pa.array(x)), data)
    test = root / "test.parquet"
    pq.write_table(make_table(80, seed=1).drop_columns(["note"]), test)
    out = root / "bundle"
    result = _invoke("train", "tabular", data, "--label", "x", "--categorical", "size",
                     "--embedding-size", "color=3", "--numeric-dim", "5", "--epochs", "3",
                     "--batch-size", "32",
                     "--validation-split", "0", "--test", test, "-o", out)
    assert result.exit_code == 0, result.output
    return root, out, result.output


def test_train_tabular_prints_column_types_rows_and_metrics(tabular):
    _, out, printed = tabular
    assert "task: regression" in printed
    assert "317 for training, 3 dropped (missing label)" in printed
    for line in ("color", "categorical", "text values", "--categorical", "boolean values",
                 "rmse"):
        assert line in printed, line
    assert "-> 3-d" in printed and (out / "categorical.json").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["numeric_dim"] == 5


def test_predict_and_similar_read_a_tabular_bundle(tabular, tmp_path):
    root, out, _ = tabular
    dest = tmp_path / "pred.csv"
    result = _invoke("predict", out, "--input", root / "test.parquet", "-o", dest)
    assert result.exit_code == 0, result.output
    table = csv.read_csv(dest)
    assert table.column_names[-1] == "predicted" and table.num_rows == 80
    result = _invoke("similar", out, "--column", "color", "--value", "red", "-k", "2")
    assert result.exit_code == 0, result.output
    assert "neighbor" in result.output and "cosine" in result.output


@pytest.fixture(scope="module")
def recommender(tmp_path_factory):
    root = tmp_path_factory.mktemp("reccli")
    data = root / "ratings.csv"
    csv.write_csv(make_ratings(seed=3), data)
    out = root / "bundle"
    result = _invoke("train", "recommender", data, "--user", "user", "--item", "item",
                     "--rating", "rating", "--time", "time", "--implicit", "--holdout", "last",
                     "--epochs", "4", "--batch-size", "64", "--dim", "8", "-o", out)
    assert result.exit_code == 0, result.output
    return root, out, result.output


def test_train_recommender_reports_ranking_beside_popularity(recommender):
    _, out, printed = recommender
    assert "mode: implicit (--implicit: ratings >= 4 are positives)" in printed
    assert "hit_rate@10" in printed and "most popular" in printed
    assert (out / "interactions.npz").exists()


def test_recommend_and_similar_on_the_command_line(recommender):
    _, out, _ = recommender
    result = _invoke("recommend", out, "--user", "3", "-k", "4")
    assert result.exit_code == 0, result.output
    assert "rank" in result.output and "score" in result.output
    assert "not seen in training" not in result.output
    result = _invoke("recommend", out, "--user", "nobody", "-k", "2")
    assert result.exit_code == 0, result.output
    assert "user 'nobody' was not seen in training; showing the 2 most popular" in result.output
    result = _invoke("similar", out, "--item", "101", "-k", "3")
    assert result.exit_code == 0 and "cosine" in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "tabular", "{data}", "--label", "lable"], "label column 'lable' is not in"),
        (["train", "tabular", "{data}", "--label", "x", "--numeric-dim", "0"],
         "`numeric_dim` must be an integer >= 1"),
        (["train", "tabular", "{data}", "--label", "x", "--numeric", "color"],
         "column 'color' is numeric but holds text"),
        (["train", "tabular", "{data}", "--label", "x", "--embedding-size", "color"],
         "--embedding-size takes COLUMN=NUMBER"),
        (["train", "recommender", "{ratings}", "--user", "user", "--item", "item",
          "--rating", "rating", "--holdout", "last"], "--holdout last is the implicit"),
        (["train", "recommender", "{ratings}", "--user", "user", "--item", "itm"],
         "column 'itm' is not in the data"),
        (["similar", "{bundle}", "--item", "101"], "a tabular bundle takes --column"),
        (["similar", "{recbundle}", "--item", "999"], "item '999' was not seen in training"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tabular, recommender, tmp_path, args, message):
    paths = {"data": tabular[0] / "train.csv", "bundle": tabular[1],
             "ratings": recommender[0] / "ratings.csv", "recbundle": recommender[1]}
    args = [a.format(**{k: str(v) for k, v in paths.items()}) for a in args]
    if args[0] == "train":
        args += ["-o", tmp_path / "never"]
    result = _invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "never").exists()


def test_help_has_examples():
    for cmd in (["train", "tabular"], ["train", "recommender"], ["recommend"], ["similar"]):
        result = _invoke(*cmd, "--help")
        assert result.exit_code == 0 and "Example" in result.output


def test_bundles_predict_identically_in_a_fresh_process(tabular, recommender):
    import json
    import subprocess
    import sys

    from embedlab import jobs

    cases = [(str(tabular[1]), str(tabular[0] / "test.parquet")),
             (str(recommender[1]), str(recommender[0] / "ratings.csv"))]
    here = [jobs.predict(b, input=f)["predicted"].to_pylist() for b, f in cases]
    code = (
        "import json; from embedlab import jobs; "
        "print(json.dumps([jobs.predict(b, input=f)['predicted'].to_pylist() "
        f"for b, f in {cases}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


def test_train_recommender_streams_a_directory_of_parquet_files(tmp_path):
    table = make_ratings()
    root = tmp_path / "ratings"
    (root / "month=1").mkdir(parents=True)
    (root / "month=2").mkdir()
    pq.write_table(table.slice(0, 300), root / "month=1" / "a.parquet")
    pq.write_table(table.slice(300), root / "month=2" / "b.parquet")
    result = _invoke("train", "recommender", root, "--user", "user", "--item", "item",
                     "--rating", "rating", "--epochs", "2", "--batch-size", "64",
                     "-o", tmp_path / "bundle", "--no-report")
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "streamed from 2 file(s)" in printed and "validation rows (by key hash)" in printed
    assert f"rows: {table.num_rows} for training" in printed
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _invoke("train", "recommender", empty, "--user", "user", "--item", "item",
                     "-o", tmp_path / "never")
    assert result.exit_code == 2 and "holds no Parquet files" in result.output
    assert [line for line in result.output.splitlines() if line.startswith("error")] == [
        result.output.strip().splitlines()[-1]]
    result = _invoke("train", "recommender", root, "--user", "user", "--item", "item",
                     "--rating", "rating", "--implicit", "--holdout", "last", "--stream",
                     "-o", tmp_path / "never")
    assert result.exit_code == 2 and "cannot stream" in result.output
    assert not (tmp_path / "never").exists()
