"""The chunk parser behind the text formats: Arrow's CSV reader, with an exact fallback.

A worker thread gets a buffer of whole lines. Arrow's vectorised CSV reader (space
delimiter, quoting off) parses it into a binary word column and float32 value columns,
which become row-major blocks. Anything irregular (a line with the wrong number of
fields, a blank line, a lone carriage return, a byte-order mark inside the file) makes
Arrow's answer unsafe: the buffer is then retried in smaller pieces, and the pieces that
are still irregular are read line by line, their values still parsed by Arrow in one go.
Line numbers are local to the buffer; the reader adds the offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from embedlab.vectors import formats
from embedlab.vectors.parsed import nonfinite_rows, word_hashes

BLOCK_BYTES = 256 << 10  # Arrow's parsing block: small blocks stay in the CPU cache
PIECE_BYTES = 1 << 20  # an irregular buffer is retried in pieces of this size
WIDE_DIM = 2048  # wider lines skip the CSV reader, whose memory and time grow per column
BOM = b"\xef\xbb\xbf"
_PARSE = pcsv.ParseOptions(
    delimiter=" ",
    quote_char=False,
    escape_char=False,
    double_quote=False,
    newlines_in_values=False,
    ignore_empty_lines=False,
)


@dataclass
class Chunk:
    """What a worker made of one buffer; line numbers are local (0 = the buffer's first)."""

    words: pa.Array | None = None
    blocks: list[np.ndarray] = field(default_factory=list)  # row-major pieces, in order
    rows: int = 0
    nlines: int = 0
    row_lines: np.ndarray | None = None  # local line of each row; None when row i is line i
    skipped: list[int] = field(default_factory=list)
    empty: int = 0
    error: tuple[int, str] | None = None
    nonfinite: np.ndarray | None = None
    hashes: np.ndarray | None = None


def parse_chunk(
    source, arrow: pa.Buffer, start: int, end: int, dim: int, trailing: bool, on_bad_line: str
) -> Chunk:
    """Parse the whole lines source[start:end] (a bytearray or an mmap; `arrow` is the same
    memory as an Arrow buffer): Arrow's CSV reader first, line by line where anything is
    irregular.

    An irregular buffer is cut into pieces of about PIECE_BYTES and each piece tried again,
    so a few odd lines (GloVe 840B's words with spaces) cost little.
    """
    fast = _parse_fast(source, arrow, start, end, dim, trailing)
    if fast is not None:
        return fast
    if end - start <= PIECE_BYTES:
        return _parse_lines(_bytes(source, start, end), dim, on_bad_line)
    parts = []
    while start < end:
        stop = min(end, start + PIECE_BYTES)
        if stop < end:
            stop = source.rfind(b"\n", start, stop) + 1 or source.find(b"\n", stop, end) + 1 or end
        part = _parse_fast(source, arrow, start, stop, dim, trailing)
        if part is None:
            part = _parse_lines(_bytes(source, start, stop), dim, on_bad_line)
        parts.append(part)
        if part.error is not None:
            break
        start = stop
    return _merge(parts)


def _bytes(source, start: int, end: int) -> bytes:
    with memoryview(source) as view:
        return bytes(view[start:end])


def _parse_fast(
    source, arrow: pa.Buffer, start: int, end: int, dim: int, trailing: bool
) -> Chunk | None:
    """Arrow's CSV reader on source[start:end]; None when a line is irregular."""
    if 2 * dim > end - start + 1:
        return None  # no line here can hold `dim` values: the line path says which is short
    if dim > WIDE_DIM:
        return None  # the line path parses wide lines without a column per value
    if source[start : start + len(BOM)] == BOM:
        return None
    if source.find(b"\r", start, end) >= 0:
        piece = _bytes(source, start, end)
        if piece.count(b"\r") != piece.count(b"\r\n"):
            return None  # a lone carriage return: Arrow would end a line there
    names = ["w"] + [f"v{j}" for j in range(dim)] + (["_"] if trailing else [])
    try:
        table = pcsv.read_csv(
            pa.BufferReader(arrow.slice(start, end - start)),
            read_options=pcsv.ReadOptions(
                column_names=names, use_threads=False, block_size=BLOCK_BYTES
            ),
            parse_options=_PARSE,
            convert_options=_convert_options(names[: dim + 1]),
        )
    except pa.ArrowInvalid:  # a malformed or blank line
        return None
    blocks = _to_blocks(table.drop_columns(["w"]), dim)
    words = table.column("w").combine_chunks()
    return Chunk(
        words=words,
        blocks=blocks,
        rows=len(words),
        nlines=len(words),
        nonfinite=_nonfinite_in(blocks),
        hashes=word_hashes(words),
    )


def _merge(parts: list[Chunk]) -> Chunk:
    """One chunk result from consecutive pieces."""
    out = Chunk()
    words, hashes, row_lines, nonfinite = [], [], [], []
    for part in parts:
        if part.error is not None:
            out.error = (out.nlines + part.error[0], part.error[1])
            return out
        words.append(part.words)
        hashes.append(part.hashes)
        out.blocks.extend(part.blocks)
        local = part.row_lines if part.row_lines is not None else np.arange(part.rows)
        row_lines.append(out.nlines + local)
        nonfinite.append(out.rows + part.nonfinite)
        out.skipped.extend(out.nlines + s for s in part.skipped)
        out.empty += part.empty
        out.nlines += part.nlines
        out.rows += part.rows
    out.words = pa.concat_arrays(words)
    out.hashes = np.concatenate(hashes)
    out.row_lines = np.concatenate(row_lines).astype(np.int64)
    out.nonfinite = np.concatenate(nonfinite).astype(np.int64)
    return out


def _parse_lines(buf: bytes, dim: int, on_bad_line: str) -> Chunk:
    """The exact path: one line at a time, values still parsed by Arrow in one go."""
    lines = buf.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = Chunk(nlines=len(lines))
    words, values, row_lines = [], [], []
    for i, line in enumerate(lines):
        stripped = line.rstrip(b" \t\r")
        if not stripped:
            out.empty += 1
            continue
        if stripped.count(b" ") == dim:  # the usual line: no need to split every value
            cut = stripped.find(b" ")
            words.append(stripped[:cut])
            values.append(stripped[cut + 1 :])
            row_lines.append(i)
            continue
        parts = stripped.split(b" ")
        extra = len(parts) - 1 - dim
        if extra == 0:
            word = parts[0]
            vals = stripped[len(word) + 1 :]
        elif (
            extra > 0
            and all(parts[1 : 1 + extra])
            and not all(formats.is_number(p) for p in parts[1 : 1 + extra])
        ):
            word = b" ".join(parts[: extra + 1])
            vals = b" ".join(parts[extra + 1 :])
        else:
            detail = f"has {len(parts) - 1} values where {dim} were expected"
            if on_bad_line == "error":
                out.error = (i, detail)
                return out
            out.skipped.append(i)
            continue
        words.append(word)
        values.append(vals)
        row_lines.append(i)
    block, bad = _parse_values(values, dim)
    if bad:
        if on_bad_line == "error":
            first = bad[0]
            out.error = (row_lines[first], _bad_value_detail(values[first], dim))
            return out
        drop = set(bad)
        out.skipped.extend(row_lines[b] for b in bad)
        out.skipped.sort()
        words = [w for k, w in enumerate(words) if k not in drop]
        row_lines = [r for k, r in enumerate(row_lines) if k not in drop]
    out.words = pa.array(words, type=pa.binary())
    out.blocks, out.rows = [block], len(block)
    out.row_lines = np.asarray(row_lines, dtype=np.int64)
    out.nonfinite = nonfinite_rows(block)
    out.hashes = word_hashes(out.words)
    return out


def _parse_values(values: list[bytes], dim: int) -> tuple[np.ndarray, list[int]]:
    """Parse lines of `dim` numbers; return the matrix of the good ones and the bad indices."""
    if not values:
        return np.empty((0, dim), dtype=np.float32), []
    try:
        return _parse_numbers(values, dim), []
    except pa.ArrowInvalid:
        pass
    if len(values) == 1:
        return np.empty((0, dim), dtype=np.float32), [0]
    half = len(values) // 2
    left, bad_left = _parse_values(values[:half], dim)
    right, bad_right = _parse_values(values[half:], dim)
    return np.concatenate([left, right]), bad_left + [half + b for b in bad_right]


def _parse_numbers(values: list[bytes], dim: int) -> np.ndarray:
    if dim > WIDE_DIM:
        return _parse_wide(values, dim)
    names = [f"v{j}" for j in range(dim)]

    buf = b"\n".join(values) + b"\n"
    table = pcsv.read_csv(
        pa.BufferReader(buf),
        read_options=pcsv.ReadOptions(
            column_names=names, use_threads=False, block_size=BLOCK_BYTES
        ),
        parse_options=_PARSE,
        convert_options=_convert_options(names, word=False),
    )
    if table.num_rows != len(values):
        raise pa.ArrowInvalid("row count changed")
    return _to_matrix(table, dim)


def _parse_wide(values: list[bytes], dim: int) -> np.ndarray:
    """Lines of many values, split and cast by Arrow kernels: memory in proportion to the
    text, whatever `dim` (the CSV reader spends a column's overhead on every value)."""
    text = pa.array(values, type=pa.binary()).cast(pa.string())
    parts = pc.split_pattern(text, " ")
    if not pc.all(pc.equal(pc.list_value_length(parts), dim)).as_py():
        raise pa.ArrowInvalid("a line has the wrong number of values")
    flat = pc.list_flatten(parts).cast(pa.float32())
    return flat.to_numpy(zero_copy_only=False).reshape(len(values), dim)


def _bad_value_detail(values: bytes, dim: int) -> str:
    for field_ in values.split(b" "):
        if not formats.is_number(field_):
            return f"has a value that is not a number: {field_[:40].decode('utf-8', 'replace')!r}"
    return f"has values that cannot be read as {dim} numbers"


def _convert_options(names: list[str], *, word: bool = True) -> pcsv.ConvertOptions:
    types = {n: pa.float32() for n in names}
    if word:
        types[names[0]] = pa.binary()
    return pcsv.ConvertOptions(
        column_types=types,
        include_columns=names,
        null_values=[],
        true_values=[],
        false_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _to_blocks(table: pa.Table, dim: int) -> list[np.ndarray]:
    """The float columns as row-major float32 pieces, one per record batch (not joined:
    the main thread copies them straight into the result)."""
    return [b.to_tensor(row_major=True).to_numpy() for b in table.to_batches() if b.num_rows]


def _to_matrix(table: pa.Table, dim: int) -> np.ndarray:
    blocks = _to_blocks(table, dim)
    if not blocks:
        return np.empty((0, dim), dtype=np.float32)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _nonfinite_in(blocks: list[np.ndarray]) -> np.ndarray:
    found, start = [], 0
    for block in blocks:
        bad = nonfinite_rows(block)
        if len(bad):
            found.append(start + bad)
        start += len(block)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)
