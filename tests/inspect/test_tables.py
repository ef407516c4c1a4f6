import numpy as np
import pyarrow as pa
import pytest
from pyarrow import csv
from typer.testing import CliRunner

from embedlab.cli import app
from embedlab.errors import ConfigError, DataError
from embedlab.inspect.lookup import neighbor_rows, probe_keys
from embedlab.inspect.tables import load_table, table_names, with_item_table
from embedlab.training.evaluation import regression_figures, summarize
from embedlab.training.label_stats import row_label_attribute
from embedlab.training.targets import Target
from tests.conftest import NEGATIVE, POSITIVE
from tests.inspect.bundles import recommender_bundle, tabular_bundle, text_bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    text, _ = text_bundle(root)
    rec, _ = recommender_bundle(root)
    tab, _ = tabular_bundle(root)
    return {"text": text.output, "rec": rec.output, "tab": tab.output, "root": root}


def test_text_table_has_labels_counts_attributes_and_rows_before_training(bundles):
    table = load_table(bundles["text"])
    words = table.vectors
    assert table.name == "words" and table.kind == "text"
    assert words.counts is not None and len(words.counts) == len(words)
    assert list(words.counts) == sorted(words.counts, reverse=True)  # vocabulary order
    share = table.attributes["share of 'other'"]  # 'other' sorts last: the positive class
    assert share.shape == (len(words),)
    neg = np.nanmean([share[words.get_index(w)] for w in NEGATIVE if w in words])
    pos = np.nanmean([share[words.get_index(w)] for w in POSITIVE if w in words])
    assert neg > 0.9 and pos < 0.1  # the words' reviews are what the labels say
    assert table.initial is not None and table.initial.index_to_key == words.index_to_key
    assert not np.allclose(table.initial.vectors, words.vectors)  # fine-tuned


def test_tabular_and_recommender_tables(bundles):
    assert table_names(bundles["tab"]) == ["color", "size"]
    color = load_table(bundles["tab"], "color")
    assert set(color.vectors.index_to_key) == {"red", "green", "blue", "grey"}
    mean = color.attributes["share of 'yes'"]
    assert mean[color.vectors.get_index("red")] > mean[color.vectors.get_index("grey")]
    assert table_names(bundles["rec"]) == ["items", "users"]
    items = load_table(bundles["rec"], "items")
    assert items.vectors.counts.sum() == 40 * 14
    assert np.nanmin(items.attributes["mean rating"]) >= 1
    with pytest.raises(ConfigError, match="has the tables"):
        load_table(bundles["rec"], "movies")


def test_item_titles_and_attributes_from_an_item_file(bundles, tmp_path):
    items = load_table(bundles["rec"], "items")
    path = tmp_path / "items.csv"
    ids = list(range(101, 131))
    csv.write_csv(pa.table({"movie_id": ids, "title": [f"Film {i}" for i in ids],
                            "half": ["first" if i < 116 else "second" for i in ids]}), path)
    titled = with_item_table(items, path, key="movie_id", title="title", attributes=["half"])
    assert titled.label("101") == "Film 101"
    assert titled.attributes["half"][items.vectors.get_index("130")] == "second"
    header, rows = neighbor_rows(titled, ["101"], k=3)
    assert header == ["entry", "after training"] and rows[0][0] == "Film 101"
    # items of the same taste are nearest: films 101-115 are the first half
    nearest = [int(cell.split(" (")[0].split()[1]) for cell in rows[0][1].split(", ")]
    assert all(n < 116 for n in nearest)
    with pytest.raises(DataError, match="matches the table's keys"):
        with_item_table(items, path, key="title")


def test_probe_keys_pick_telling_frequent_words(bundles):
    table = load_table(bundles["text"])
    keys = probe_keys(table, 4)
    assert len(keys) == 4
    assert set(keys[:2]) <= set(NEGATIVE) and set(keys[2:]) <= set(POSITIVE)


def test_inspect_command_shows_before_and_after_and_names_close_words(bundles):
    result = runner.invoke(app, ["inspect", str(bundles["text"]), "--words", "great", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert "before training" in result.output and "after training" in result.output
    result = runner.invoke(app, ["inspect", str(bundles["text"]), "--words", "grate"])
    assert result.exit_code == 2
    assert "'grate' is not in the table 'words'" in result.output and "great" in result.output
    result = runner.invoke(app, ["inspect", str(bundles["rec"]), "--title", "x"])
    assert result.exit_code == 2 and "--items" in result.output


def test_summarize_binary_and_multiclass():
    target = Target.infer(["a", "b", "b", "a", "b"])
    y = target.encode(["a", "b", "b", "a", "b"])
    s = summarize(target, y, np.array([0.1, 0.9, 0.4, 0.6, 0.8]), split="test")
    assert s["labels"] == ["a", "b"] and s["confusion"] == [[1, 1], [1, 2]]
    assert s["roc"]["fpr"][0] == 0 and s["roc"]["tpr"][-1] == 1
    assert np.all(np.diff(s["roc"]["fpr"]) >= 0) and np.all(np.diff(s["roc"]["tpr"]) >= 0)
    multi = Target.infer(["x", "y", "z", "x"])
    out = np.eye(3)[[0, 1, 1, 0]]
    s = summarize(multi, multi.encode(["x", "y", "z", "x"]), out, split="validation")
    assert s["confusion"] == [[2, 0, 0], [0, 1, 0], [0, 1, 0]]


def test_regression_figures_group_by_true_value():
    truth = np.array([1, 1, 2, 2, 2, 5.0])
    pred = np.array([1.5, 0.5, 2, 2, 3, 4.0])
    figures = regression_figures(truth, pred)
    assert [g["true"] for g in figures["by_true_value"]] == [1.0, 2.0, 5.0]
    assert figures["by_true_value"][0]["mean"] == pytest.approx(1.0)
    assert sum(figures["errors"]["histogram"]) == 6
    assert figures["rmse"] == pytest.approx(np.sqrt(np.mean((pred - truth) ** 2)))


def test_row_label_attribute_counts_each_example_once():
    target = Target.infer([0, 1, 1], task="binary")
    ids = np.array([[2, 2, 3], [3, 0, 0], [4, 3, 0]])  # id 2 twice in one negative example
    name, share = row_label_attribute(target, ids, target.encode([0, 1, 1]), 6)
    assert name == "share of 1"
    assert share[2] == 0.0 and share[3] == pytest.approx(2 / 3) and share[4] == 1.0
    assert np.isnan(share[5])
    labels = ["a", "b", "c", "c"]
    multi = Target.infer(labels)
    _, best = row_label_attribute(multi, np.array([1, 1, 2, 2]), multi.encode(labels), 4)
    assert best[1] == "a" and best[2] == "c" and best[3] == ""


def test_inspect_a_vectors_file_and_skip_its_bad_lines(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("king 1 0.1\nqueen 0.9 0.2\nbroken 1\nprince 0.95 0.1\napple -1 0.5\n")
    result = runner.invoke(app, ["inspect", str(path), "--words", "king", "-k", "2"])
    assert result.exit_code == 2 and "--on-bad-line skip" in result.output
    result = runner.invoke(app, ["inspect", str(path), "--words", "king", "-k", "2",
                                 "--on-bad-line", "skip"])
    assert result.exit_code == 0, result.output
    assert "nearest" in result.output and "after training" not in result.output
    assert "prince" in result.output and "apple" not in result.output
