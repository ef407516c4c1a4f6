"""The binary word2vec format: a 'count dim' header line, then per word its bytes, a
space, and `dim` little-endian float32 values (a newline after the values is allowed).

The file is read in large pieces. A short Python loop finds where each word ends (one
``bytes.find`` per word); the words and vectors are then gathered with numpy in one go.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from embedlab.atomic import atomic_file
from embedlab.errors import VectorsError
from embedlab.vectors import formats
from embedlab.vectors.fileio import open_for_write
from embedlab.vectors.parsed import (
    LoadStats,
    Parsed,
    Progress,
    allocate_matrix,
    claim_error,
    finish,
    grow_matrix,
    nonfinite_rows,
)

CHUNK_BYTES = 32 << 20


def read_binary(
    path: Path,
    *,
    limit: int | None = None,
    on_nonfinite: str = "error",
    progress: Progress | None = None,
) -> Parsed:
    """Read a binary word2vec file."""
    name = str(path)
    stream, raw = formats.open_binary(path)
    total = os.fstat(raw.fileno()).st_size
    try:
        data = _read(stream, name, 1 << 16)
        newline = data.find(b"\n")
        header = formats.parse_header(data[:newline]) if newline >= 0 else None
        if not data:
            raise VectorsError(f"The vectors file {name!r} is empty.")
        if header is None:
            raise VectorsError(
                f"The file {name!r} does not start with a 'count dim' header line, as the "
                f"binary word2vec format does. Is this really the word2vec-binary format?"
            )
        count, dim = header
        if dim < 1 or count < 0:
            what = f"{dim} dimensions" if dim < 1 else f"{count} words"
            raise VectorsError(
                f"The 'count dim' header of {name!r} says {what}; a header needs a word count "
                f"of 0 or more and a dimension of 1 or more. Is the file damaged?"
            )
        nbytes = 4 * dim
        wanted = count if limit is None else min(count, limit)
        body = total - (newline + 1)
        if stream is raw and wanted > body // (nbytes + 1) + 1:
            # A record is at least a space (after an empty word) and 4 bytes per value; a
            # count one past that is read, and then named for what it is (a truncated file).
            raise claim_error(
                name,
                f"{count:,} words of {dim:,} dimensions",
                wanted * (nbytes + 1),
                body,
                f"It has room for at most {body // (nbytes + 1):,} such words. "
                f"Fix the header's 'count dim'.",
            )
        # A compressed file's size is known only once read: rows are allocated as records
        # arrive (at first for 4 times the compressed size), never for the header's count.
        room = wanted if stream is raw else min(wanted, 4 * total // (nbytes + 1) + 64)
        matrix: np.ndarray | None = None
        word_chunks: list[pa.Array] = []
        bad_rows: list[np.ndarray] = []
        rows, buf, eof, starved = 0, data[newline + 1 :], False, False
        while rows < wanted:
            if not eof and (len(buf) < CHUNK_BYTES or starved):
                more = _read(stream, name, CHUNK_BYTES)
                eof = not more
                buf = buf + more if buf else more
                if progress:
                    progress(raw.tell(), total)
            starts, ends, consumed = _find_records(buf, nbytes, wanted - rows)
            n = len(starts)
            starved = n == 0
            if n == 0 and eof:
                raise VectorsError(
                    f"{name!r} ends after {rows} of the {count} words its header announces: "
                    f"the file is truncated (or the header count is wrong)."
                )
            if n:
                if matrix is None:
                    matrix = allocate_matrix(max(room, n), dim)
                elif rows + n > len(matrix):
                    bigger = min(wanted, max(rows + n, int(len(matrix) * 1.5) + 1024))
                    matrix = grow_matrix(matrix, rows, bigger)
                words, block = _gather(buf, starts, ends, nbytes)
                matrix[rows : rows + n] = block.view("<f4").reshape(n, dim)
                word_chunks.append(words)
                bad = nonfinite_rows(matrix[rows : rows + n])
                if len(bad):
                    bad_rows.append(rows + bad)
                rows += n
            buf = buf[consumed:]
        if wanted == count and (buf.strip(b"\n") or _read(stream, name, 1)):
            raise VectorsError(
                f"The header of {name!r} says {count} words, but more data follows the last "
                f"of them. Is the header count wrong?"
            )
        if matrix is None:
            raise VectorsError(
                f"The header of {name!r} says {count} words: the file holds no vectors."
            )
        matrix = matrix[:rows]
        stats = LoadStats(lines=rows)
        raw_words = pa.concat_arrays(word_chunks) if len(word_chunks) != 1 else word_chunks[0]
        all_bad = np.concatenate(bad_rows) if bad_rows else np.empty(0, dtype=np.int64)
        return finish(
            raw_words,
            matrix,
            stats,
            bad_rows=all_bad,
            on_nonfinite=on_nonfinite,
            describe_row=lambda row: f"word number {row + 1} of {name!r}",
        )
    finally:
        stream.close()
        raw.close()


def _read(stream, name: str, size: int) -> bytes:
    try:
        return stream.read(size)
    except formats.READ_ERRORS as exc:
        raise VectorsError(
            f"Cannot read {name!r}: {exc}. Is the (compressed) file damaged or truncated?"
        ) from exc


def _find_records(buf: bytes, nbytes: int, most: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Start and end of the word of each whole record in `buf`, and the bytes they take.

    Every space is a candidate word end (float bytes hold spaces too); from a word end,
    the next word ends at the first space after the record's `nbytes` of values. numpy
    finds all the candidates and their successors at once; a short loop walks the chain.
    """
    if len(buf) < nbytes + 1:  # not one whole record yet (and no int64 overflow below)
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), 0
    u8 = np.frombuffer(buf, dtype=np.uint8)
    spaces = np.flatnonzero(u8 == 32)
    usable = int(np.searchsorted(spaces, len(buf) - nbytes - 1, side="right"))
    successor = np.searchsorted(spaces, spaces[:usable] + 1 + nbytes).tolist()
    chain: list[int] = []
    append = chain.append
    k = 0
    for _ in range(min(most, usable)):
        if k >= usable:
            break
        append(k)
        k = successor[k]
    ends = spaces[chain] if chain else np.empty(0, dtype=np.int64)
    starts = np.empty(len(ends), dtype=np.int64)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1 + nbytes
    consumed = int(ends[-1]) + 1 + nbytes if len(ends) else 0
    if consumed < len(buf) and buf[consumed : consumed + 1] == b"\n" and len(ends) == most:
        consumed += 1
    return starts, ends.astype(np.int64), consumed


