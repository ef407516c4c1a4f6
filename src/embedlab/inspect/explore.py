"""The explorer page: one self-contained HTML file to walk an embedding space in a browser.

    write_explorer("runs/reviews")                        # runs/reviews/explore.html
    write_explorer("glove-6b-50d", "glove.html", points=100_000)
    embedlab explore runs/movies --table items --items movies.csv --key movie_id --title title

A WebGL scatter of the table's most frequent entries (PCA by default; t-SNE or UMAP with
their extras), with search, a tooltip, colours by attribute, labels, and for each point its
nearest entries by cosine in the full dimension among the page's points: exactly
``page.vectors.most_similar(key, topn=k, restrict_vocab=page.count)`` (see
`explore_neighbors`). A text bundle started from pre-trained vectors also gets its map
before training, aligned with the learned one, and the entries that moved most.

Layouts and neighbor lists are cached beside the bundle (`BUNDLE/explore_cache/`) or in
the vectors' cache entry (`ENTRY/explore/`, else `cache_root()/explore/`), so drawing the
page again is quick.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedlab import atomic
from embedlab.data.readers import read_table
from embedlab.errors import ConfigError
from embedlab.inspect.explore_layout import ExploreCache, align, fit_square, moved_most, page_layout
from embedlab.inspect.explore_neighbors import page_neighbors
from embedlab.inspect.explore_page import color_column, render_page
from embedlab.inspect.formats import METHOD_NAMES, METHODS
from embedlab.inspect.maps import label_order
from embedlab.inspect.tables import (
    EmbeddingTable,
    is_bundle,
    load_table,
    table_names,
    with_item_table,
)
from embedlab.vectors.cache import cache_root
from embedlab.vectors.hnsw import matrix_hash
from embedlab.vectors.wordvectors import WordVectors

log = logging.getLogger(__name__)

EXPLORE_PAGE = "explore.html"  # the page of a bundle's first table, in the bundle
CACHE_FOLDER = "explore_cache"  # in a bundle: cached layouts and neighbor lists
DEFAULT_POINTS = 20_000
MAX_POINTS = 100_000
MIN_POINTS = 3
MAX_K = 100
LABEL_CANDIDATES = 3000  # labels the page may place, most telling first
MOVED = 30  # entries listed as those that moved most in training


@dataclass
class ExplorerPage:
    """Everything an explorer page shows, row-aligned with `keys` (most frequent first).

    Attributes:
        name: String. The table (`words`, `items`, `vectors`...).
        source: String. The bundle or vectors it came from.
        kind: String. The bundle kind, or `vectors`.
        vectors: WordVectors. Its first `count` rows are the page's points:
            ``vectors.most_similar(key, topn=k, restrict_vocab=count)`` is what a click shows.
        keys: List of strings. The points' keys.
        titles: Optional list of strings. Display labels (the key where a title is empty).
        counts: Optional integer array. Training frequencies.
        layout: Float array (count, 2). The learned map, within [-1, 1].
        initial_layout: Optional float array (count, 2). The map before training, aligned.
        moved: List of (point, 1 - cosine before/after): those that moved most.
        neighbors: Integer array (count, k). Each point's nearest points (-1: none).
        scores: Float array (count, k). Their cosines.
        columns: List of dicts. The attributes to colour by (see `explore_page.color_column`).
        color: Optional string. The column coloured by when the page opens.
        labels: Integer array. Points to label, in the order to place them (`label_order`).
        method: String. One of `METHODS`.
        axes: Pair of strings. The axis titles.
        total: Integer. Rows of the table.
        left_out: Integer. Rows left out for NaN or infinite values.
        requested: Integer. The points asked for (more than `count` when the table is small).
        answered: Integer. Points whose neighbors `most_similar` gave directly.
        cache: Dict. What the cache did for the layout and for the neighbors.
        output: Optional path. Where the page was written.
    """

    name: str
    source: str
    kind: str
    vectors: WordVectors
    keys: list[str]
    titles: list[str] | None
    counts: np.ndarray | None
    layout: np.ndarray
    initial_layout: np.ndarray | None
    moved: list[tuple[int, float]]
    neighbors: np.ndarray
    scores: np.ndarray
    columns: list[dict]
    color: str | None
    labels: np.ndarray
    method: str
    axes: tuple[str, str]
    total: int
    left_out: int = 0
    requested: int = 0
    answered: int = 0
    cache: dict[str, str] = field(default_factory=dict)
    output: Path | None = None

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def k(self) -> int:
        return int(self.neighbors.shape[1])

    @property
    def method_name(self) -> str:
        return METHOD_NAMES[self.method]


def write_explorer(
    source: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    table: str | None = None,
    items: str | os.PathLike | None = None,
    key: str | None = None,
    title: str | None = None,
    color: str | None = None,
    points: int = DEFAULT_POINTS,
    method: str = "pca",
    k: int = 10,
    seed: int = 0,
    format: str | None = None,
    no_cache: bool = False,
    on_bad_line: str = "error",
) -> ExplorerPage:
    """Write the explorer page of a table of a bundle, or of a vectors file or name.

    Args:
        source: A bundle directory, a vectors file, or a name such as `glove-6b-50d`.
        output: Optional path of the HTML file (default: `BUNDLE/explore.html` for a
            bundle's first table, `BUNDLE/explore-TABLE.html` for another; `explore.html`
            in the working directory for vectors).
        table, items, key, title: As `load_table`; every other column of `items` becomes
            an attribute to colour by.
        color: Optional string. The attribute coloured by when the page opens (default:
            the first).
        points: Integer. How many of the most frequent entries to show (3 to 100,000).
        method: String. "pca", "tsne" or "umap".
        k: Integer. Neighbors listed per point (1 to 100).
        seed: Integer. Random seed of t-SNE and UMAP.
        format, on_bad_line: As `load_table`, for a vectors file.
        no_cache: Boolean. Neither read nor write the vectors cache nor the explorer's.

    Returns:
        The ExplorerPage, with `output` set.
    """
    check_options(points=points, method=method, k=k)
    bundle = is_bundle(source)
    loaded = _load(source, table, items=items, key=key, title=title, format=format,
                   no_cache=no_cache, on_bad_line=on_bad_line)
    folder = None if no_cache else _cache_folder(source, loaded, bundle)
    page = explorer_page(loaded, points=points, method=method, k=k, color=color, seed=seed,
                         cache_dir=folder, source=str(source))
    page.left_out += loaded.vectors.load_stats.nonfinite  # skipped while loading a file
    if output is None:
        output = _default_output(source, loaded.name, bundle)
    page.output = save_explorer(page, output)
    return page


def explorer_page(
    table: EmbeddingTable,
    *,
    points: int = DEFAULT_POINTS,
    method: str = "pca",
    k: int = 10,
    color: str | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    source: str | None = None,
) -> ExplorerPage:
    """Gather what the page of `table` shows (see `write_explorer` for the arguments);
    `cache_dir` keeps layouts and neighbor lists (None: computed every time)."""
    check_options(points=points, method=method, k=k)
    vectors = table.vectors
    rows, left_out = _page_rows(vectors, points)
    if len(rows) < MIN_POINTS:
        raise ConfigError(
            f"An explorer page needs at least {MIN_POINTS} entries with finite vectors. "
            f"Received the table {table.name!r} with {len(rows)} ({left_out} left out for "
            f"NaN or infinity). Explore a larger table."
        )
    columns = _columns(table, rows)
    chosen = _chosen_color(columns, table, color)
    page_vectors = _page_vectors(vectors, rows)
    n = len(rows)
    matrix = page_vectors.vectors[:n]
    initial = _initial_rows(table, rows)
    cache = ExploreCache(None if cache_dir is None else Path(cache_dir))
    learned_hash = matrix_hash(matrix)
    about = {"rows": n, "dim": int(matrix.shape[1]), "matrix": learned_hash}

    def layouts() -> dict[str, np.ndarray]:
        learned, axes = page_layout(matrix, method=method, seed=seed)
        found = {"axes": np.array(axes)}
        if initial is not None:
            before, _ = page_layout(initial, method=method, seed=seed)
            found["learned"], found["initial"] = fit_square(learned, align(before, learned))
        else:
            (found["learned"],) = fit_square(learned, None)
        return found

    shapes = {"learned": (n, 2), "axes": (2,)} | ({"initial": (n, 2)} if initial is not None
                                                  else {})
    before = None if initial is None else matrix_hash(initial)
    laid = cache.get("layout", {**about, "method": method, "seed": seed, "initial": before},
                     layouts, shapes=shapes)

    def neighbor_lists() -> dict[str, np.ndarray]:
        found, scores, answered = page_neighbors(page_vectors, n, k)
        return {"rows": found, "scores": scores, "answered": np.array(answered)}

    listed = cache.get("neighbors", {**about, "k": k}, neighbor_lists,
                       shapes={"rows": (n, k), "scores": (n, k), "answered": ()})
    keys = page_vectors.index_to_key[:n]
    titles = None if table.titles is None else [table.titles[i] or keys[j]
                                                for j, i in enumerate(rows.tolist())]
    return ExplorerPage(
        name=table.name, source=source or str(vectors.source or table.name), kind=table.kind,
        vectors=page_vectors, keys=keys, titles=titles,
        counts=None if vectors.counts is None else vectors.counts[rows],
        layout=laid["learned"], initial_layout=laid.get("initial"),
        moved=[] if initial is None else moved_most(matrix, initial, MOVED),
        neighbors=listed["rows"].astype(np.int32), scores=listed["scores"].astype(np.float32),
        columns=columns, color=chosen,
        labels=label_order(titles or keys, min(n, LABEL_CANDIDATES)),
        method=method, axes=tuple(str(a) for a in laid["axes"]), total=len(vectors),
        left_out=left_out, requested=points, answered=int(listed["answered"]),
        cache=dict(cache.states),
    )


def save_explorer(page: ExplorerPage, output: str | os.PathLike) -> Path:
    """Write the page atomically as one HTML file."""
    path = Path(output).expanduser()
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(
            f"The explorer page is an HTML file. Received: {str(path)!r}. Give it a name "
            "ending in .html."
        )
    atomic.write_text(path, render_page(page))
    return path


def check_options(*, points: int, method: str, k: int) -> None:
    """Points, method and k as the page takes them, else a ConfigError."""
    for name, value, low, high, what in (
            ("points", points, MIN_POINTS, MAX_POINTS, "how many of the most frequent entries"),
            ("k", k, 1, MAX_K, "neighbors listed per point")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
                low <= value <= high):
            raise ConfigError(
                f"`{name}` ({what}) must be an integer from {low:,} to {high:,}. Received: "
                f"{name}={value!r}. Pass a number in that range."
            )
    if method not in METHODS:
        raise ConfigError(
            f"`method` must be one of {', '.join(METHODS)}. Received: method={method!r}."
        )


def _load(source, table, *, items, key, title, format, no_cache, on_bad_line) -> EmbeddingTable:
    attributes = None
    if items is not None:
        names = read_table(items).column_names
        attributes = [c for c in names if c not in (key or names[0], title)]
    if is_bundle(source):
        return load_table(source, table, items=items, key=key, title=title,
                          attributes=attributes)
    if table not in (None, "vectors"):
        raise ConfigError(
            f"--table picks a table of a bundle; {str(source)!r} is a vectors file. "
            f"Received table={table!r}. Drop --table."
        )
    if items is None and (key is not None or title is not None):
        raise ConfigError(
            "--key and --title name columns of an --items FILE. Received them without "
            "--items. Pass --items FILE too."
        )
    vectors = WordVectors.load(source, format=format, cache=not no_cache,
                               on_bad_line=on_bad_line, on_nonfinite="skip")
    loaded = EmbeddingTable("vectors", vectors)
    if items is None:
        return loaded
    return with_item_table(loaded, items, key=key, title=title, attributes=attributes)


def _page_rows(vectors: WordVectors, points: int) -> tuple[np.ndarray, int]:
    """The `points` most frequent rows with finite values, and how many rows were not."""
    finite = np.empty(len(vectors), dtype=bool)
    for start in range(0, len(vectors), 1 << 16):
        block = np.asarray(vectors.vectors[start : start + (1 << 16)])
        finite[start : start + len(block)] = np.isfinite(block).all(axis=1)
    order = vectors.frequency_order()
    return order[finite[order]][:points], int((~finite).sum())


def _page_vectors(vectors: WordVectors, rows: np.ndarray) -> WordVectors:
    """The table itself when the page's rows are its first ones, else those rows alone."""
    if np.array_equal(rows, np.arange(len(rows))):
        return vectors
    keys = vectors.words.take(rows)
    counts = None if vectors.counts is None else vectors.counts[rows]
    matrix = np.ascontiguousarray(np.asarray(vectors.vectors)[rows], dtype=np.float32)
    return WordVectors(keys, matrix, source=vectors.source, format=vectors.format, counts=counts)


