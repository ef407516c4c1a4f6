"""`embedlab vectors ...` through typer's CliRunner."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from embedlab.cli.app import app
from embedlab.vectors import WordVectors

runner = CliRunner()


@pytest.fixture
def vec_file(tmp_path):
    """Vectors where 'king' is nearest to 'queen' then 'prince', and man:king :: woman:queen."""
    rows = {
        "king": [1.0, 1.0, 0.0, 0.0],
        "queen": [1.0, 0.9, 0.3, 0.0],
        "prince": [0.9, 1.0, -0.2, 0.3],
        "man": [0.0, 1.0, -1.0, 0.0],
        "woman": [0.0, 0.9, 1.0, 0.0],
        "apple": [-1.0, 0.0, 0.0, 1.0],
    }
    path = tmp_path / "tiny.txt"
    WordVectors(list(rows), np.array(list(rows.values()), np.float32)).save(path)
    return path


def _run(*args):
    return runner.invoke(app, ["vectors", *map(str, args)])


def test_neighbors(vec_file):
    result = _run("neighbors", vec_file, "king", "-k", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout
    assert "queen" in lines and "prince" in lines and "apple" not in lines
    assert lines.index("queen") < lines.index("prince")


def test_analogy(vec_file):
    result = _run("analogy", vec_file, "man", "king", "woman", "--top-k", "1")
    assert result.exit_code == 0, result.output
    assert "queen" in result.stdout


def test_info_shows_format_size_and_cache(vec_file, cache_dir):
    result = _run("info", vec_file)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "glove" in out and "6" in out and "dimension" in out and "created" in out
    assert str(cache_dir) in out
    again = _run("info", vec_file, "--no-cache")
    assert "disabled" in again.stdout


def test_convert_round_trip(vec_file, tmp_path):
    target = tmp_path / "tiny.bin"
    result = _run("convert", vec_file, "--format", "word2vec-binary", "-o", target)
    assert result.exit_code == 0, result.output
    back = WordVectors.load(target)
    assert back.format == "word2vec-binary" and len(back) == 6


def test_evaluate(vec_file, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\nking\tapple\t1\nman\twoman\t8\nqueen\tapple\t0.5\n")
    questions = tmp_path / "q.txt"
    questions.write_text(": royals\nman king woman queen\nman king woman nope\n")
    result = _run("evaluate", vec_file, "--pairs", pairs, "--analogies", questions)
    assert result.exit_code == 0, result.output
    assert "spearman" in result.stdout and "accuracy" in result.stdout
    assert "50.0%" in result.stdout  # one analogy of two has an unknown word


def test_bad_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\nb 1 2\n")
    result = _run("info", bad)
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert "line 2 of" in message and "bad.txt" in message
    skipped = _run("info", bad, "--on-bad-line", "skip")
    assert skipped.exit_code == 0 and "skipped lines" in skipped.stdout


def test_missing_path_and_unknown_word(vec_file, tmp_path):
    result = _run("info", tmp_path / "nope.txt")
    assert result.exit_code == 2 and "No vectors file or folder" in result.output
    result = _run("neighbors", vec_file, "castle")
    assert result.exit_code == 2 and "'castle' is not in the vectors" in result.output
    result = _run("evaluate", vec_file)
    assert result.exit_code == 2 and "Nothing to evaluate" in result.output


@pytest.mark.parametrize("command", ["info", "convert", "neighbors", "analogy", "evaluate"])
def test_help_has_an_example(command):
    result = _run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.stdout
    assert f"  embedlab vectors {command} " in result.stdout
