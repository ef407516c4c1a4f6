import numpy as np
import pyarrow as pa
import pytest
from gensim.models import KeyedVectors
from pyarrow import csv
from typer.testing import CliRunner

from embedlab.cli import app
from embedlab.inspect.tables import load_table
from tests.conftest import make_reviews

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A tiny text bundle (one epoch: the tables only need to exist)."""
    root = tmp_path_factory.mktemp("export")
    texts, labels = make_reviews(120, seed=3)
    data = root / "reviews.csv"
    csv.write_csv(pa.table({"review": texts, "score": labels}), data)
    out = root / "bundle"
    result = _invoke("train", "text", data, "--text", "review", "--label", "score",
                     "--arch", "bag", "--epochs", "1", "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def words(bundle):
    return load_table(bundle).vectors


@pytest.fixture
def glove(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "small.txt"
    names = ["the", "of", "king", "queen", "man", "woman"]
    path.write_text("".join(
        w + " " + " ".join(f"{v:.6g}" for v in rng.standard_normal(5)) + "\n" for w in names))
    return path


def _one_line_error(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_export_a_bundle_table_that_gensim_reads(bundle, words, tmp_path):
    target = tmp_path / "words.vec"
    result = _invoke("export", bundle, "--format", "word2vec", "-o", target, "--top-k", "5")
    assert result.exit_code == 0, result.output
    assert "the 5 most frequent of" in result.output and str(target) in result.output
    kv = KeyedVectors.load_word2vec_format(target)
    order = words.frequency_order()[:5]
    assert kv.index_to_key == [words.index_to_key[i] for i in order]
    np.testing.assert_array_equal(kv.vectors, words.vectors[order])


def test_export_a_projector_folder_with_counts_and_attributes(bundle, words, tmp_path):
    target = tmp_path / "projector"
    result = _invoke("export", bundle, "--format", "projector", "-o", target)
    assert result.exit_code == 0, result.output
    attributes = list(load_table(bundle).attributes)
    lines = (target / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["label", "count", *attributes]
    assert len(lines) == len(words) + 1
    assert len((target / "vectors.tsv").read_text().splitlines()) == len(words)
    first = lines[1].split("\t")
    top = int(words.frequency_order()[0])
    assert first[:2] == [words.index_to_key[top], str(words.counts[top])]


def test_top_k_larger_than_the_table_exports_everything(glove, tmp_path):
    target = tmp_path / "all.txt"
    result = _invoke("export", glove, "--format", "glove", "-o", target, "--top-k", "100")
    assert result.exit_code == 0, result.output
    assert "more than the 6 entries" in result.output and "all 6 vectors" in result.output
    assert len(KeyedVectors.load_word2vec_format(target, no_header=True)) == 6


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "csv"], "`format` must be one of word2vec, word2vec-binary, glove, npy"),
        (["--format", "glove", "--table", "items"], "has the tables ['words']"),
        (["--format", "glove", "--top-k", "0"], "--top-k must be 1 or more"),
    ],
)
def test_export_bad_input_is_one_line_exit_2_and_nothing_written(bundle, tmp_path, args,
                                                                 message):
    result = _invoke("export", bundle, "-o", tmp_path / "out", *args)
    _one_line_error(result, message)
    assert not list(tmp_path.iterdir())


def test_map_of_a_bundle_is_coloured_by_its_first_attribute(bundle, tmp_path):
    target = tmp_path / "words.png"
    result = _invoke("map", bundle, "-o", target, "--points", "20", "--labels", "5")
    assert result.exit_code == 0, result.output
    first = next(iter(load_table(bundle).attributes))
    assert f"coloured by {first}" in result.output and "5 labelled" in result.output
    assert target.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--color", "genre"], "--color names an attribute of the table 'words'; it has: "),
        (["--method", "mds"], "--method must be one of pca, tsne, umap"),
    ],
)
def test_map_bad_input_is_one_line_exit_2(bundle, tmp_path, args, message):
    result = _invoke("map", bundle, "-o", tmp_path / "map.png", *args)
    _one_line_error(result, message)
    assert not list(tmp_path.iterdir())


def test_map_of_a_vectors_file(glove, tmp_path):
    result = _invoke("map", glove, "-o", tmp_path / "map.jpg")
    _one_line_error(result, "--output must end in .png, .svg or .pdf")
    result = _invoke("map", glove, "-o", tmp_path / "map.svg", "--color", "genre")
    _one_line_error(result, "it has: none")
    result = _invoke("map", glove, "-o", tmp_path / "map.svg")
    assert result.exit_code == 0 and "all 6 vectors" in result.output, result.output
    assert (tmp_path / "map.svg").exists()


def test_vectors_convert_uses_the_same_export(glove, tmp_path):
    target = tmp_path / "two.bin"
    result = _invoke("vectors", "convert", glove, "--format", "word2vec-binary", "-o", target,
                     "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert KeyedVectors.load_word2vec_format(target, binary=True).index_to_key == ["the", "of"]
    result = _invoke("vectors", "convert", glove, "--format", "projector", "-o", tmp_path / "p")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "metadata.tsv").read_text().split() == [
        "the", "of", "king", "queen", "man", "woman"]


def test_help_has_examples():
    for command in ("export", "map"):
        result = _invoke(command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output
        assert "  embedlab " in result.output