def _initial_rows(table: EmbeddingTable, rows: np.ndarray) -> np.ndarray | None:
    if table.initial is None:
        return None
    initial = np.ascontiguousarray(np.asarray(table.initial.vectors)[rows], dtype=np.float32)
    if not np.isfinite(initial).all():
        log.warning("The rows before training hold NaN or infinity; the page shows the "
                    "learned map only.")
        return None
    return initial


def _columns(table: EmbeddingTable, rows: np.ndarray) -> list[dict]:
    columns = []
    for name, values in table.attributes.items():
        column = color_column(name, np.asarray(values)[rows])
        if column is None:
            log.info("Attribute %r has no value among the page's entries; it is left out.",
                     name)
        else:
            columns.append(column)
    return columns


def _chosen_color(columns: list[dict], table: EmbeddingTable, color: str | None) -> str | None:
    names = [c["name"] for c in columns]
    if color is None:
        return names[0] if names else None
    if color in names:
        return color
    if color in table.attributes:
        raise ConfigError(
            f"--color {color!r} holds no value among the page's entries (it is empty for "
            f"all of them). Pick another: {', '.join(map(repr, names)) or 'none has values'}."
        )
    raise ConfigError(
        f"--color names an attribute of the table {table.name!r} or a column of --items. "
        f"Received: {color!r}; the page has: {', '.join(map(repr, names)) or 'none'}. "
        "Pass one of those, or leave --color out."
    )


def _cache_folder(source, loaded: EmbeddingTable, bundle: bool) -> Path:
    if bundle:
        return Path(source) / CACHE_FOLDER
    entry = loaded.vectors.cache_path
    if entry is not None and Path(entry).is_dir():
        return Path(entry) / "explore"  # goes with the entry when the source changes
    return cache_root() / "explore"


def _default_output(source, name: str, bundle: bool) -> Path:
    if not bundle:
        return Path(EXPLORE_PAGE)
    return Path(source) / explorer_file(source, name)


def explorer_file(bundle: str | os.PathLike, name: str) -> str:
    """The page's file name in a bundle: `explore.html` for its first table."""
    names = table_names(bundle)
    return EXPLORE_PAGE if not names or names[0] == name else f"explore-{name}.html"
