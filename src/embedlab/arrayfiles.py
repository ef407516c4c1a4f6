"""Reading `.npy` and `.npz` files that may be damaged or hostile, in bounded memory.

A file's header may claim any shape. Before anything is allocated, the claim is checked
against the bytes that really hold it: the rest of an `.npy` file, or the stored member of
an `.npz` archive (whose uncompressed size is itself checked against what its compressed
bytes can give). Object arrays are refused (never unpickled). Every failure is an
`ArrayFileError`, a ValueError whose message says what was expected and what was found;
callers name the file and say what to do.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

MAX_HEADER_BYTES = 1 << 16  # numpy writes a few hundred; it refuses over 10,000 unless told
MAX_DEFLATE_RATIO = 1100  # deflate expands at most ~1032 times; a larger claim is a lie
_LOW_LEVEL = (OSError, ValueError, EOFError, SyntaxError, TypeError, OverflowError,
              struct.error, zlib.error, zipfile.BadZipFile, RuntimeError,
              MemoryError)


class ArrayFileError(ValueError):
    """An `.npy` or `.npz` file that cannot be read as the arrays it claims to hold."""


def _header(handle, room: int) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from an .npy header, checked against `room` bytes."""
    try:
        version = npformat.read_magic(handle)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ArrayFileError(f"expected .npy format version 1, 2 or 3, found {version}")
        width = 2 if version == (1, 0) else 4
        length_bytes = handle.read(width)
        length = int.from_bytes(length_bytes, "little")
        if len(length_bytes) < width or length > min(room, MAX_HEADER_BYTES):
            raise ArrayFileError(
                f"expected an .npy header of at most {MAX_HEADER_BYTES:,} bytes, found one "
                f"that claims {length:,} in a {room:,}-byte file"
            )
        header = io.BytesIO(npformat.magic(*version) + length_bytes + handle.read(length))
        npformat.read_magic(header)
        read = npformat.read_array_header_1_0 if width == 2 else npformat.read_array_header_2_0
        shape, fortran, dtype = read(header)
        used = header.tell()
    except ArrayFileError:
        raise
    except Exception as exc:  # numpy's header parser raises a wide range of errors
        raise ArrayFileError(f"expected an .npy header, found one that fails with {exc!r}"
                             ) from None
    if dtype.hasobject:
        raise ArrayFileError("expected an array of numbers or text, found an object array "
                             "(which would need unpickling; refused)")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ArrayFileError(f"expected a shape of non-negative sizes, found {shape}")
    if int(np.prod([max(n, 1) for n in shape], dtype=object)) * dtype.itemsize >= 1 << 62:
        raise ArrayFileError(f"expected a shape that fits in memory, found {shape}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    data = room - used
    if nbytes > data:
        raise ArrayFileError(
            f"the header claims a {dtype} array of shape {shape} ({nbytes:,} bytes), but only "
            f"{max(0, data):,} bytes of data follow it (truncated or damaged)"
        )
    return shape, fortran, dtype


def npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """The (shape, dtype) of an .npy file, checked against the file's size."""
    try:
        with open(path, "rb") as handle:
            shape, _, dtype = _header(handle, os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        raise ArrayFileError(f"cannot read it ({exc.strerror or exc})") from None
    return shape, dtype


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """The array of an .npy file, read whole."""
    try:
        with open(path, "rb") as handle:
            shape, fortran, dtype = _header(handle, os.fstat(handle.fileno()).st_size)
            count = int(np.prod(shape, dtype=object))
            array = np.fromfile(handle, dtype=dtype, count=count)
    except ArrayFileError:
        raise
    except _LOW_LEVEL as exc:
        raise ArrayFileError(f"cannot read it ({type(exc).__name__}: {exc})") from None
    if array.size != count:
        raise ArrayFileError(f"expected {count} values, found {array.size} (truncated)")
    return array.reshape(shape, order="F" if fortran else "C")


def read_npz(path: str | os.PathLike, keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """Named arrays of an .npz archive (all of them when `keys` is None)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            names = [n[:-4] for n in members if n.endswith(".npy")]
            result = {}
            for key in names if keys is None else keys:
                info = members.get(f"{key}.npy")
                if info is None:
                    shown = ", ".join(repr(n) for n in names[:10]) or "none"
                    raise ArrayFileError(f"expected an array {key!r}, found only {shown}")
                result[key] = _member(archive, info, size)
            return result
    except ArrayFileError:
        raise
    except _LOW_LEVEL as exc:
        raise ArrayFileError(f"cannot read it ({type(exc).__name__}: {exc})") from None


def check_member(info: zipfile.ZipInfo, size: int) -> None:
    """Refuse a zip member whose stated sizes a `size`-byte archive cannot hold (zipfile
    allocates a read buffer of the stated size before reading)."""
    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
    if (info.header_offset + info.compress_size > size
            or info.file_size > ratio * info.compress_size + 1024):
        raise ArrayFileError(
            f"the archive says its member {info.filename!r} holds {info.file_size:,} bytes "
            f"({info.compress_size:,} stored), which a {size:,}-byte file cannot hold"
        )


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> np.ndarray:
    check_member(info, size)
    with archive.open(info) as member:
        shape, fortran, dtype = _header(member, info.file_size)
        count = int(np.prod(shape, dtype=object))
        nbytes = count * dtype.itemsize
        data = bytearray()
        while len(data) < nbytes:  # grows with the bytes really read, never the claim
            piece = member.read(min(nbytes - len(data), 1 << 20))
            if not piece:
                raise ArrayFileError(f"{info.filename!r} ends after {len(data):,} of its "
                                     f"{nbytes:,} bytes (truncated)")
            data += piece
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")
