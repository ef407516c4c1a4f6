"""Read and write tables (CSV, TSV, JSONL, Parquet) with pyarrow.

Errors say which file, what was wrong and what to do. Writes go to a temporary name in the
target directory and are renamed into place, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from embedlab.atomic import atomic_file
from embedlab.data.formats import table_format
from embedlab.errors import DataError, column_error


def read_table(path: str | os.PathLike, *, columns: list[str] | None = None) -> pa.Table:
    """Read a CSV, TSV, JSONL or Parquet file, or a directory of Parquet files (one dataset:
    schemas checked against each other, hive partition columns readable by name), into an
    Arrow table.

    Args:
        path: String or path. The file; its extension names the format.
        columns: Optional list of strings. Columns that must be present (checked, with the
            names that exist listed in the error).

    Returns:
        A `pyarrow.Table`.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist. Check the path.")
    if path.is_dir():
        table = _read_directory(path)
        if columns:
            require_columns(table, columns)
        return table
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"data file {str(path)!r} is empty. Pass a file with a header and rows.")
    try:
        table = _read(path, fmt)
        table.schema.names  # noqa: B018  (column names decode here: bad UTF-8 fails now)
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the column names of {str(path)!r} are not valid UTF-8 text ({exc.reason} at "
            f"byte {exc.start}). Re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8`."
        ) from None
    except pa.ArrowInvalid as exc:
        raise DataError(_explain(path, fmt, exc)) from exc
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {str(path)!r} as {fmt}: {_first_line(exc)}.") from exc
    if table.num_rows == 0:
        raise DataError(
            f"data file {str(path)!r} has a header but no rows. Pass a file with data rows."
        )
    if fmt in ("csv", "tsv"):
        for field in table.schema:
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                raise DataError(
                    f"column {field.name!r} of {str(path)!r} is not valid UTF-8 text. "
                    "Re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8`."
                )
    if columns:
        require_columns(table, columns)
    return table


def _read_directory(path: Path) -> pa.Table:
    from embedlab.data.stream import TableStream

    stream = TableStream(path, columns=None)
    batches = list(stream.batches())
    if not batches:
        raise DataError(f"the Parquet files under {str(path)!r} hold no rows. Pass files "
                        "with data rows.")
    table = pa.Table.from_batches(batches)
    if table.num_rows == 0:
        raise DataError(f"the Parquet files under {str(path)!r} hold no rows. Pass files with "
                        "data rows.")
    return table


def _read(path: Path, fmt: str) -> pa.Table:
    if fmt in ("csv", "tsv"):
        from pyarrow import csv

        parse = csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True)
        convert = csv.ConvertOptions(strings_can_be_null=True)
        return csv.read_csv(path, parse_options=parse, convert_options=convert)
    if fmt == "jsonl":
        from pyarrow import json

        return json.read_json(path)
    from pyarrow import parquet

    return parquet.read_table(path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _explain(path: Path, fmt: str, exc: BaseException) -> str:
    msg = _first_line(exc)
    if "utf8" in msg.lower() or "utf-8" in msg.lower():
        return (
            f"{str(path)!r} is not valid UTF-8 text ({msg}). "
            "Re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8`."
        )
    return f"cannot parse {str(path)!r} as {fmt}: {msg}. Check that the file really is {fmt}."


def require_columns(table: pa.Table, columns: list[str]) -> None:
    """Raise a ColumnError naming the existing columns if any of `columns` is absent."""
    names = table.column_names
    for col in columns:
        if col not in names:
            raise column_error(col, names)


def write_table(table: pa.Table, path: str | os.PathLike) -> Path:
    """Write `table` as CSV, TSV, JSONL or Parquet (by extension), atomically."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_file(path) as tmp:
        if fmt in ("csv", "tsv"):
            from pyarrow import csv

            options = csv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
            csv.write_csv(table, tmp, write_options=options)
        elif fmt == "jsonl":
            _write_jsonl(table, tmp)
        else:
            from pyarrow import parquet

            parquet.write_table(table, tmp)
    return path


def _write_jsonl(table: pa.Table, path: str) -> None:
    import json

    with open(path, "w", encoding="utf-8") as handle:
        for row in table.to_pylist():
            handle.write(json.dumps(row, ensure_ascii=False, default=str))
            handle.write("\n")
