"""2-D maps of an embedding table: PCA, t-SNE or UMAP, coloured by an attribute.

The figures are drawn on `matplotlib.figure.Figure` with the Agg canvas, never through
pyplot's global state, so they work headless and in threads.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedlab.atomic import atomic_file
from embedlab.errors import ConfigError, MissingDependencyError, VectorsError
from embedlab.inspect.formats import IMAGE_FORMATS, METHOD_NAMES, METHODS
from embedlab.inspect.plots import new_figure
from embedlab.vectors.wordvectors import WordVectors

"""The projection methods: PCA (numpy), t-SNE (scikit-learn), UMAP (umap-learn)."""

MAX_CATEGORIES = 9  # colours of tab10 without its grey; more values share "other"
UNKNOWN = "unknown"
OTHER = "other"

_UNKNOWN_COLOR = "#c8c8c8"
_OTHER_COLOR = "#555555"
_PLAIN_COLOR = "#1f77b4"
_LABEL_CHARS = 28
_LABEL_STYLE = {"xytext": (3, 2), "textcoords": "offset points", "fontsize": 7, "in_layout": False}
_HALO = 2.0  # a white outline keeps labels readable over the points


def project(matrix: np.ndarray, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Project rows to two dimensions.

    Example:

    >>> points = project(wv.vectors[:500], method="pca")   # (500, 2)

    Args:
        matrix: Float array (rows, dim). The vectors; at least 3 rows, all finite.
        method: String. "pca" (default; deterministic), "tsne" (needs scikit-learn) or
            "umap" (needs umap-learn).
        seed: Integer. Random seed of t-SNE and UMAP.

    Returns:
        A float array (rows, 2).
    """
    return _project(matrix, method=method, seed=seed)[0]


def _project(matrix: np.ndarray, *, method: str, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    if method not in METHODS:
        raise ConfigError(
            f"`method` must be one of {', '.join(METHODS)}. Received: method={method!r}."
        )
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] < 3:
        raise ConfigError(f"A 2-D map needs 3 rows or more. Received: shape={matrix.shape}.")
    if not np.isfinite(matrix).all():
        raise VectorsError(
            f"A map needs finite values, but {int((~np.isfinite(matrix).all(axis=1)).sum())} "
            f"rows hold NaN or infinity. Fix or drop those rows first."
        )
    if method == "pca":
        return _pca(matrix)
    n = matrix.shape[0]
    try:
        if method == "tsne":
            from sklearn.manifold import TSNE
        else:
            import umap
    except ImportError as exc:
        package = {"tsne": "scikit-learn", "umap": "umap-learn"}[method]
        raise MissingDependencyError(
            f"{METHOD_NAMES[method]} maps need the package {package!r}, which is not "
            f"installed. Run: pip install 'embedlab[{method}]' (or use method='pca')."
        ) from exc
    if method == "tsne":  # perplexity must stay below the number of rows
        perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
        model = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    else:
        model = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=seed)
    return np.asarray(model.fit_transform(matrix), dtype=np.float32), None


