"""Export an embedding table: word-vector files, or a TensorBoard Embedding Projector folder.

The vector formats (``word2vec``, ``word2vec-binary``, ``glove``, ``npy``) go through
`WordVectors.save`, the same writer as ``embedlab vectors convert``: values are written in
their shortest round-trip form, so gensim reads back the very float32 values.

A ``projector`` export is a folder that the projector loads as it is::

    vectors.tsv             one row per entry, tab-separated values, no header
    metadata.tsv            one line per entry; a header line of field names when there
                            is more than one field (the projector's rule)
    projector_config.pbtxt  embeddings { tensor_name, tensor_path, metadata_path }

Tabs and line breaks inside labels are written as visible escapes (``\\t``, ``\\n``...),
since the projector splits on them.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.atomic import atomic_directory
from embedlab.errors import ConfigError, VectorsError
from embedlab.inspect.formats import check_export_format
from embedlab.vectors.parsed import LoadStats
from embedlab.vectors.wordvectors import WordVectors

logger = logging.getLogger(__name__)

"""The formats `export_vectors` writes."""

VECTORS_TSV = "vectors.tsv"
METADATA_TSV = "metadata.tsv"
PROJECTOR_CONFIG = "projector_config.pbtxt"
PROJECTOR_FILES = (VECTORS_TSV, METADATA_TSV, PROJECTOR_CONFIG)

# Every character that splits a line (for str.splitlines) or a field, as a visible escape.
_ESCAPES = {
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
    "\x0b": "\\x0b",
    "\x0c": "\\x0c",
    "\x1c": "\\x1c",
    "\x1d": "\\x1d",
    "\x1e": "\\x1e",
    "\x85": "\\x85",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_CLEAN = str.maketrans(_ESCAPES)
_ROWS_PER_BLOCK = 1 << 15


def export_vectors(
    vectors: WordVectors,
    output: str | os.PathLike,
    *,
    format: str,
    top_k: int | None = None,
    metadata: Mapping[str, Sequence] | None = None,
    tensor_name: str = "embedding",
) -> Path:
    """Write an embedding table's rows, most frequent first, in one of `EXPORT_FORMATS`.

    Rows follow `WordVectors.frequency_order()` (by `counts` when the table has them, else
    as they are). Every write is atomic: on failure nothing is left at `output`.

    Example:

    >>> export_vectors(table.vectors, "words.vec", format="word2vec", top_k=10000)
    >>> export_vectors(table.vectors, "projector/", format="projector",
    ...                metadata={"genre": genres})

    Args:
        vectors: WordVectors. The rows to write, with their words and optional counts.
        output: String or path. The file to write (a folder for ``npy`` and ``projector``).
        format: String. One of `EXPORT_FORMATS`.
        top_k: Optional integer. Keep only the `top_k` most frequent rows; more than the
            table holds keeps them all.
        metadata: Optional mapping of field name to a sequence with one value per row of
            `vectors`. Extra columns of the projector's ``metadata.tsv`` (after ``label``,
            and ``count`` when the table has counts); only for ``projector``.
        tensor_name: String. The tensor's name in ``projector_config.pbtxt``.

    Returns:
        The path written.
    """
    check_export_format(format)
    if metadata and format != "projector":
        raise ConfigError(
            f"Metadata columns can only be written with format='projector'; the {format} "
            f"format holds words and vectors only. Received: metadata fields "
            f"{', '.join(map(repr, metadata))}. Drop `metadata` or export as 'projector'."
        )
    rows = select_rows(vectors, top_k)
    subset = vectors if rows is None else _take(vectors, rows)
    output = Path(output).expanduser()
    if format == "projector":
        fields = _metadata_fields(vectors, metadata or {}, rows)
        return write_projector(subset, output, fields=fields, tensor_name=tensor_name)
    return subset.save(output, format=format)


def select_rows(vectors: WordVectors, top_k: int | None) -> np.ndarray | None:
    """The rows to export, most frequent first, or None when that is every row as it is."""
    if top_k is not None:
        if isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1:
            raise ConfigError(
                f"`top_k` must be a positive integer (how many of the most frequent rows to "
                f"keep). Received: top_k={top_k!r}. Pass 1 or more, or None for all rows."
            )
        if top_k > len(vectors):
            logger.info(
                "top_k=%d is more than the %d rows of the table; keeping all of them.",
                top_k,
                len(vectors),
            )
    order = vectors.frequency_order()
    if top_k is not None:
        order = order[:top_k]
    if len(order) == len(vectors) and np.array_equal(order, np.arange(len(vectors))):
        return None
    return order


def write_projector(
    vectors: WordVectors,
    output: Path,
    *,
    fields: Mapping[str, Sequence],
    tensor_name: str = "embedding",
) -> Path:
    """Write the three files of a projector folder atomically; `fields` are row-aligned."""
    _check_projector_target(output)
    matrix = np.asarray(vectors.vectors, dtype=np.float32)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise VectorsError(
            f"The projector needs finite values, but the row of {vectors.index_to_key[row]!r} "
            f"(and {int(bad.sum()) - 1} other rows) holds NaN or infinity. Fix or drop those "
            f"rows before exporting."
        )
    with atomic_directory(output) as tmp:
        _write_tsv_matrix(tmp / VECTORS_TSV, matrix)
        (tmp / METADATA_TSV).write_bytes(metadata_tsv(fields).encode("utf-8"))
        (tmp / PROJECTOR_CONFIG).write_text(projector_config(tensor_name), encoding="utf-8")
    return output


def metadata_tsv(fields: Mapping[str, Sequence]) -> str:
    """The text of ``metadata.tsv``: one line per row, a header only with several fields.

    The first field is the label; a blank label is written as its Python repr (``''``),
    since the projector skips blank lines.
    """
    if not fields:
        raise ConfigError("metadata.tsv needs at least one field (the label).")
    names = list(fields)
    columns = [[clean_value(v) for v in fields[name]] for name in names]
    columns[0] = [v if v.strip() else repr(v) for v in columns[0]]
    lines = ["\t".join(row) for row in zip(*columns, strict=True)]
    if len(names) > 1:
        lines.insert(0, "\t".join(clean_value(name) or "field" for name in names))
    return "".join(line + "\n" for line in lines)


def projector_config(tensor_name: str) -> str:
    """The text of ``projector_config.pbtxt``, with paths relative to its folder."""
    return (
        "embeddings {\n"
        f"  tensor_name: {_quote(tensor_name)}\n"
        f"  tensor_path: {_quote(VECTORS_TSV)}\n"
        f"  metadata_path: {_quote(METADATA_TSV)}\n"
        "}\n"
    )


def clean_value(value: object) -> str:
    """One metadata value as text: missing values empty, tabs and line breaks escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, np.floating):  # shortest form of its own precision: 0.37254903
        return "" if math.isnan(value) else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, np.integer):
        value = int(value)
    return str(value).translate(_CLEAN)


