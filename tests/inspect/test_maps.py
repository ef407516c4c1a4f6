import sys
import threading

import numpy as np
import pytest
from matplotlib.figure import Figure

from embedlab.errors import ConfigError, MissingDependencyError
from embedlab.inspect import maps
from embedlab.inspect.maps import (
    MAX_CATEGORIES,
    OTHER,
    UNKNOWN,
    classify_colors,
    embedding_map,
    plot_map,
    project,
    save_map,
)
from embedlab.inspect.plots import png_bytes
from embedlab.vectors import WordVectors


def _planted(n: int = 300, dim: int = 20, seed: int = 0):
    """Rows on a 2-D plane (spreads 3 and 1) turned into `dim` dimensions, plus faint noise."""
    rng = np.random.default_rng(seed)
    plane = rng.standard_normal((n, 2)) * [3.0, 1.0]
    basis, _ = np.linalg.qr(rng.standard_normal((dim, 2)))
    matrix = plane @ basis.T + 0.01 * rng.standard_normal((n, dim)) + 5.0
    return plane - plane.mean(axis=0), matrix.astype(np.float32)


@pytest.fixture
def table():
    """60 words whose counts put w59 first, w58 second...; rows hold the planted plane."""
    _, matrix = _planted(60)
    return WordVectors([f"w{i}" for i in range(60)], matrix, counts=np.arange(60) * 3 + 1)


def test_pca_recovers_a_planted_plane():
    plane, matrix = _planted()
    points = project(matrix)
    assert points.shape == (300, 2) and points.dtype == np.float32
    for axis in range(2):
        corr = np.corrcoef(points[:, axis], plane[:, axis])[0, 1]
        assert abs(corr) > 0.999
    m = embedding_map(WordVectors([f"w{i}" for i in range(300)], matrix), label_top=0)
    ratios = m.explained_variance
    assert ratios[0] > ratios[1] and ratios.sum() > 0.99
    assert abs(ratios[0] - 0.9) < 0.05  # variances 9 and 1


def test_pca_is_deterministic_and_independent_of_row_order():
    _, matrix = _planted(100)
    points = project(matrix)
    np.testing.assert_array_equal(points, project(matrix))
    np.testing.assert_allclose(project(matrix[::-1])[::-1], points, atol=1e-4)


def test_unknown_method_and_too_few_rows_are_config_errors():
    with pytest.raises(ConfigError, match="pca, tsne, umap"):
        project(np.ones((5, 3)), method="mds")
    with pytest.raises(ConfigError, match="3 rows or more"):
        project(np.ones((2, 3)))


def test_missing_optional_packages_say_what_to_install(monkeypatch):
    _, matrix = _planted(20)
    monkeypatch.setitem(sys.modules, "umap", None)  # makes `import umap` fail, as when absent
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[umap\]'"):
        project(matrix, method="umap")
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[tsne\]'"):
        project(matrix, method="tsne")


def test_tsne_maps_small_tables():
    _, matrix = _planted(12)
    points = project(matrix, method="tsne", seed=1)
    assert points.shape == (12, 2) and np.isfinite(points).all()


def test_map_takes_and_labels_the_most_frequent_rows(table):
    m = embedding_map(table, max_points=20, label_top=5)
    assert m.points.shape == (20, 2) and m.total == 60
    assert m.labels[:5] == ["w59", "w58", "w57", "w56", "w55"]
    assert list(m.labelled) == [0, 1, 2, 3, 4]
    assert list(m.rows) == list(range(59, 39, -1))
    assert list(m.counts[:2]) == [178, 175]
    np.testing.assert_array_equal(m.points, project(table.vectors[m.rows]))


def test_titles_become_labels(table):
    titles = [f"Title {i}" for i in range(60)]
    titles[59] = ""  # no title: the key is used
    m = embedding_map(table, max_points=10, label_top=3, titles=titles)
    assert m.labels[:3] == ["w59", "Title 58", "Title 57"]


