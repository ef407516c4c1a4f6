"""Reading a text file in chunks that end at a line end: memory-mapped when it is a plain
file (Arrow parses the page cache in place, no copies), else streamed from a (compressed)
file object into reused buffers. `embedlab.vectors.glove` parses the chunks.
"""

from __future__ import annotations

import contextlib
import mmap

import pyarrow as pa

from embedlab.errors import VectorsError
from embedlab.vectors import formats

FIRST_BYTES = 1 << 20  # what the first look at a file reads


class Chunks:
    """Where the chunks come from: `next` hands out whole lines, `done_with` takes them back."""

    def next(self, size: int) -> tuple[object, pa.Buffer, int, int, bool]:
        raise NotImplementedError

    def done_with(self, source, start: int, end: int) -> None:
        pass

    def position(self, raw) -> int:
        return raw.tell()

    def close(self) -> None:
        pass


class MappedChunks(Chunks):
    """An uncompressed file, memory-mapped: Arrow parses the page cache in place (no copy),
    and the pages of parsed chunks are dropped from the process's resident set."""

    def __init__(self, mm: mmap.mmap):
        self.mm = mm
        self.arrow = pa.py_buffer(mm)
        self.pos = 0

    @classmethod
    def open(cls, raw, name: str) -> MappedChunks | None:
        try:
            mm = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # an empty file, a pipe: read it as a stream
            return None
        return cls(mm)

    def head(self, size: int, start: int = 0) -> bytes:
        """The bytes from `start`, at least `size` of them and up to a line end."""
        end = min(len(self.mm), start + size)
        newline = self.mm.find(b"\n", end - 1) if end > start else -1
        if newline >= 0 and newline >= end:
            end = newline + 1
        elif newline < 0:
            end = len(self.mm)
        return self.mm[start:end]

    def start_at(self, pos: int) -> MappedChunks:
        self.pos = pos
        return self

    def next(self, size: int) -> tuple[object, pa.Buffer, int, int, bool]:
        start, size_all = self.pos, len(self.mm)
        end = min(size_all, start + size)
        if end < size_all:
            cut = self.mm.rfind(b"\n", start, end) + 1
            end = cut or (self.mm.find(b"\n", end) + 1) or size_all
        self.pos = end
        return self.mm, self.arrow, start, end, end >= size_all

    def done_with(self, source, start: int, end: int) -> None:
        if hasattr(mmap, "MADV_DONTNEED"):
            aligned = start - start % mmap.PAGESIZE
            with contextlib.suppress(OSError, ValueError):
                self.mm.madvise(mmap.MADV_DONTNEED, aligned, end - aligned)

    def position(self, raw) -> int:
        return self.pos

    def close(self) -> None:
        self.arrow = None
        with contextlib.suppress(BufferError):  # an Arrow slice still alive: GC unmaps it
            self.mm.close()


class StreamChunks(Chunks):
    """A compressed (or unmappable) file, read into reused buffers."""

    def __init__(self, reader: StreamReader, carry: bytes):
        self.reader = reader
        self.carry = carry
        self.free: list[bytearray] = []

    def next(self, size: int) -> tuple[object, pa.Buffer, int, int, bool]:
        spare = self.free.pop() if self.free else None
        buf, length, self.carry, eof = self.reader.next_chunk(self.carry, size, spare)
        return buf, pa.py_buffer(buf), 0, length, eof

    def done_with(self, source, start: int, end: int) -> None:
        self.free.append(source)


class StreamReader:
    """Reads a stream in pieces that end at a line end."""

    def __init__(self, stream, name: str):
        self.stream = stream
        self.name = name

    def read(self, size: int) -> bytes:
        try:
            return self.stream.read(size)
        except formats.READ_ERRORS as exc:
            raise VectorsError(
                f"Cannot read {self.name!r}: {exc}. Is the (compressed) file damaged or truncated?"
            ) from exc

    def first_lines(self, size: int) -> bytes:
        return self.complete_line(self.read(size))

    def complete_line(self, data: bytes) -> bytes:
        """Read on until `data` holds at least one whole line (or the end of the file)."""
        while b"\n" not in data:
            more = self.read(FIRST_BYTES)
            if not more:
                break
            data += more
        return data

    def next_chunk(
        self, carry: bytes, size: int, buf: bytearray | None = None
    ) -> tuple[bytearray, int, bytes, bool]:
        """Read about `size` bytes after `carry`, into `buf` when one is given to reuse.

        Returns (buffer, length of its whole lines, the unfinished line left over, end of
        file reached). The buffer is read into directly: no copies of large pieces, and
        reused buffers spare the page faults of fresh memory.
        """
        if buf is None or len(buf) < len(carry) + size:
            buf = bytearray(len(carry) + size)
        buf[: len(carry)] = carry
        filled, end = len(carry), len(carry) + size
        view = memoryview(buf)
        try:
            while True:
                while filled < end:
                    got = self._readinto(view[filled:end])
                    if not got:
                        return buf, filled, b"", True
                    filled += got
                cut = buf.rfind(b"\n", 0, filled) + 1
                if cut:
                    return buf, cut, bytes(view[cut:filled]), False
                bigger = bytearray(2 * len(buf))  # a line longer than the buffer
                bigger[:filled] = view[:filled]
                view.release()
                buf, end = bigger, len(bigger)
                view = memoryview(buf)
        finally:
            view.release()

    def _readinto(self, view: memoryview) -> int:
        try:
            return self.stream.readinto(view) or 0
        except formats.READ_ERRORS as exc:
            raise VectorsError(
                f"Cannot read {self.name!r}: {exc}. Is the (compressed) file damaged or truncated?"
            ) from exc