def _metadata_fields(
    vectors: WordVectors, metadata: Mapping[str, Sequence], rows: np.ndarray | None
) -> dict[str, Sequence]:
    fields: dict[str, Sequence] = {"label": vectors.index_to_key}
    if vectors.counts is not None:
        fields["count"] = vectors.counts.tolist()
    for name, values in metadata.items():
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = values.to_pylist()
        if name in fields:
            raise ConfigError(
                f"The metadata field {name!r} clashes with the {name!r} column the export "
                f"writes itself. Rename that field."
            )
        if len(values) != len(vectors):
            raise ConfigError(
                f"The metadata field {name!r} must hold one value per row ({len(vectors)} "
                f"rows). Received: {len(values)} values."
            )
        fields[name] = values
    if rows is None:
        return fields
    return {name: _take_values(values, rows) for name, values in fields.items()}


def _take_values(values: Sequence, rows: np.ndarray) -> list:
    if isinstance(values, np.ndarray):
        return list(values[rows])  # numpy scalars keep their precision for clean_value
    return [values[int(i)] for i in rows]


def _take(vectors: WordVectors, rows: np.ndarray) -> WordVectors:
    indices = pa.array(rows, type=pa.int64())
    counts = None if vectors.counts is None else vectors.counts[rows]
    return WordVectors(
        pc.take(vectors.words, indices),
        np.asarray(vectors.vectors)[rows],
        source=vectors.source,
        format=vectors.format,
        load_stats=LoadStats(lines=len(rows), words=len(rows)),
        counts=counts,
    )


def _write_tsv_matrix(path: Path, matrix: np.ndarray) -> None:
    """Tab-separated values in their shortest float32 round-trip form, one row a line."""
    n, dim = matrix.shape
    with open(path, "wb") as handle:
        for start in range(0, n, _ROWS_PER_BLOCK):
            block = np.ascontiguousarray(matrix[start : start + _ROWS_PER_BLOCK])
            columns = [pa.array(block[:, j]).cast(pa.string()) for j in range(dim)]
            lines = columns[0] if dim == 1 else pc.binary_join_element_wise(*columns, "\t")
            joined = pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "\n")
            handle.write(joined[0].as_buffer())
            handle.write(b"\n")


def _check_projector_target(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise ConfigError(
            f"A projector export is a folder, but {str(output)!r} is a file. Pass a folder "
            f"name (new, empty, or a previous projector export)."
        )
    if output.is_dir():
        present = {p.name for p in output.iterdir()}
        if present and not (PROJECTOR_CONFIG in present and present <= set(PROJECTOR_FILES)):
            shown = ", ".join(sorted(present)[:5]) + (", ..." if len(present) > 5 else "")
            raise ConfigError(
                f"The folder {str(output)!r} is not empty and is not a previous projector "
                f"export (it holds {shown}); it would be replaced. Pass a new or empty folder."
            )


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
