"""Text columns: accepting the usual containers, raw buffer views, slicing for threads."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from embedlab.errors import DataError

# Work is cut into slices of at least this many texts (smaller ones are not worth a thread)
# and at most this many (so memory stays bounded on large inputs).
MIN_CHUNK = 2048
MAX_CHUNK = 32768
CHUNKS_PER_THREAD = 4

T = TypeVar("T")


def string_offsets(strings: pa.Array) -> np.ndarray:
    """The offsets of a string array as int64 numpy values (slice offset applied)."""
    buffers = strings.buffers()
    wide = pa.types.is_large_string(strings.type) or pa.types.is_large_binary(strings.type)
    dtype = np.int64 if wide else np.int32
    if len(strings) == 0 or buffers[1] is None:
        return np.zeros(1, dtype=np.int64)
    width = np.dtype(dtype).itemsize
    offsets = np.frombuffer(
        buffers[1], dtype=dtype, count=len(strings) + 1, offset=strings.offset * width
    )
    return offsets.astype(np.int64)


def string_bytes(strings: pa.Array) -> np.ndarray:
    """The UTF-8 bytes that a string array's slots cover, as one uint8 numpy view."""
    offsets = string_offsets(strings)
    data = strings.buffers()[2]
    if data is None or offsets[-1] == offsets[0]:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def as_text_array(texts: Any) -> pa.ChunkedArray:
    """Accept the usual text containers and return a string ChunkedArray."""
    if isinstance(texts, (str, bytes)):
        raise DataError(
            f"Expected a sequence of texts, received a single {type(texts).__name__} "
            f"({_preview(texts)}). Wrap it in a list: [text]."
        )
    if isinstance(texts, pa.ChunkedArray):
        arr = texts
    elif isinstance(texts, pa.Array):
        arr = pa.chunked_array([texts], type=texts.type)
    elif isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise DataError(
                f"Expected a 1-D array of texts, received an array of shape {texts.shape}. "
                f"Pass one column, e.g. array[:, 0] or array.ravel()."
            )
        arr = pa.chunked_array([_from_python(texts, from_pandas=True)])
    else:
        try:
            arr = pa.chunked_array([_from_python(texts, from_pandas=True)])
        except TypeError as exc:
            raise DataError(
                f"Expected a list, numpy array or pyarrow array of texts, received "
                f"{type(texts).__name__}. Pass the texts as a list of strings."
            ) from exc
    if pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
        return arr.cast(pa.large_string()) if pa.types.is_string_view(arr.type) else arr
    if pa.types.is_dictionary(arr.type) and pa.types.is_string(arr.type.value_type):
        return arr.cast(pa.string())
    raise DataError(
        f"Expected texts as strings, received a column of type {arr.type}. "
        f"Pick a text column or cast it to string first."
    )


def _from_python(values: Any, *, from_pandas: bool) -> pa.Array:
    if hasattr(values, "__arrow_array__"):
        return pa.array(values)
    if not isinstance(values, (list, tuple, np.ndarray)):
        if hasattr(values, "to_numpy"):  # a pandas Series or Index
            values = values.to_numpy(dtype=object)
        elif isinstance(values, Iterable):
            values = list(values)
        else:
            raise TypeError(type(values).__name__)
    try:
        return pa.array(values, type=pa.string(), from_pandas=from_pandas)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        for position, value in enumerate(values):
            if value is not None and not isinstance(value, str):
                if isinstance(value, float) and math.isnan(value):
                    continue
                raise DataError(
                    f"Expected a str or None at every position, received "
                    f"{type(value).__name__} {_preview(value)} at position {position}. "
                    f"Convert the texts to str first."
                ) from exc
        raise DataError(f"Could not read the texts as strings ({exc}). Pass str values.") from exc


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def thread_count() -> int:
    """Threads used for text work: Arrow's CPU count (change it with pyarrow.set_cpu_count)."""
    return max(1, pa.cpu_count())


def text_chunks(texts: pa.ChunkedArray, *, threads: int | None = None) -> list[pa.Array]:
    """Cut a column into zero-copy slices sized so each thread gets a few of them."""
    threads = thread_count() if threads is None else threads
    total = len(texts)
    size = math.ceil(total / (threads * CHUNKS_PER_THREAD)) if total else 1
    size = min(max(size, MIN_CHUNK), MAX_CHUNK)
    pieces = []
    for chunk in texts.chunks:
        for start in range(0, len(chunk), size):
            pieces.append(chunk.slice(start, size))
    return pieces


def map_chunks(function: Callable[[Any], T], chunks: list[Any]) -> list[T]:
    """Apply `function` to every chunk, on a thread pool when there is more than one."""
    threads = min(thread_count(), len(chunks))
    if threads <= 1:
        return [function(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embedlab-text") as pool:
        return list(pool.map(function, chunks))
