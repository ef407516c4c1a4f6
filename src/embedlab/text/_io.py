"""Small helpers shared by the text readers."""

from __future__ import annotations


def line_of_offset(data: bytes, offset: int) -> int:
    """The 1-based line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1
