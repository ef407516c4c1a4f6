"""Looking entries up in an embedding table: which to show, their neighbors before and
after training (rows for a terminal table or a report), and the nearest entries of an item
or a category value in a bundle."""

from __future__ import annotations

import difflib
import os

import numpy as np

from embedlab.errors import ConfigError, DataError
from embedlab.models.base import EmbeddingTable
from embedlab.models.registry import load_bundle
from embedlab.text.categorical import MISSING
from embedlab.text.categories import category_string

PROBES = 8


def probe_keys(table: EmbeddingTable, n: int = PROBES, *, prior: float = 10.0) -> list[str]:
    """Entries worth showing: those whose training examples lean most to either end of the
    label (when the table has a numeric attribute), else the most frequent.

    Each entry's attribute is shrunk towards the table's mean as if `prior` more examples
    had the mean value, so a word seen twice in positive reviews does not beat a word seen
    three hundred times in mostly positive ones.
    """
    vectors = table.vectors
    keys = vectors.index_to_key
    order = vectors.frequency_order()
    counts = vectors.counts
    if counts is not None:
        order = order[counts[order] > 0]
    attribute = next(iter(table.attributes.values()), None)
    if (attribute is not None and counts is not None
            and np.issubdtype(np.asarray(attribute).dtype, np.floating)):
        values = np.asarray(attribute, "float64")[order]
        seen = counts[order].astype("float64")
        known = ~np.isnan(values)
        if known.sum() >= n:
            order, values, seen = order[known], values[known], seen[known]
            centre = float(np.average(values, weights=seen))
            shrunk = (values * seen + centre * prior) / (seen + prior)
            ranked = order[np.argsort(shrunk, kind="stable")]
            half = n // 2
            return [keys[int(i)] for i in [*ranked[-half:][::-1], *ranked[: n - half]]]
    return [keys[int(i)] for i in order[:n] if not keys[int(i)].startswith("<")]


def neighbor_rows(
    table: EmbeddingTable,
    keys: list[str],
    *,
    k: int = 10,
    scores: bool = True,
    method: str = "auto",
) -> tuple[list[str], list[list[str]]]:
    """(header, rows): each key's `k` nearest entries by cosine, after training and, when
    the table keeps them, before (the pre-trained rows). Titles replace keys when known.

    Unknown keys raise a DataError that names the closest known ones.
    """
    vectors = table.vectors
    missing = [key for key in keys if key not in vectors]
    if missing:
        close = difflib.get_close_matches(missing[0], vectors.index_to_key[:50000], n=3)
        hint = f" Close entries: {', '.join(close)}." if close else ""
        raise DataError(
            f"{missing[0]!r} is not in the table {table.name!r} ({len(vectors):,} entries).{hint} "
            "Pass entries the table holds."
        )
    columns = [("nearest" if table.kind == "vectors" else "after training", vectors)]
    if table.initial is not None:
        columns.insert(0, ("before training (pre-trained rows)", table.initial))
    found = {name: wv.neighbors(keys, topn=k, method=method) for name, wv in columns}
    header = ["entry", *(name for name, _ in columns)]
    rows = []
    for i, key in enumerate(keys):
        cells = [table.label(key)]
        for name, _ in columns:
            cells.append(", ".join(
                f"{table.label(w)} ({s:.2f})" if scores else table.label(w)
                for w, s in found[name][i]))
        rows.append(cells)
    return header, rows


def similar_entries(
    bundle: str | os.PathLike,
    *,
    item: str | None = None,
    column: str | None = None,
    value: str | None = None,
    k: int = 10,
) -> list[tuple[str, float]]:
    """The `k` nearest entries by cosine in a bundle's learned space: of an item
    (recommender bundles), or of a value of a categorical column (tabular bundles).
    The bundle's Keras model is never built."""
    model = load_bundle(bundle)
    if model.kind == "recommender":
        if item is None or column is not None or value is not None:
            raise ConfigError(
                "a recommender bundle takes --item ID. Received "
                f"{'--column/--value' if item is None else '--item with --column/--value'}."
            )
        return model.similar_items(item, k=k)
    if model.kind != "tabular":
        raise ConfigError(
            f"`similar` reads recommender and tabular bundles. Received a {model.kind!r} "
            "bundle; for word vectors use `embedlab vectors`."
        )
    if item is not None or column is None or value is None:
        raise ConfigError(
            "a tabular bundle takes --column COLUMN --value VALUE. Received "
            f"{'--item' if item is not None else 'no --column or --value'}."
        )
    vectors = model.column_vectors(column)
    value = category_string(value) or MISSING
    if value not in vectors:
        shown = ", ".join(repr(v) for v in vectors.index_to_key[:10])
        more = f", ... ({len(vectors)} in all)" if len(vectors) > 10 else ""
        raise DataError(
            f"{value!r} is not a learned value of column {column!r}; it has {shown}{more}. "
            "Pass one of them."
        )
    return vectors.most_similar(value, topn=k)