def test_categorical_colours_with_unknown_and_other():
    kind, names, categories = classify_colors(["a", "b", None, "a", ""])
    assert kind == "categorical" and categories == ["a", "b", UNKNOWN]
    assert list(names) == ["a", "b", UNKNOWN, "a", UNKNOWN]
    many = [f"c{i}" for i in range(20)] + ["c0"] * 5
    kind, names, categories = classify_colors(many)
    assert len(categories) == MAX_CATEGORIES and categories[0] == "c0" and categories[-1] == OTHER
    assert kind == "categorical" and (names == OTHER).sum() == 20 - (MAX_CATEGORIES - 1)
    assert classify_colors(np.array([True, False, True]))[2] == ["false", "true"]
    assert classify_colors(np.array([3, 1, 2, 1]))[2] == ["1", "2", "3"]


def test_continuous_colours_for_floats_and_many_integers():
    kind, values, categories = classify_colors(np.array([0.5, np.nan, 0.25]))
    assert kind == "continuous" and categories == [] and np.isnan(values[1])
    assert classify_colors(np.arange(50))[0] == "continuous"
    assert classify_colors([1.0, None, 2.0])[0] == "continuous"


def test_tables_under_three_rows_cannot_be_mapped():
    with pytest.raises(ConfigError, match="at least 3 rows; the table holds 2"):
        embedding_map(WordVectors(["a", "b"], np.ones((2, 4))))


def test_colour_must_be_row_aligned(table):
    with pytest.raises(ConfigError, match="one value per row"):
        embedding_map(table, color=[1.0, 2.0])


def test_plot_a_categorical_map(table):
    genre = np.array(["drama", "drama", "comedy", None] * 15, dtype=object)
    m = embedding_map(table, color=genre, color_name="genre", label_top=10)
    assert m.color_kind == "categorical"
    assert m.categories == ["drama", "comedy", UNKNOWN]  # by frequency; unknown last
    fig = plot_map(m)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("PC 1 (") and "% of variance)" in ax.get_xlabel()
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "genre"
    assert [t.get_text() for t in legend.get_texts()] == ["drama", "comedy", UNKNOWN]
    labels = [t.get_text() for t in ax.texts]
    assert 0 < len(labels) <= 10 and labels[0] == "w59"  # the most frequent is never dropped
    assert set(labels) <= {f"w{i}" for i in range(50, 60)}


def test_plot_a_continuous_map_has_a_colorbar(table):
    share = np.linspace(0, 1, 60)
    share[0] = np.nan
    m = embedding_map(table, color=share, color_name="share", method="pca", label_top=0)
    fig = plot_map(m, title="mine")
    assert m.color_kind == "continuous"
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "share"
    assert fig.axes[0].get_title() == "mine" and not fig.axes[0].texts


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                          (".pdf", b"%PDF")])
def test_save_map_by_extension(table, tmp_path, suffix, magic):
    path = save_map(embedding_map(table, label_top=3), tmp_path / f"map{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"map{suffix}"]


def test_save_map_refuses_other_extensions_and_leaves_nothing_on_failure(table, tmp_path,
                                                                       monkeypatch):
    m = embedding_map(table, label_top=3)
    with pytest.raises(ConfigError, match=r"\.png, \.svg or \.pdf"):
        save_map(m, tmp_path / "map.jpg")

    class Broken:
        def savefig(self, path, **kwargs):
            with open(path, "wb") as handle:
                handle.write(b"half")
            raise OSError("disk full")

    monkeypatch.setattr(maps, "plot_map", lambda m, **kw: Broken())
    with pytest.raises(OSError, match="disk full"):
        save_map(m, tmp_path / "map.png")
    assert not list(tmp_path.iterdir())


def test_figure_png_bytes_and_plotting_in_a_thread(table):
    results = []

    def work():
        results.append(png_bytes(plot_map(embedding_map(table, label_top=5)), dpi=50))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results and results[0].startswith(b"\x89PNG")
