"""Column helpers: tables from what users pass, numbers and text from columns, and rows
cleaned of missing values before they reach a model. numpy and pyarrow only.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.data.readers import read_table, require_columns
from embedlab.errors import DataError, column_error
from embedlab.text.categories import category_strings

log = logging.getLogger(__name__)


def as_table(data: Any, what: str = "data") -> pa.Table:
    """A pyarrow Table from a Table, a pandas DataFrame or a dict of columns.

    A dict column whose values mix types (e.g. 42 and "a") becomes normalised strings.
    """
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "columns") and hasattr(data, "dtypes"):  # pandas DataFrame
        return pa.Table.from_pandas(data, preserve_index=False)
    if not isinstance(data, dict):
        raise DataError(
            f"{what} must be a pyarrow Table, a pandas DataFrame or a dict of columns. "
            f"Received {type(data).__name__}."
        )
    columns = {}
    for name, values in data.items():
        if isinstance(values, pa.Array | pa.ChunkedArray):
            columns[name] = values
            continue
        try:
            columns[name] = pa.array(
                values.tolist() if isinstance(values, np.ndarray) else list(values),
                from_pandas=True,
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            columns[name] = category_strings(values, what=f"column {name!r}")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise DataError(
            f"the columns of {what} must have one length. Received lengths "
            f"{sorted(lengths)}. Pass columns of equal length."
        )
    return pa.table(columns)


def as_list(values: Any, what: str) -> list:
    """A sequence of values (list, numpy array, Arrow array) as a Python list."""
    if values is None:
        raise DataError(f"{what} must be a sequence. Received None.")
    if isinstance(values, str):
        raise DataError(
            f"{what} must be a sequence of values. Received a single string; wrap it in a list."
        )
    if hasattr(values, "to_pylist"):
        return values.to_pylist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


def numeric_values(column: Any, name: str, missing_values: list[str], *,
                   finite: bool = False, fix: str | None = None) -> np.ndarray:
    """A column as float64, NaN where missing; text that is not a number is an error. An
    infinite value is missing too, or with `finite` an error (as one beyond float32's range).
    `fix` is the advice for a column that holds text (default: a tabular column's options)."""
    values = _numeric_values(column, name, missing_values, fix)
    if finite:
        bad = np.isinf(values) | (np.abs(np.nan_to_num(values)) > _LARGEST)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{name} values must be finite numbers within float32's range (|x| <= 3.4e38)."
                f" Received {int(bad.sum())} that are not, the first {float(values[first])!r} "
                f"(row {first}). Remove or fix those rows."
            )
    return np.where(np.isfinite(values), values, np.nan)


_LARGEST = float(np.finfo("float32").max)


def _numeric_values(column: Any, name: str, missing_values: list[str],
                    fix: str | None) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.dictionary_decode(), column.type.value_type
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or (
        pa.types.is_decimal(kind)
    ):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        strings = category_strings(column, missing_values=missing_values, what=f"column {name!r}")
        try:
            values = strings.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            texts = strings.to_pylist()
            for row, text in enumerate(texts):
                if text is None:
                    continue
                try:
                    float(text)
                except ValueError:
                    raise DataError(
                        f"column {name!r} is numeric but holds text: {text!r} at row {row}. "
                        + (fix or f"Pass --categorical {name} to treat it as categories, add "
                           "the text to --missing-values, or clean the column.")
                    ) from None
            values = np.array([np.nan if t is None else float(t) for t in texts])
        return values
    raise DataError(
        f"column {name!r} is numeric but holds values of type {kind}. Expected numbers; "
        + (fix or f"pass --categorical {name} or --ignore {name}.")
    )


def rating_values(ratings: Any, n: int | None, *, what: str = "rating") -> np.ndarray:
    """Ratings (or times) as float64, NaN where missing; text that is not a number is an
    error. `n`, when given, is the number of values expected."""
    if isinstance(ratings, pa.Array | pa.ChunkedArray):
        column = ratings
    else:
        values = ratings.tolist() if isinstance(ratings, np.ndarray) else list(ratings)
        try:
            column = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            column = category_strings(values, what=f"{what}s")
    if n is not None and len(column) != n:
        raise DataError(
            f"{what}s must have one value per interaction. Received {len(column)} {what}s "
            f"for {n} interactions."
        )
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        column = column.cast(pa.int64())
    fix = (f"Expected a number in every {what}: clean the column, or name another one "
           f"(--{what} COLUMN).")
    return numeric_values(column, what, [], finite=True, fix=fix)


def text_values(column: Any) -> pa.ChunkedArray:
    """A column as text, missing values as empty text."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return column.fill_null("")


def drop_missing(table: pa.Table, columns: list[str]) -> tuple[pa.Table, int]:
    """Drop rows where any of `columns` is null, NaN or blank text; return (table, dropped)."""
    keep = None
    for name in columns:
        col = table[name]
        valid = pc.is_valid(col)
        if pa.types.is_floating(col.type):
            valid = pc.and_(valid, pc.invert(pc.is_nan(col)))
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            valid = pc.and_(valid, pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0))
        valid = pc.fill_null(valid, False)
        keep = valid if keep is None else pc.and_(keep, valid)
    kept = table.filter(keep) if keep is not None else table
    return kept, table.num_rows - kept.num_rows


def is_missing(value: Any) -> bool:
    """Whether one label value is missing: None, NaN or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def labelled_rows(data: Any, y: Any, what: str) -> tuple[pa.Table, list, int]:
    """(table, labels, dropped): the rows of `data` that have a label.

    `y` is the label column's name in `data`, or a sequence of labels, one per row.
    """
    table = as_table(data, what)
    if table.num_rows == 0:
        raise DataError(f"{what} has no rows. Pass a table with rows.")
    if isinstance(y, str):
        if y not in table.column_names:
            raise column_error(y, table.column_names, what="label column")
        table, dropped = drop_missing(table, [y])
        labels = table[y].to_pylist()
    else:
        labels = as_list(y.tolist() if isinstance(y, np.ndarray) else y, "labels")
        if len(labels) != table.num_rows:
            raise DataError(
                f"{what} and its labels must have the same length. Received "
                f"{table.num_rows} rows and {len(labels)} labels."
            )
        keep = [not is_missing(v) for v in labels]
        dropped = len(labels) - sum(keep)
        if dropped:
            table = table.filter(pa.array(keep))
            labels = [v for v, k in zip(labels, keep, strict=True) if k]
    if dropped:
        log.warning("%d rows of %s have no label and were dropped.", dropped, what)
    if not labels:
        raise DataError(
            f"every row of {what} lacks a label ({dropped} rows). Check the label column."
        )
    return table, labels, dropped


def labelled_text(
    data: str | os.PathLike | pa.Table, text: str, label: str, *, what: str | None = None
) -> tuple[pa.Table, int]:
    """Read a file (or take a table), check its text and label columns, and drop the rows
    missing either: (table of the two columns as text and label, rows dropped)."""
    if isinstance(data, pa.Table):
        table, where = data, what or "the table"
    else:
        table, where = read_table(data, columns=[text, label]), str(data)
    require_columns(table, [text, label])
    kind = table[text].type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        table = table.set_column(
            table.column_names.index(text), text, table[text].cast(pa.string())
        )
    kept, dropped = drop_missing(table, [text, label])
    if kept.num_rows == 0:
        raise DataError(
            f"no rows of {where} have both {text!r} and {label!r}; all {table.num_rows} miss "
            "one. Check the column names and the file."
        )
    return kept, dropped
