"""The explorer page's data (`embedlab.inspect.explore`) and `embedlab explore`: what the
page holds, that its neighbor lists are `most_similar`'s, the cache, and bad input.
What the page does in a browser is tested in test_explore_browser.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from embedlab.cli import app
from embedlab.errors import ConfigError
from embedlab.inspect.explore import MAX_POINTS, explorer_page, write_explorer
from embedlab.inspect.explore_layout import align, fit_square
from embedlab.inspect.explore_neighbors import page_neighbors
from embedlab.inspect.explore_page import page_data
from embedlab.inspect.maps import STOP_WORDS, label_order
from embedlab.inspect.report import write_report
from embedlab.inspect.tables import EmbeddingTable, load_table
from embedlab.vectors import WordVectors
from tests.inspect.bundles import text_bundle

runner = CliRunner()
XSS = "<img src=x onerror=alert(1)>"


def _matrix(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def _write_vectors(path, words, matrix) -> str:
    """A GloVe-style text file (no header)."""
    lines = [" ".join([w, *(repr(float(v)) for v in row)]) for w, row in zip(words, matrix,
                                                                          strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _data_block(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="explore-data">(.*?)</script>',
                      page, re.DOTALL)
    return json.loads(found.group(1))


def _decode(packed):
    import base64

    return np.frombuffer(base64.b64decode(packed["b64"]), dtype=np.dtype(packed["dtype"]))


def _most_similar_lists(vectors: WordVectors, keys: list[str], k: int, n: int):
    return [[w for w, _ in vectors.most_similar(key, topn=k, restrict_vocab=n)] for key in keys]


@pytest.fixture
def glove(tmp_path):
    """A 200-word vectors file whose words include markup and a very long one."""
    words = [f"w{i}" for i in range(200)]
    words[3], words[4] = XSS, "y" * 10_000
    words[5] = "</script><script>alert(2)</script>"
    return _write_vectors(tmp_path / "vecs.txt", words, _matrix(200)), words


# --------------------------------------------------------------------- the page's data
def test_page_holds_the_most_frequent_rows_and_most_similar_lists(tmp_path):
    n, k = 120, 7
    counts = np.random.default_rng(1).permutation(n) + 1
    vectors = WordVectors([f"k{i}" for i in range(n)], _matrix(n), counts=counts)
    table = EmbeddingTable("items", vectors, kind="recommender",
                           attributes={"share": np.linspace(0, 1, n)})
    page = explorer_page(table, points=50, k=k)
    order = np.argsort(-counts, kind="stable")[:50]
    assert page.keys == [f"k{i}" for i in order] and page.count == 50
    assert list(page.counts) == list(counts[order])
    # exactly most_similar of the page's vectors restricted to its points, in its order
    got = [[page.keys[j] for j in row] for row in page.neighbors]
    assert got == _most_similar_lists(page.vectors, page.keys, k, 50)
    data = page_data(page)
    assert data["count"] == 50 and data["total"] == n and data["k"] == k
    assert _decode(data["layouts"]["learned"]).shape == (100,)
    assert np.abs(page.layout).max() <= 1.0 + 1e-6 and np.isclose(np.abs(page.layout).max(), 1)
    assert data["columns"][0]["name"] == "share" and data["columns"][0]["kind"] == "continuous"
    assert data["color"] == "share"
    scores = _decode(data["scores"]).reshape(50, k) / 32767
    assert np.allclose(scores, page.scores, atol=1e-4)


def test_neighbors_equal_most_similar_for_a_vectors_file(glove):
    path, words = glove
    page = write_explorer(path, path.replace(".txt", ".html"), points=150, k=10)
    loaded = load_table(path).vectors
    got = [[page.keys[j] for j in row] for row in page.neighbors]
    assert page.keys == words[:150]
    assert got == _most_similar_lists(loaded, words[:150], 10, 150)


def test_the_batched_search_of_large_tables_gives_most_similar_lists_too():
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(3000, 12)).astype(np.float32)
    matrix[10] = matrix[11]  # an exact tie
    matrix[20] = matrix[21] * 3  # the same direction
    matrix[30] = 0  # a zero row
    matrix[40:46] = matrix[40] + 1e-7  # near-duplicates
    vectors = WordVectors([f"w{i}" for i in range(3000)], matrix)
    rows, scores, answered = page_neighbors(vectors, 3000, 10)
    keys = vectors.index_to_key
    got = [[keys[j] for j in row] for row in rows]
    assert got == _most_similar_lists(vectors, keys, 10, 3000)
    assert 0 < answered < 300  # the ties went to most_similar, the rest did not
    expected = [s for _, s in vectors.most_similar("w7", topn=10, restrict_vocab=3000)]
    assert np.allclose(scores[7], expected, atol=1e-5)


def test_rendered_page_is_one_file_whose_data_cannot_become_markup(glove, tmp_path):
    path, words = glove
    page = write_explorer(path, tmp_path / "page.html", points=100)
    text = page.output.read_text(encoding="utf-8")
    assert "<img" not in text and "alert(2)</script>" not in text  # escaped in the data
    outside = re.sub(r'(id="explore-data">).*?(</script>)', r"\1\2", text, flags=re.DOTALL)
    assert "http://" not in outside and "https://" not in outside and "src=" not in outside
    assert outside.count("<script") == 2  # the data block and the inline script
    assert 'id="explore-data"' in text and "window.explorer" in text
    data = _data_block(text)
    assert data["keys"][3] == XSS and data["keys"][4] == "y" * 10_000
    assert data["keys"] == words[:100]
    assert "{{" not in text.replace("{{data}}", "")  # every slot was filled


def test_labels_skip_stop_words_and_special_tokens():
    labels = ["the", "<unk>", "of", "coffee", "42", "[CLS]", "__label__x", "stale", "a",
              "tea", "''"]
    assert [labels[i] for i in label_order(labels, 10)] == ["coffee", "stale", "tea"]
    assert list(label_order(labels, 1)) == [3]
    assert {"the", "and", "n't"} <= STOP_WORDS
    numbers = ["1", "2", "3", "x4"]  # a table of numbers keeps its numbers
    assert list(label_order(numbers, 3)) == [0, 1, 2]


def test_before_and_after_layouts_are_aligned():
    rng = np.random.default_rng(2)
    fixed = rng.normal(size=(100, 2))
    turn = np.array([[0.6, -0.8], [0.8, 0.6]]) @ np.diag([1, -1])  # a rotation and a flip
    moving = 3 * fixed @ turn + [5, -2]
    assert np.allclose(align(moving, fixed), fixed, atol=1e-4)
    learned, initial = fit_square(fixed.astype(np.float32), fixed.astype(np.float32) * 2)
    assert np.isclose(np.abs(learned).max(), 1, atol=1e-6)
    scale = 2 / (fixed.max(axis=0) - fixed.min(axis=0)).max()  # both moved and scaled alike
    assert np.allclose(initial - learned, fixed * scale, atol=1e-5)


# --------------------------------------------------------------------- the cache
def test_the_cache_is_reused_and_a_damaged_file_recomputed(glove, tmp_path, cache_dir):
    path, _ = glove
    first = write_explorer(path, tmp_path / "a.html", points=120)
    assert first.cache == {"layout": "created", "neighbors": "created"}
    again = write_explorer(path, tmp_path / "b.html", points=120)
    assert again.cache == {"layout": "reused", "neighbors": "reused"}
    assert np.array_equal(first.layout, again.layout)
    assert np.array_equal(first.neighbors, again.neighbors)
    files = sorted(cache_dir.rglob("explore/*.npz"))
    assert len(files) == 2  # in the vectors' cache entry
    other_k = write_explorer(path, tmp_path / "c.html", points=120, k=5)
    assert other_k.cache == {"layout": "reused", "neighbors": "created"}
    layout = next(f for f in files if f.name.startswith("layout-"))
    layout.write_bytes(b"not a zip file")
    healed = write_explorer(path, tmp_path / "d.html", points=120)
    assert healed.cache["layout"].startswith("recomputed")
    assert np.array_equal(healed.layout, first.layout)
    off = write_explorer(path, tmp_path / "e.html", points=120, no_cache=True)
    assert off.cache == {"layout": "disabled", "neighbors": "disabled"}


# --------------------------------------------------------------------- bad input
def test_a_table_of_one_row_is_refused(tmp_path):
    path = _write_vectors(tmp_path / "one.txt", ["only"], _matrix(1))
    with pytest.raises(ConfigError, match="at least 3 entries"):
        write_explorer(path, tmp_path / "one.html")


def test_rows_with_nan_are_left_out_and_counted(tmp_path):
    matrix = _matrix(50)
    matrix[[2, 9]] = np.nan
    matrix[11, 0] = np.inf
    words = [f"w{i}" for i in range(50)]
    page = write_explorer(_write_vectors(tmp_path / "nan.txt", words, matrix),
                          tmp_path / "nan.html", points=100)
    assert page.left_out == 3 and page.count == 47
    assert not {"w2", "w9", "w11"} & set(page.keys)
    assert _data_block(page.output.read_text(encoding="utf-8"))["leftOut"] == 3
    # in a bundle's table the rows are dropped from the page, the table kept whole
    table = EmbeddingTable("words", WordVectors(words, matrix))
    page = explorer_page(table, points=40)
    assert page.left_out == 3 and page.count == 40 and "w2" not in page.keys
    got = [[page.keys[j] for j in row] for row in page.neighbors]
    assert got == _most_similar_lists(page.vectors, page.keys, 10, 40)


@pytest.mark.parametrize("points", [0, 2, -1, MAX_POINTS + 1])
def test_points_out_of_range_are_refused(glove, tmp_path, points):
    with pytest.raises(ConfigError, match="`points`.*from 3 to 100,000"):
        write_explorer(glove[0], tmp_path / "p.html", points=points)


def test_more_points_than_entries_shows_them_all(glove, tmp_path):
    page = write_explorer(glove[0], tmp_path / "all.html", points=5000)
    assert page.count == 200 and page.requested == 5000


def test_color_must_name_a_column_with_values(glove, tmp_path):
    path, words = glove
    items = tmp_path / "items.csv"
    rows = ["word,group,empty,score"] + [f"w{i},{'ab'[i % 2]},,{i / 10}" for i in range(200)]
    items.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page = write_explorer(path, tmp_path / "c.html", items=items, key="word")
    assert [c["name"] for c in page.columns] == ["group", "score"]  # the empty one left out
    assert page.color == "group"
    page = write_explorer(path, tmp_path / "c.html", items=items, key="word", color="score")
    assert page.color == "score"
    with pytest.raises(ConfigError, match="--color names an attribute.*'group', 'score'"):
        write_explorer(path, tmp_path / "c.html", items=items, key="word", color="genre")
    with pytest.raises(ConfigError, match="--color 'empty' holds no value"):
        write_explorer(path, tmp_path / "c.html", items=items, key="word", color="empty")


def test_output_must_be_html_and_options_checked(glove, tmp_path):
    with pytest.raises(ConfigError, match="ending in .html"):
        write_explorer(glove[0], tmp_path / "page.png")
    with pytest.raises(ConfigError, match="`method` must be one of pca, tsne, umap"):
        write_explorer(glove[0], tmp_path / "page.html", method="mds")
    with pytest.raises(ConfigError, match="`k`"):
        write_explorer(glove[0], tmp_path / "page.html", k=0)
    with pytest.raises(ConfigError, match="Drop --table"):
        write_explorer(glove[0], tmp_path / "page.html", table="items")


# --------------------------------------------------------------------- the command line
def _one_line_error(result, pattern: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, pattern", [
    (["--points", "0"], r"`points`.*Received: points=0"),
    (["--color", "genre"], r"--color names an attribute"),
    (["--method", "mds"], r"`method` must be one of"),
    (["--table", "users"], r"Drop --table"),
])
def test_cli_errors_are_one_line_and_exit_2(glove, tmp_path, args, pattern):
    result = runner.invoke(app, ["explore", glove[0], "-o", str(tmp_path / "x.html"), *args])
    _one_line_error(result, pattern)
    assert not (tmp_path / "x.html").exists()


def test_cli_color_errors_and_output_name(glove, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("word,empty\n" + "".join(f"w{i},\n" for i in range(200)),
                     encoding="utf-8")
    base = ["explore", glove[0], "--items", str(items), "--key", "word"]
    _one_line_error(runner.invoke(app, [*base, "-o", str(tmp_path / "x.html"), "--color",
                                        "empty"]), r"--color 'empty' holds no value")
    _one_line_error(runner.invoke(app, [*base, "-o", str(tmp_path / "x.png")]),
                    r"ending in \.html")


def test_tsne_layouts_and_a_missing_umap(glove, tmp_path):
    pytest.importorskip("sklearn")
    page = write_explorer(glove[0], tmp_path / "t.html", points=60, method="tsne")
    assert page.axes == ("t-SNE 1", "t-SNE 2") and np.isfinite(page.layout).all()
    try:
        import umap  # noqa: F401
    except ImportError:
        result = runner.invoke(app, ["explore", glove[0], "-o", str(tmp_path / "u.html"),
                                     "--method", "umap"])
        _one_line_error(result, r"umap-learn")


def test_cli_refuses_a_table_of_one_row(tmp_path):
    path = _write_vectors(tmp_path / "one.txt", ["only"], _matrix(1))
    _one_line_error(runner.invoke(app, ["explore", path, "-o", str(tmp_path / "o.html")]),
                    r"at least 3 entries")


def test_cli_writes_the_page_and_says_what_it_shows(glove, tmp_path):
    out = tmp_path / "page.html"
    result = runner.invoke(app, ["explore", glove[0], "-o", str(out), "--points", "500"])
    assert result.exit_code == 0, result.output
    assert "Wrote the explorer of all 200 vectors (PCA)" in result.output
    assert "--points 500 is more than the 200 entries" in result.output
    assert _data_block(out.read_text(encoding="utf-8"))["count"] == 200


# --------------------------------------------------------------------- a bundle
@pytest.fixture(scope="module")
def text(tmp_path_factory):
    return text_bundle(tmp_path_factory.mktemp("explore"))


def test_a_bundle_from_pretrained_vectors_gets_both_maps_and_the_report_links_it(text):
    report, _ = text
    bundle = report.output
    assert 'href="explore.html"' not in write_report(bundle).read_text(encoding="utf-8")
    result = runner.invoke(app, ["explore", str(bundle), "--points", "20"])
    assert result.exit_code == 0, result.output
    assert "with the map before training" in result.output
    page = write_explorer(bundle, points=20)
    assert page.output == bundle / "explore.html" and page.output.exists()
    assert page.kind == "text" and page.count == 20
    assert page.initial_layout is not None and page.initial_layout.shape == (20, 2)
    assert page.moved and page.moved[0][1] >= page.moved[-1][1] > 0
    assert (bundle / "explore_cache").is_dir()
    got = [[page.keys[j] for j in row] for row in page.neighbors]
    assert got == _most_similar_lists(page.vectors, page.keys, 10, 20)
    table = load_table(bundle)
    frequent = [table.vectors.index_to_key[i] for i in table.vectors.frequency_order()[:20]]
    assert page.keys == frequent
    linked = write_report(bundle).read_text(encoding="utf-8")
    assert 'href="explore.html"' in linked
    elsewhere = write_report(bundle, output=bundle.parent / "reports" / "r.html")
    assert f'href="../{bundle.name}/explore.html"' in elsewhere.read_text(encoding="utf-8")
