"""Table file formats, told from a file's name."""

from __future__ import annotations

import os
from pathlib import Path

from embedlab.errors import DataError

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSIONS = (".gz", ".bz2", ".zst", ".lz4", ".brotli")


def table_format(path: str | os.PathLike) -> str:
    """The format of a table file from its extension (a compression suffix is looked past)."""
    name = Path(path).name.lower()
    for comp in _COMPRESSIONS:
        if name.endswith(comp):
            name = name[: -len(comp)]
            break
    suffix = Path(name).suffix
    if suffix not in FORMATS:
        raise DataError(
            f"cannot tell the format of {str(path)!r}: expected a file ending in "
            f".csv, .tsv, .jsonl or .parquet, received {suffix or 'no extension'!r}. "
            "Rename the file with one of these extensions."
        )
    return FORMATS[suffix]
