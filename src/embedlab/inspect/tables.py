"""The embedding tables of a bundle (or a vectors file), as `WordVectors` with labels,
training frequencies and per-row attributes.

    tables = bundle_tables("bundle")          # {"words": EmbeddingTable, ...}
    words = load_table("bundle").vectors      # the neighbor API of WordVectors
    load_table("glove-6b-50d")                # a vectors file works the same way

A text bundle has one table, `words` (with the rows before training when it started from
pre-trained vectors); a tabular bundle one per categorical column; a recommender `items`
and `users`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from embedlab import artifacts
from embedlab.data.readers import read_table
from embedlab.errors import ConfigError, DataError, column_error
from embedlab.models.base import EmbeddingTable
from embedlab.models.registry import load_bundle
from embedlab.models.registry import table_names as bundle_table_names
from embedlab.text.categories import category_strings
from embedlab.vectors.wordvectors import WordVectors


def is_bundle(source: str | os.PathLike) -> bool:
    """Whether `source` is a bundle directory (it holds a manifest)."""
    path = Path(source)
    return path.is_dir() and (path / artifacts.MANIFEST).exists()


def bundle_tables(path: str | os.PathLike, *, model: Any = None) -> dict[str, EmbeddingTable]:
    """Every embedding table of a bundle, by name, read from its files without building
    its Keras model (or from `model`, an in-memory model of the bundle)."""
    if model is None:
        model = load_bundle(path)
    if model.kind == "tabular" and model.encoding == "onehot":
        raise ConfigError(
            "this tabular bundle was trained with one-hot inputs and has no embedding "
            "tables. Train it with the default embedding encoding."
        )
    return model.embedding_tables()


def table_names(source: str | os.PathLike) -> list[str]:
    """The names of the tables `load_table` can read from `source` (without loading them)."""
    if not is_bundle(source):
        return ["vectors"]
    return bundle_table_names(source)


def load_table(
    source: str | os.PathLike,
    table: str | None = None,
    *,
    format: str | None = None,
    no_cache: bool = False,
    on_bad_line: str = "error",
    model: Any = None,
    items: str | os.PathLike | None = None,
    key: str | None = None,
    title: str | None = None,
    attributes: list[str] | None = None,
) -> EmbeddingTable:
    """One embedding table of a bundle, or the vectors of a file or known name.

    Args:
        source: A bundle directory, a vectors file, or a name such as `glove-6b-50d`.
        table: Optional string. Which table of the bundle (default: the first: `words`,
            the first categorical column, or `items`).
        format: Optional string. The vectors format, when `source` is a file.
        no_cache: Boolean. Do not read or write the vectors cache (files only).
        on_bad_line: String. "error" or "skip" for malformed lines of a vectors file.
        model: Optional loaded model of the bundle, to avoid loading it again.
        items, key, title, attributes: Optional. A file with one row per entry, its key
            column, its title column and columns to colour by (see `with_item_table`).
    """
    if items is None:
        if title is not None or key is not None or attributes:
            raise ConfigError(
                "--key, --title and --attribute name columns of an --items FILE. Received "
                "them without --items. Pass --items FILE too."
            )
        return _load_table(source, table, format=format, no_cache=no_cache,
                           on_bad_line=on_bad_line, model=model)
    loaded = _load_table(source, table, format=format, no_cache=no_cache,
                         on_bad_line=on_bad_line, model=model)
    return with_item_table(loaded, items, key=key, title=title, attributes=attributes)


def _load_table(source, table, *, format, no_cache, on_bad_line, model) -> EmbeddingTable:
    if not is_bundle(source):
        if table not in (None, "vectors"):
            raise ConfigError(
                f"--table picks a table of a bundle; {str(source)!r} is a vectors file. "
                f"Received table={table!r}. Drop --table."
            )
        vectors = WordVectors.load(source, format=format, cache=not no_cache,
                                   on_bad_line=on_bad_line)
        return EmbeddingTable("vectors", vectors)
    names = table_names(source)
    if table is None:
        if not names:
            raise ConfigError(
                f"bundle {str(source)!r} has no embedding tables (no categorical columns). "
                "Train it with at least one categorical column."
            )
        table = names[0]
    if table not in names:
        raise ConfigError(
            f"bundle {str(source)!r} has the tables {names}. Received table={table!r}. "
            "Pass one of them with --table."
        )
    return bundle_tables(source, model=model)[table]


def with_item_table(
    table: EmbeddingTable,
    path: str | os.PathLike,
    *,
    key: str | None = None,
    title: str | None = None,
    attributes: list[str] | None = None,
) -> EmbeddingTable:
    """Titles and attributes of a table's entries from a file of them (e.g. MovieLens items).

    Args:
        table: EmbeddingTable. Its keys are matched to the file's `key` column.
        path: A CSV, TSV, JSONL or Parquet file with one row per entry.
        key: Optional string. The column holding the keys (default: the bundle's item
            column name when the file has it, else the file's first column).
        title: Optional string. The column of display labels.
        attributes: Optional list of strings. Columns to colour maps by.
    """
    data = read_table(path)
    if key is None:
        key = data.column_names[0]
    for column in [key, title, *(attributes or [])]:
        if column is not None and column not in data.column_names:
            raise column_error(column, data.column_names)
    keys = category_strings(data[key], what=f"column {key!r}").to_pylist()
    position: dict[str, int] = {}
    for row, value in enumerate(keys):
        if value is not None:
            position.setdefault(value, row)
    rows = np.array([position.get(k, -1) for k in table.vectors.index_to_key])
    if not (rows >= 0).any():
        raise DataError(
            f"no key of column {key!r} in {str(path)!r} matches the table's keys (e.g. "
            f"{table.vectors.index_to_key[:3]}). Pass the column holding the IDs with --key."
        )
    found = rows >= 0
    titles = table.titles
    if title is not None:
        values = data[title].to_pylist()
        titles = [str(values[r]) if r >= 0 and values[r] is not None else k
                  for r, k in zip(rows, table.vectors.index_to_key, strict=True)]
    extra = dict(table.attributes)
    for column in attributes or []:
        values = np.asarray(data[column].to_pylist(), dtype=object)
        aligned = np.where(found, values[np.maximum(rows, 0)], None)
        extra[column] = _as_attribute(aligned)
    return replace(table, titles=titles, attributes=extra)


def _as_attribute(values: np.ndarray) -> np.ndarray:
    """Numbers become floats (NaN where missing); anything else strings ("" where missing)."""
    present = [v for v in values if v is not None]
    if present and len(present) == len(values) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present):
        return np.array(present, dtype="int64")
    if present and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                       for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return np.array(["" if v is None else str(v) for v in values])