def _pca(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components, each signed so its largest loading is positive."""
    centred = matrix.astype(np.float64) - matrix.mean(axis=0, dtype=np.float64)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(2, vt.shape[0])
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    points = np.zeros((matrix.shape[0], 2))
    points[:, :k] = centred @ components.T
    total = float((s**2).sum())
    ratios = np.zeros(2)
    if total > 0:
        ratios[:k] = s[:k] ** 2 / total
    return points.astype(np.float32), ratios


@dataclass
class EmbeddingMap:
    """The 2-D points of an embedding table's most frequent rows, ready to plot.

    Args:
        points: Float array (n, 2). The projected rows, most frequent first.
        labels: List of strings. The label of each point (its title when there is one).
        rows: Integer array (n,). The row of each point in the WordVectors.
        counts: Optional integer array (n,). Training frequencies, when known.
        labelled: Integer array. Indices of the points to write labels next to.
        method: String. One of `METHODS`.
        explained_variance: Optional float array (2,). Share of variance per axis (PCA).
        total: Integer. How many rows the table holds in all.
        color_name: Optional string. What the colours show.
        color_kind: Optional string. "continuous", "categorical" or None (one colour).
        color_values: Optional array (n,). Floats (NaN for unknown) or category names.
        categories: List of strings. The legend's categories, in order.
    """

    points: np.ndarray
    labels: list[str]
    rows: np.ndarray
    counts: np.ndarray | None
    labelled: np.ndarray
    method: str
    explained_variance: np.ndarray | None = None
    total: int = 0
    color_name: str | None = None
    color_kind: str | None = None
    color_values: np.ndarray | None = None
    categories: list[str] = field(default_factory=list)

    def axis_titles(self) -> tuple[str, str]:
        """("PC 1 (12% of variance)", ...) for PCA; ("t-SNE 1", "t-SNE 2") otherwise."""
        if self.method == "pca" and self.explained_variance is not None:
            first, second = (f"({_percent(r)} of variance)" for r in self.explained_variance)
            return f"PC 1 {first}", f"PC 2 {second}"
        name = METHOD_NAMES[self.method]
        return f"{name} 1", f"{name} 2"


def embedding_map(
    vectors: WordVectors,
    *,
    method: str = "pca",
    max_points: int = 2000,
    label_top: int = 30,
    color: np.ndarray | Sequence | None = None,
    color_name: str | None = None,
    titles: Sequence[str] | None = None,
    seed: int = 0,
) -> EmbeddingMap:
    """Project the `max_points` most frequent rows of a table to 2-D.

    Example:

    >>> m = embedding_map(table.vectors, color=table.attributes["genre"], color_name="genre")
    >>> save_map(m, "map.png")

    Args:
        vectors: WordVectors. The table; `frequency_order()` picks the rows.
        method: String. One of `METHODS`.
        max_points: Integer. How many of the most frequent rows to map (at least 3).
        label_top: Integer. How many points get a text label: the most frequent of those
            whose labels tell something (see `label_order`).
        color: Optional sequence, one value per row of `vectors`. Numbers give a continuous
            colormap; strings, booleans and integers with few values give categories.
            None and NaN are shown grey, as "unknown".
        color_name: Optional string. What `color` holds, for the colorbar or legend.
        titles: Optional sequence of strings, one per row. Labels to show instead of keys.
        seed: Integer. Random seed of t-SNE and UMAP.
    """
    for name, value, low in (("max_points", max_points, 3), ("label_top", label_top, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}.")
    if len(vectors) < 3:
        raise ConfigError(
            f"A 2-D map needs at least 3 rows; the table holds {len(vectors)}. Map a larger table."
        )
    rows = vectors.frequency_order()[:max_points]
    points, ratios = _project(np.asarray(vectors.vectors)[rows], method=method, seed=seed)
    labels = [vectors.index_to_key[i] for i in rows]
    if titles is not None:
        _check_aligned("titles", titles, len(vectors))
        labels = [str(titles[i]) if titles[i] else key for i, key in zip(rows, labels, strict=True)]
    counts = None if vectors.counts is None else vectors.counts[rows]
    labelled = label_order(labels, label_top)
    result = EmbeddingMap(points, labels, rows, counts, labelled, method, ratios, len(vectors))
    if color is not None:
        _check_aligned("color", color, len(vectors))
        values = _as_array(color)[rows]
        kind, shown, categories = classify_colors(values)
        result.color_kind, result.color_values, result.categories = kind, shown, categories
        result.color_name = color_name or "colour"
    return result


# Words too common to tell anything on a map: English function words and contractions.
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
's 're 've 'll 'd 'm n't s t don't can't won't isn't it's i'm
""".split())


def label_order(labels: Sequence[str], limit: int) -> np.ndarray:
    """Indices of the points worth a text label, in the order to place them: the first
    `limit` of `labels` (most frequent first) that tell something: not a stop word, not a
    special token such as `<unk>`, holding a letter or a digit, and not a bare number when
    most labels are words. The static map and the explorer page both label from this order,
    skipping a label that would overlap one placed before it."""
    head = labels[:1000]
    wordy = 2 * sum(any(c.isalpha() for c in label) for label in head) > len(head)
    chosen: list[int] = []
    for index, label in enumerate(labels):
        if len(chosen) >= limit:
            break
        text = label.strip()
        if not text or text.lower() in STOP_WORDS or _special(text):
            continue
        letters = any(c.isalpha() for c in text)
        if letters or (not wordy and any(c.isdigit() for c in text)):
            chosen.append(index)
    return np.array(chosen, dtype=np.int64)


