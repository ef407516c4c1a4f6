"""Errors that give the right advice: each names an option the command has, or the file
that is wrong, and ends with exit code 2."""

import logging

import numpy as np
import pyarrow as pa
from pyarrow import csv
from typer.testing import CliRunner

from embedlab.cli import app
from embedlab.models.recommender import Recommender
from embedlab.vectors import WordVectors
from tests.conftest import make_reviews

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _reviews(tmp_path):
    texts, labels = make_reviews(120, seed=2)
    path = tmp_path / "reviews.csv"
    csv.write_csv(pa.table({"review": texts, "score": labels}), path)
    return path


def test_a_vocabulary_size_past_int32_names_max_tokens(tmp_path):
    result = _invoke("train", "text", tmp_path / "absent.csv", "--text", "review", "--label",
                     "score", "-o", tmp_path / "out", "--max-tokens", 10**12)
    assert result.exit_code == 2
    assert "`max_tokens` must be at most 2,147,483,647" in result.output
    assert "ngram_buckets" not in result.output and not (tmp_path / "out").exists()


def test_train_text_takes_the_on_bad_line_it_advises(tmp_path):
    data = _reviews(tmp_path)
    words = ["great", "bad", "coffee", "the"]
    WordVectors(words, np.eye(4, 3, dtype=np.float32)).save(tmp_path / "v.txt")
    with open(tmp_path / "v.txt", "a") as handle:
        handle.write("broken 1 2\n")
    common = ["train", "text", data, "--text", "review", "--label", "score", "--arch",
              "bag", "--epochs", "1", "--no-report", "--vectors", tmp_path / "v.txt"]
    refused = _invoke(*common, "-o", tmp_path / "a")
    assert refused.exit_code == 2 and "--on-bad-line skip" in refused.output
    skipped = _invoke(*common, "-o", tmp_path / "b", "--on-bad-line", "skip")
    assert skipped.exit_code == 0, skipped.output


def test_a_rating_that_is_text_gets_the_recommenders_advice(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("u,i,r\n1,a,5\n2,b,oops\n3,a,4\n")
    result = _invoke("train", "recommender", path, "--user", "u", "--item", "i", "--rating",
                     "r", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "'oops'" in result.output and "--rating" in result.output
    assert "--categorical" not in result.output and "--missing-values" not in result.output


def test_a_folder_where_a_file_goes_and_the_reverse(tmp_path):
    vectors = WordVectors(["a", "b", "c"], np.eye(3, dtype=np.float32)).save(tmp_path / "v.txt")
    (tmp_path / "taken").write_text("a file\n")
    onto_file = _invoke("export", vectors, "-f", "npy", "-o", tmp_path / "taken")
    assert onto_file.exit_code == 2 and "is a file; expected a directory" in onto_file.output
    assert (tmp_path / "taken").read_text() == "a file\n"
    (tmp_path / "folder").mkdir()
    onto_folder = _invoke("vectors", "convert", vectors, "-f", "word2vec", "-o",
                          tmp_path / "folder")
    assert onto_folder.exit_code == 2
    assert "is a directory; expected the path of a file" in onto_folder.output
    assert "Traceback" not in onto_file.output + onto_folder.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_repeated_pairs_and_negative_ratings_are_counted(caplog):
    users = ["u1", "u1", "u2", "u2", "u3", "u3"] * 10
    items = ["a", "a", "b", "c", "a", "c"] * 10
    ratings = [-2.0, 1.0, 3.0, -1.0, 2.0, 0.5] * 10
    with caplog.at_level(logging.INFO):
        model = Recommender(epochs=1, dim=4).fit(users, items, ratings)
    assert model.data_summary["repeated_pairs"] > 0
    assert "ratings are negative" in caplog.text
