"""Text formats: ``glove`` (no header) and ``word2vec`` (a 'count dim' header line).

A line is a word and its values separated by single spaces; trailing whitespace is
ignored. A word may hold spaces when the fields before the last `dim` ones are not all
numbers (GloVe 840B has such words). Quote characters are ordinary characters.

Reading is fast: the file is read in chunks that end at a line end (into reused
buffers, with no copies of large pieces), a thread pool parses them (`textparse`: Arrow's
vectorised CSV reader, with an exact line-by-line fallback), and the main thread copies
the parsed rows into one matrix that grows in place. Errors name their line.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
)
from embedlab.vectors.textchunks import (
    FIRST_BYTES,
    Chunks,
    MappedChunks,
    StreamChunks,
    StreamReader,
)
from embedlab.vectors.textparse import BOM, Chunk, parse_chunk

CHUNK_BYTES = 16 << 20


def read_text(
    path: Path,
    *,
    header: bool,
    limit: int | None = None,
    on_bad_line: str = "error",
    on_nonfinite: str = "error",
    progress: Progress | None = None,
    workers: int | None = None,
) -> Parsed:
    """Read a ``glove`` (header=False) or ``word2vec`` (header=True) text file."""
    fmt = "word2vec" if header else "glove"
    name = str(path)
    stream, raw = formats.open_binary(path)
    total = os.fstat(raw.fileno()).st_size
    compressed = stream is not raw
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    pool = ThreadPoolExecutor(workers)
    chunks: Chunks | None = None
    mapped: MappedChunks | None = None
    try:
        mapped = None if compressed else MappedChunks.open(raw, name)
        if mapped is not None:
            data = mapped.head(FIRST_BYTES)
        else:
            reader = StreamReader(stream, name)
            data = reader.first_lines(FIRST_BYTES)
        if not data.strip():
            raise VectorsError(f"The vectors file {name!r} is empty (no words in it).")
        skipped = 0
        if data.startswith(BOM):
            data, skipped = data[len(BOM) :], len(BOM)
        count, first_line = None, 1
        if header:
            newline = data.find(b"\n")
            line = data if newline < 0 else data[:newline]
            parsed_header = formats.parse_header(line)
            if parsed_header is None:
                raise VectorsError(
                    f"line 1 of {name!r} should be a 'count dim' header, as the word2vec "
                    f"format has; it reads {line[:60]!r}. Is this really the word2vec format? "
                    f"Pass format='glove' for a text file without a header."
                )
            count, dim = parsed_header
            skipped += len(data) if newline < 0 else newline + 1
            data = b"" if newline < 0 else data[newline + 1 :]
            data = mapped.head(FIRST_BYTES, skipped) if mapped else reader.complete_line(data)
            first_line = 2
            _check_header(name, count, dim, None if compressed else total - skipped)
        else:
            dim = _sniff_dim(data, name)
        trailing = _trailing_space(data)
        if limit is not None:
            target = limit if count is None else min(limit, count)
        else:
            target = count
        estimate = _estimate_rows(data, total, compressed, target, dim)
        chunks = mapped.start_at(skipped) if mapped else StreamChunks(reader, data)
        return _read_body(
            chunks,
            data,
            pool,
            workers,
            name=name,
            fmt=fmt,
            dim=dim,
            trailing=trailing,
            first_line=first_line,
            count=count,
            compressed=compressed,
            limit=limit,
            estimate=estimate,
            on_bad_line=on_bad_line,
            on_nonfinite=on_nonfinite,
            progress=(lambda: progress(chunks.position(raw), total)) if progress else None,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for source in {id(c): c for c in (chunks, mapped) if c is not None}.values():
            source.close()
        stream.close()
        raw.close()


def _read_body(
    chunks: Chunks,
    data: bytes,
    pool: ThreadPoolExecutor,
    workers: int,
    *,
    name: str,
    fmt: str,
    dim: int,
    trailing: bool,
    first_line: int,
    count: int | None,
    compressed: bool,
    limit: int | None,
    estimate: int,
    on_bad_line: str,
    on_nonfinite: str,
    progress: Callable[[], None] | None,
) -> Parsed:
    stats = LoadStats()
    matrix: np.ndarray | None = None  # allocated once a line has shown `dim` values
    rows, line_offset = 0, first_line
    word_chunks: list[pa.Array] = []
    hash_chunks: list[np.ndarray] = []
    bad_rows: list[np.ndarray] = []
    bad_lines: dict[int, int] = {}
    pending: deque[tuple[Future, object]] = deque()
    max_pending = workers + 1
    avg_line = max(1.0, len(data) / max(1, data.count(b"\n")))
    eof, done = False, False

    while not done:
        while not eof and len(pending) < max_pending:
            want = CHUNK_BYTES
            if limit is not None:
                left = max(0, limit - rows)
                want = int(min(CHUNK_BYTES, max(1 << 16, left * avg_line * 1.1 + 4096)))
            source, arrow, start, end, eof = chunks.next(want)
            if progress:
                progress()
            if end > start:
                job = pool.submit(
                    parse_chunk, source, arrow, start, end, dim, trailing, on_bad_line
                )
                pending.append((job, (source, start, end)))
            if limit is not None:
                break  # parse before reading more: the limit may already be reached
        if not pending:
            break
        job, used = pending.popleft()
        result: Chunk = job.result()
        chunks.done_with(*used)
        if result.error is not None:
            local, detail = result.error
            raise VectorsError(_bad_line_message(name, fmt, line_offset + local, detail, count))
        n = result.rows
        nlines = result.nlines
        if limit is not None and rows + n >= limit:
            n = limit - rows
            nlines = int(result.row_lines[n - 1]) + 1 if result.row_lines is not None and n else n
            done = True
        if n and matrix is None:
            matrix = allocate_matrix(max(estimate, n), dim, populate=not compressed)
        elif n and rows + n > len(matrix):
            matrix = grow_matrix(matrix, rows, max(rows + n, int(len(matrix) * 1.5) + 1024))
        if n:
            _copy_rows(matrix, rows, result.blocks, n)
        word_chunks.append(result.words.slice(0, n))
        hash_chunks.append(result.hashes[:n])
        if result.nonfinite is not None and len(result.nonfinite):
            local_rows = result.nonfinite[result.nonfinite < n]
            bad_rows.append(rows + local_rows)
            for r in local_rows:
                local = int(result.row_lines[r]) if result.row_lines is not None else int(r)
                bad_lines[rows + int(r)] = line_offset + local
        for local in result.skipped:
            if local < nlines:
                stats.note_skipped(line_offset + local)
        stats.empty_lines += result.empty
        rows += n
        line_offset += nlines
        stats.lines += nlines
        if not done and eof and not pending:
            break

    if count is not None:
        data_lines = rows + stats.skipped_lines
        wanted = count if limit is None else min(count, limit)
        if data_lines != wanted and (limit is None or data_lines < wanted):
            raise VectorsError(
                f"The header (line 1) of {name!r} says {count} words, but the file holds "
                f"{data_lines}. Is the file truncated, or the header wrong? Fix the header "
                f"count (or read it as format='glove' after removing the header)."
            )
    if rows == 0 or matrix is None:
        raise VectorsError(f"The vectors file {name!r} holds no vectors (all lines skipped).")
    matrix = matrix[:rows]  # the unused tail of the estimate is never touched
    raw_words = pa.concat_arrays(word_chunks) if len(word_chunks) != 1 else word_chunks[0]
    all_bad = np.concatenate(bad_rows) if bad_rows else np.empty(0, dtype=np.int64)
    return finish(
        raw_words,
        matrix,
        stats,
        bad_rows=all_bad,
        on_nonfinite=on_nonfinite,
        describe_row=lambda row: f"line {bad_lines.get(row, '?')} of {name!r}",
        hashes=np.concatenate(hash_chunks),
    )


def _check_header(name: str, count: int, dim: int, body: int | None) -> None:
    """Refuse a 'count dim' header that no file of this size can hold, before allocating.

    A line of `dim` values takes at least 2 * dim bytes (a separator and a digit each);
    `body` is the size of the file after the header (None for a compressed file, whose
    lines are then checked as they come). A word count the file cannot hold costs nothing
    (rows are allocated for what the file's size allows) and is reported, with the real
    count, once the lines are read.
    """
    if dim < 1 or count < 0:
        what = f"{dim} dimensions" if dim < 1 else f"{count} words"
        raise VectorsError(
            f"line 1 of {name!r} is a word2vec 'count dim' header that says {what}; a header "
            f"needs a word count of 0 or more and a dimension of 1 or more. It reads "
            f"'{count} {dim}'. Fix the header, or remove it and read the file as format='glove'."
        )
    if body is None:
        return
    fix = "Fix the header's 'count dim'."
    if 2 * dim > body + 1:
        claim = f"{dim:,} dimensions (a line of {dim:,} values)"
        raise claim_error(name, claim, 2 * dim, body, fix)


def _bad_line_message(name: str, fmt: str, line: int, detail: str, count: int | None) -> str:
    said = " (the header on line 1 gives the dimension)" if count is not None else ""
    return (
        f"line {line} of {name!r} {detail}{said}. Is this really the {fmt} format? "
        f"Fix the line, or pass on_bad_line='skip' (CLI: --on-bad-line skip) to skip bad lines."
    )


def _copy_rows(matrix: np.ndarray, at: int, blocks: list[np.ndarray], n: int) -> None:
    for block in blocks:
        if n <= 0:
            break
        k = min(len(block), n)
        matrix[at : at + k] = block[:k]
        at, n = at + k, n - k


def _sniff_dim(data: bytes, name: str) -> int:
    """The dimension of a headerless text file: the most common value count of its first lines."""
    counts: dict[int, int] = {}
    for line in data.split(b"\n")[:200]:
        stripped = line.rstrip(b" \t\r")
        if stripped:
            n = stripped.count(b" ")
            counts[n] = counts.get(n, 0) + 1
    if not counts:
        raise VectorsError(f"The vectors file {name!r} is empty (no words in it).")
    dim = max(counts, key=counts.__getitem__)  # ties: the count seen first
    if dim < 1:
        first = data.split(b"\n", 1)[0][:60]
        raise VectorsError(
            f"line 1 of {name!r} holds no values after the word ({first!r}). Is this really "
            f"a vectors file in the glove format (a word then its values, space-separated)?"
        )
    return dim


def _trailing_space(data: bytes) -> bool:
    """Whether lines end in a space before the line break (word2vec and fastText write one)."""
    for line in data.split(b"\n", 20)[:20]:
        line = line.rstrip(b"\r")
        if line.strip():
            return line.endswith(b" ")
    return False


def _estimate_rows(data: bytes, total: int, compressed: bool, target: int | None, dim: int) -> int:
    """Rows to allocate at first: the count asked for, or a guess from the file size.

    The matrix grows (into a larger one) when the guess is short; its unused tail is left.
    A line holds at least 2 * dim bytes, which bounds every guess and a count read from a
    damaged header (a compressed file is taken to be at most 4 times its size at first).
    """
    lines = max(1, data.count(b"\n"))
    per_line = max(1.0, len(data) / lines)
    size = total * (4 if compressed else 1)
    most = size // (2 * dim) + 1
    guess = min(int(size / per_line * 1.02) + 64, most)
    if target is None:
        return guess
    if compressed:
        return max(1, min(target, 4 * guess, most))
    return max(1, min(target, most))


def write_text(
    path: Path, words: pa.Array, matrix: np.ndarray, *, header: bool, rows_per_block: int = 1 << 15
) -> None:
    """Write ``glove`` or ``word2vec`` text atomically; values in shortest round-trip form."""
    fmt = "word2vec" if header else "glove"
    for bad in ("\n", "\r"):
        hits = pc.match_substring(words, bad)
        if pc.any(hits).as_py():
            word = words.filter(hits)[0].as_py()
            raise VectorsError(
                f"The word {word!r} holds a line break, which the {fmt} text format cannot "
                f"hold. Save to format='npy' instead, or drop the word."
            )
    n, dim = matrix.shape
    with atomic_file(path) as tmp, open_for_write(tmp, path) as handle:
        if header:
            handle.write(f"{n} {dim}\n".encode())
        for start in range(0, n, rows_per_block):
            stop = min(n, start + rows_per_block)
            block = np.ascontiguousarray(matrix[start:stop], dtype=np.float32)
            columns = [words.slice(start, stop - start).cast(pa.string())]
            columns += [pa.array(block[:, j]).cast(pa.string()) for j in range(dim)]
            lines = pc.binary_join_element_wise(*columns, " ")
            joined = pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "\n")
            handle.write(joined[0].as_buffer())
            handle.write(b"\n")