def _special(text: str) -> bool:
    """A vocabulary's own token: `<unk>`, `<pad>`, `[CLS]`, `__label__x`."""
    short = len(text) <= 12
    return (short and text[0] + text[-1] in ("<>", "[]")) or text.startswith("__")


def classify_colors(values: np.ndarray | Sequence) -> tuple[str, np.ndarray, list[str]]:
    """How to colour values: ("continuous", floats with NaN for unknown, []), or
    ("categorical", one category name per value, the legend's categories in order).

    Floats, and integers with many distinct values, are continuous; strings, booleans and
    integers with at most `MAX_CATEGORIES` values are categories (beyond that many, the
    rarest share "other"). None and NaN are "unknown".
    """
    values = _as_array(values)
    missing = np.array([_is_missing(v) for v in values], dtype=bool)
    present = [v.item() if isinstance(v, np.generic) else v for v in values[~missing]]
    numeric = bool(present) and all(_is_number(v) for v in present)
    integers = numeric and all(isinstance(v, int) for v in present)
    if numeric and (not integers or len(set(present)) > MAX_CATEGORIES):
        numbers = np.full(len(values), np.nan)
        numbers[~missing] = np.asarray(present, dtype=np.float64)
        return "continuous", numbers, []
    names = np.array(
        [UNKNOWN if m else _name(v) for v, m in zip(values, missing, strict=True)], dtype=object
    )
    if integers:
        categories = [_name(v) for v in sorted(set(present))]
    elif present and all(isinstance(v, bool) for v in present):
        categories = sorted(set(names[~missing].tolist()))
    else:
        categories = [name for name, _ in Counter(names[~missing].tolist()).most_common()]
    if len(categories) > MAX_CATEGORIES:
        keep = set(categories[: MAX_CATEGORIES - 1])
        names = np.array([n if n in keep or n == UNKNOWN else OTHER for n in names], dtype=object)
        categories = categories[: MAX_CATEGORIES - 1] + [OTHER]
    if missing.any():
        categories.append(UNKNOWN)
    return "categorical", names, categories


def plot_map(m: EmbeddingMap, *, ax=None, title: str | None = None):
    """Draw a map: coloured points, labels on the most frequent, axis titles, legend.

    Args:
        m: EmbeddingMap. What `embedding_map` returned.
        ax: Optional matplotlib Axes to draw on; a new Agg figure when None.
        title: Optional string. The figure's title; a description of the map when None.

    Returns:
        The matplotlib Figure.
    """
    if ax is None:
        ax = new_figure(8.5, 6.5).add_subplot()
    fig = ax.figure
    size = float(np.clip(600 / math.sqrt(len(m.points)), 4, 40))
    style = {"s": size, "linewidths": 0, "alpha": 0.85}
    x, y = m.points[:, 0], m.points[:, 1]
    if m.color_kind == "continuous":
        values = np.asarray(m.color_values, dtype=np.float64)
        known = np.isfinite(values)
        if (~known).any():
            ax.scatter(x[~known], y[~known], color=_UNKNOWN_COLOR, label=UNKNOWN, **style)
            ax.legend(loc="lower left", fontsize=8, framealpha=0.7)
        if known.any():
            drawn = ax.scatter(x[known], y[known], c=values[known], **_continuous(values[known]),
                               **style)
            fig.colorbar(drawn, ax=ax, label=m.color_name, shrink=0.8)
    elif m.color_kind == "categorical":
        for category, colour in zip(m.categories, _palette(m.categories), strict=True):
            chosen = np.asarray(m.color_values == category)
            ax.scatter(x[chosen], y[chosen], color=colour, label=category, **style)
        legend = {"fontsize": 8, "title_fontsize": 9, "markerscale": max(1.0, 20 / size)}
        ax.legend(title=m.color_name, loc="upper left", bbox_to_anchor=(1.01, 1.0), **legend)
    else:
        ax.scatter(x, y, color=_PLAIN_COLOR, **style)
    ax.margins(0.06)  # room for the labels of points at the edges
    xlabel, ylabel = m.axis_titles()
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if m.method != "pca":  # t-SNE and UMAP coordinates mean nothing on their own
        ax.set(xticks=[], yticks=[])
    ax.set_title(title if title is not None else _default_title(m), fontsize=11)
    _place_labels(ax, m)
    return fig