def _gather(
    buf: bytes, starts: np.ndarray, ends: np.ndarray, nbytes: int
) -> tuple[pa.Array, np.ndarray]:
    """The words (newlines before a word dropped, as word2vec writes them) and vector bytes."""
    u8 = np.frombuffer(buf, dtype=np.uint8)
    starts = starts.copy()
    while True:  # skip the newline(s) some writers put after each vector
        lead = (starts < ends) & (u8[np.minimum(starts, len(u8) - 1)] == 10)
        if not lead.any():
            break
        starts += lead
    lengths = ends - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    data = u8[index]
    if offsets[-1] < 2**31:
        buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
        words = pa.Array.from_buffers(pa.binary(), len(starts), buffers)
    else:
        words = pa.Array.from_buffers(
            pa.large_binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
    block = sliding_window_view(u8, nbytes)[ends + 1]
    return words, block


def write_binary(path: Path, words: pa.Array, matrix: np.ndarray) -> None:
    """Write binary word2vec atomically (no newline after each vector, as gensim writes)."""
    spaced = [w for w in words.to_pylist() if " " in w or "\n" in w or w == ""]
    if spaced:
        raise VectorsError(
            f"The word {spaced[0]!r} is empty or holds a space or a line break, which the "
            f"word2vec-binary format cannot hold ({len(spaced)} such words). Save to "
            f"format='npy' instead, or drop them."
        )
    n, dim = matrix.shape
    with atomic_file(path) as tmp, open_for_write(tmp, path) as handle:
        handle.write(f"{n} {dim}\n".encode())
        block = 1 << 14
        for start in range(0, n, block):
            rows = np.ascontiguousarray(matrix[start : start + block], dtype="<f4")
            keys = words.slice(start, len(rows)).to_pylist()
            pairs = zip(keys, rows, strict=True)
            pieces = (k.encode("utf-8") + b" " + r.tobytes() for k, r in pairs)
            handle.write(b"".join(pieces))
