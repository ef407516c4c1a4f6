"""Category values of any type normalised to strings, so one value has one spelling.

The integer 42, the float 42.0 and the text "42" are one value, and an integer ID typed on
the command line is never mistaken for an unknown one. numpy and pyarrow only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.errors import DataError


def category_strings(
    values: Any, *, missing_values: Iterable[str] = (), what: str = "values"
) -> pa.Array:
    """Normalise a column of values to strings; missing values become null.

    Integers print as integers, floats that are whole numbers as integers (42.0 -> "42"),
    other floats in Arrow's shortest form, booleans as "true"/"false", text with its
    surrounding whitespace removed. Null, NaN, blank text and `missing_values` are missing.
    A Python list may mix types (they are normalised one by one).

    Args:
        values: A list, numpy array, pandas Series, or pyarrow (Chunked)Array.
        missing_values: Iterable of strings. Text that also means "missing" (e.g. "?").
        what: String. What the values are, for error messages.

    Returns:
        A pyarrow string Array of the same length.
    """
    array = _as_arrow(values, what)
    strings = _to_strings(array, what)
    blank = pc.equal(pc.utf8_length(strings), 0)
    missing = list(missing_values)
    if missing:
        blank = pc.or_(blank, pc.is_in(strings, value_set=pa.array(missing, pa.string())))
    blank = pc.fill_null(blank, False)
    return pc.if_else(blank, pa.scalar(None, pa.string()), strings)


def category_string(value: Any) -> str | None:
    """One value normalised as `category_strings` does (None when missing)."""
    return category_strings([value]).to_pylist()[0]


def _as_arrow(values: Any, what: str) -> pa.Array:
    if isinstance(values, str | bytes):
        raise DataError(
            f"{what} must be a sequence of values. Received a single "
            f"{type(values).__name__}; wrap it in a list."
        )
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    if hasattr(values, "to_numpy") and hasattr(values, "dtype"):  # pandas Series
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise DataError(
                f"{what} must be one column (1-D). Received an array of shape {values.shape}."
            )
        if values.dtype.kind != "O":
            return pa.array(values, from_pandas=True)
        values = values.tolist()
    values = list(values)
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return _mixed_to_strings(values, what)


def _mixed_to_strings(values: list, what: str) -> pa.Array:
    """A Python list of mixed types: normalise each value (floats through Arrow, as above)."""
    out: list[str | None] = [None] * len(values)
    floats: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, bool | np.bool_):
            out[i] = "true" if value else "false"
        elif isinstance(value, int | np.integer):
            out[i] = str(int(value))
        elif isinstance(value, float | np.floating):
            floats.append(i)
        elif isinstance(value, str):
            out[i] = value
        else:
            raise DataError(
                f"{what} must hold scalar values (text, numbers, booleans). Received "
                f"{value!r} (of type {type(value).__name__}) at row {i}. Flatten the column."
            )
    if floats:
        converted = _to_strings(pa.array([float(values[i]) for i in floats], pa.float64()), what)
        for i, text in zip(floats, converted.to_pylist(), strict=True):
            out[i] = text
    return pa.array(out, pa.string())


def _to_strings(array: pa.Array, what: str) -> pa.Array:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _to_strings(array.dictionary_decode(), what)
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(
        kind
    ):
        return pc.utf8_trim_whitespace(array.cast(pa.string()))
    if pa.types.is_floating(kind):
        numbers = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        valid = np.isfinite(numbers) & pc.is_valid(array).to_numpy(zero_copy_only=False)
        numbers = np.where(valid, numbers + 0.0, 0.0)  # -0.0 + 0.0 is 0.0
        whole = valid & (numbers == np.round(numbers)) & (np.abs(numbers) < 2.0**53)
        as_int = pa.array(np.where(whole, numbers, 0).astype(np.int64)).cast(pa.string())
        as_float = pa.array(numbers).cast(pa.string())
        strings = pc.if_else(pa.array(whole), as_int, as_float)
        return pc.if_else(pa.array(valid), strings, pa.scalar(None, pa.string()))
    if (
        pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    ):
        return array.cast(pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return _to_strings(array.cast(pa.string()), what)
        except pa.ArrowInvalid:
            raise DataError(
                f"{what} must be text, numbers or booleans. Received bytes that are not UTF-8. "
                "Re-save the data as UTF-8."
            ) from None
    raise DataError(
        f"{what} must be text, numbers or booleans. Received the type {kind}. "
        "Pass a column of scalar values."
    )