def _continuous(values: np.ndarray) -> dict:
    """A diverging scale centred on the median, so points that lean either way from the
    typical value (a word's share of positive reviews) stand out; one colour ramp when
    the values do not spread on both sides."""
    from matplotlib.colors import TwoSlopeNorm

    low, centre, high = (float(v) for v in np.quantile(values, [0.0, 0.5, 1.0]))
    if low < centre < high:
        return {"cmap": "coolwarm", "norm": TwoSlopeNorm(vmin=low, vcenter=centre, vmax=high)}
    return {"cmap": "viridis"}


def save_map(m: EmbeddingMap, path: str | os.PathLike, *, dpi: int = 150, **kwargs) -> Path:
    """Plot `m` and write it atomically as PNG, SVG or PDF (by the file's extension).

    Args:
        m: EmbeddingMap. The map.
        path: String or path. The image to write: .png, .svg or .pdf.
        dpi: Integer. Resolution of a PNG.
        **kwargs: Passed to `plot_map` (title=...).
    """
    path = Path(path).expanduser()
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS:
        raise ConfigError(
            f"The map's file name must end in .png, .svg or .pdf. Received: {str(path)!r}. "
            f"Pick one of those extensions."
        )
    fig = plot_map(m, **kwargs)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return path


def _place_labels(ax, m: EmbeddingMap) -> None:
    """Label the most frequent points first; skip a label that would overlap one placed."""
    from matplotlib import patheffects

    if not len(m.labelled):
        return
    fig = ax.figure
    renderer = None
    if hasattr(fig.canvas, "get_renderer"):
        fig.canvas.draw()  # lays the figure out, so label extents are where they will be
        renderer = fig.canvas.get_renderer()
    placed = []
    for index in m.labelled:
        label = ax.annotate(_short(m.labels[index]), m.points[index], **_LABEL_STYLE)
        label.set_path_effects([patheffects.withStroke(linewidth=_HALO, foreground="white")])
        if renderer is None:
            continue
        box = label.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(box.overlaps(other) for other in placed):
            label.remove()
        else:
            placed.append(box)


def _palette(categories: list[str]) -> list:
    from matplotlib import colormaps

    tab10 = [c for i, c in enumerate(colormaps["tab10"].colors) if i != 7]  # no grey
    fixed = {UNKNOWN: _UNKNOWN_COLOR, OTHER: _OTHER_COLOR}
    named = iter(tab10 * (1 + len(categories) // len(tab10)))
    return [fixed[c] if c in fixed else next(named) for c in categories]


def _default_title(m: EmbeddingMap) -> str:
    n, name = len(m.points), METHOD_NAMES[m.method]
    shown = f"the {n:,} most frequent of {m.total:,}" if n < m.total else f"all {n:,}"
    return f"{name} map of {shown} entries"


def _percent(ratio: float) -> str:
    value = 100 * float(ratio)
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _check_aligned(name: str, values: Sequence, rows: int) -> None:
    if len(values) != rows:
        raise ConfigError(
            f"`{name}` must hold one value per row of the table ({rows} rows). "
            f"Received: {len(values)} values."
        )


def _as_array(values: np.ndarray | Sequence) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pylist()
    return np.asarray(list(values), dtype=object)


def _is_missing(value: object) -> bool:
    """None, NaN and "" (how tables store a missing string) are unknown."""
    if value is None or (isinstance(value, str) and not value):
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _is_number(value: object) -> bool:
    numbers, flags = (int, float, np.integer, np.floating), (bool, np.bool_)
    return isinstance(value, numbers) and not isinstance(value, flags)


def _name(value: object) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
