"""Tables read in record batches, never whole: a Parquet file, a directory of Parquet files
(one dataset, hive partitions allowed), or a CSV/TSV file.

    stream = TableStream("clicks/", columns=["user", "item"])
    for batch in stream.batches(rng):     # pyarrow.RecordBatch, a few 10k rows each
        ...

Parquet goes through `pyarrow.dataset` (each file's row groups, in an order shuffled per
pass when a generator is given); CSV through `pyarrow.csv.open_csv`, in file order. The
files are listed, their schemas checked against each other and their size and modification
time noted when the stream opens; every pass checks them again, so a file that changes or
disappears between the vocabulary pass and training stops the run with a clear error rather
than training on rows the vocabularies never saw.

`key_fraction` places a row in [0, 1) by a stable hash of its key columns: the same row gets
the same place in every pass, process and machine, which is how a validation split is
chosen without holding the data.

numpy and pyarrow only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedlab.data.formats import table_format
from embedlab.errors import DataError, column_error

BATCH_ROWS = 65_536
_MIX = np.uint64(0x100000001B3)
_PARQUET = (".parquet", ".pq")


class TableStream:
    """A table on disk, read in record batches.

    Args:
        path: A Parquet file, a directory of Parquet files, or a CSV or TSV file.
        columns: List of strings. The columns to read (each must exist in every file, or
            be a hive partition key); None: the first file's columns.
        batch_rows: Integer. Rows per record batch (at most).
    """

    def __init__(self, path: str | os.PathLike, *, columns: list[str] | None,
                 batch_rows: int = BATCH_ROWS):
        self.path = Path(path)
        self.columns = list(columns or [])
        self.batch_rows = int(batch_rows)
        if not self.path.exists():
            raise DataError(f"data {str(self.path)!r} does not exist. Check the path.")
        if self.path.is_dir():
            self.format = "parquet"
            self.files = sorted(p for p in self.path.rglob("*") if p.is_file()
                                and p.suffix.lower() in _PARQUET and not _hidden(p, self.path))
            if not self.files:
                raise DataError(
                    f"the directory {str(self.path)!r} holds no Parquet files (*.parquet). "
                    "Pass a directory of Parquet files, or one data file."
                )
        else:
            self.format = table_format(self.path)
            if self.format not in ("parquet", "csv", "tsv"):
                raise DataError(
                    f"{str(self.path)!r} is {self.format}, which is read whole, not streamed. "
                    "Convert it to Parquet or CSV to stream it."
                )
            self.files = [self.path]
        self._noted = {p: _signature(p) for p in self.files}
        self.schema = self._check_schemas()
        repeated = sorted({n for n in self.schema.names if self.schema.names.count(n) > 1})
        if repeated:
            raise DataError(
                f"{str(self.files[0])!r} has more than one column named {repeated[0]!r}; "
                "expected distinct column names. Rename the repeated columns."
            )
        if not columns:  # every column of the first file, and the hive partition keys
            keys = [part.split("=", 1)[0] for part in self.files[0].relative_to(
                self.path).parts[:-1] if "=" in part] if self.path.is_dir() else []
            self.columns = list(self.schema.names) + [
                k for k in keys if k not in self.schema.names and self._partition_column(k)]
        self.rows: int | None = None  # known after the first full pass

    # ------------------------------------------------------------------ opening
    def _check_schemas(self) -> pa.Schema:
        if self.format != "parquet":
            return self._csv_schema()
        import pyarrow.dataset as ds

        first = None
        for file in self.files:
            try:
                schema = ds.dataset(file, format="parquet").schema
                schema.names  # noqa: B018  (column names decode here: bad UTF-8 fails now)
            except UnicodeDecodeError as exc:
                raise DataError(_not_utf8(file, exc)) from None
            except (OSError, pa.ArrowException) as exc:
                raise DataError(f"cannot read {str(file)!r} as Parquet: {_first_line(exc)}. "
                                "Check that the file really is Parquet.") from exc
            names = schema.names
            for column in self.columns:
                if column not in names and not self._partition_column(column):
                    raise DataError(f"{str(file)!r}: {column_error(column, names)}")
            if first is None:
                first, first_file = schema, file
                continue
            for column in self.columns:
                if column in names and column in first.names and (
                        schema.field(column).type != first.field(column).type):
                    raise DataError(
                        f"{str(file)!r} stores column {column!r} as "
                        f"{schema.field(column).type}, but {str(first_file)!r} as "
                        f"{first.field(column).type}. Write every file of the dataset with "
                        "the same schema."
                    )
        return first

    def _partition_column(self, column: str) -> bool:
        """Whether every file lies under a hive directory `column=value`."""
        return self.path.is_dir() and all(
            any(part.startswith(column + "=") for part in f.relative_to(self.path).parts[:-1])
            for f in self.files)

    def _csv_schema(self) -> pa.Schema:
        reader = self._open_csv(self.path)
        try:
            schema = reader.schema
            schema.names  # noqa: B018  (column names decode here: bad UTF-8 fails now)
        except UnicodeDecodeError as exc:
            raise DataError(_not_utf8(self.path, exc)) from None
        reader.close() if hasattr(reader, "close") else None
        for column in self.columns:
            if column not in schema.names:
                raise DataError(f"{str(self.path)!r}: {column_error(column, schema.names)}")
        return schema

    def _open_csv(self, file: Path):
        from pyarrow import csv

        parse = csv.ParseOptions(delimiter="\t" if self.format == "tsv" else ",",
                                 newlines_in_values=True)
        convert = csv.ConvertOptions(strings_can_be_null=True,
                                     include_columns=self.columns)
        read = csv.ReadOptions(block_size=1 << 22)
        try:
            return csv.open_csv(file, read_options=read, parse_options=parse,
                                convert_options=convert)
        except UnicodeDecodeError as exc:
            raise DataError(_not_utf8(file, exc)) from None
        except pa.ArrowInvalid as exc:
            raise DataError(f"cannot parse {str(file)!r} as {self.format}: "
                            f"{_first_line(exc)}. Check the file.") from exc

    # ------------------------------------------------------------------ reading
    def check_unchanged(self) -> None:
        """Raise a DataError if a file changed or disappeared since the stream opened."""
        for file, noted in self._noted.items():
            now = _signature(file)
            if now is None:
                raise DataError(
                    f"{str(file)!r} disappeared after the first pass over the data. Keep the "
                    "data in place while training, then run again."
                )
            if now != noted:
                raise DataError(
                    f"{str(file)!r} changed after the first pass over the data (size or "
                    "modification time differ), so its rows no longer match the vocabularies. "
                    "Keep the data unchanged while training, then run again."
                )

    def batches(self, rng: np.random.Generator | None = None) -> Iterator[pa.RecordBatch]:
        """Every row once, in record batches of the stream's columns. With `rng`, files and
        (Parquet) row groups come in a shuffled order."""
        self.check_unchanged()
        files = list(self.files)
        if rng is not None:
            rng.shuffle(files)
        for file in files:
            if _signature(file) != self._noted[file]:
                self.check_unchanged()
            try:
                yield from (self._parquet_batches(file, rng) if self.format == "parquet"
                            else self._csv_batches(file))
            except FileNotFoundError as exc:
                raise DataError(f"{str(file)!r} disappeared while it was read. Keep the data "
                                "in place while training, then run again.") from exc
            except (OSError, pa.ArrowException) as exc:  # a damaged page or footer
                raise DataError(f"cannot read {str(file)!r}: {_first_line(exc)}. "
                                "Check the file.") from exc

    def _parquet_batches(self, file: Path, rng) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(file)
        stored = [c for c in self.columns if c in handle.schema_arrow.names]
        constants = {c: _partition_value(file, self.path, c) for c in self.columns
                     if c not in stored}
        groups = list(range(handle.num_row_groups))
        if rng is not None:
            rng.shuffle(groups)
        for group in groups:
            for batch in handle.iter_batches(batch_size=self.batch_rows, row_groups=[group],
                                             columns=stored):
                if constants:
                    arrays = [batch.column(c) if c in stored
                              else pa.array([constants[c]] * batch.num_rows, pa.string())
                              for c in self.columns]
                    batch = pa.RecordBatch.from_arrays(arrays, names=self.columns)
                yield batch

    def _csv_batches(self, file: Path) -> Iterator[pa.RecordBatch]:
        reader = self._open_csv(file)
        for batch in reader:
            yield batch.select(self.columns)


def key_fraction(keys: list[pa.Array], *, seed: int = 0) -> np.ndarray:
    """Each row's place in [0, 1), from a stable 64-bit hash of its key columns and `seed`:
    the same for a row in every pass, process and machine. An integer column is hashed by
    its value, any other by the UTF-8 bytes of its text."""
    from embedlab.text._hashing import fmix64, token_hashes

    with np.errstate(over="ignore"):
        mixed = np.full(len(keys[0]), fmix64(np.array([seed + 1], np.uint64))[0], np.uint64)
        for key in keys:
            if isinstance(key, pa.ChunkedArray):
                key = key.combine_chunks()
            if pa.types.is_integer(key.type):
                part = fmix64(key.fill_null(0).cast(pa.int64()).to_numpy().view(np.uint64))
            else:
                part = token_hashes(key.cast(pa.string()).fill_null(""))
            mixed = fmix64(mixed * _MIX + part)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def release_memory() -> None:
    """Hands memory freed by a pass back to the system: Arrow's pool keeps what its record
    batches used, and glibc's heap what numpy freed, both counting as resident until then."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _partition_value(file: Path, root: Path, column: str) -> str:
    for part in file.relative_to(root).parts[:-1]:
        if part.startswith(column + "="):
            from urllib.parse import unquote

            return unquote(part[len(column) + 1:])
    raise DataError(f"{str(file)!r} has no column {column!r}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> str:
    return (f"the column names of {str(path)!r} are not valid UTF-8 text ({exc.reason} at "
            f"byte {exc.start}). Re-save the file with UTF-8 column names.")
