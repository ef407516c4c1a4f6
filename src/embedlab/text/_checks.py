"""Argument checks shared by the text classes, with Keras-style messages."""

from __future__ import annotations

import numbers
from typing import Any

from embedlab.errors import ConfigError


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r} (of type {type(value).__name__})"


def is_integer(value: Any) -> bool:
    """True for Python and numpy integers, False for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_integer(
    name: str, value: Any, *, minimum: int, allow_none: bool = False, why: str = ""
) -> int | None:
    """Return `value` as an int if it is an integer >= minimum (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not is_integer(value) or value < minimum:
        expected = f"None or an integer >= {minimum}" if allow_none else f"an integer >= {minimum}"
        raise ConfigError(f"`{name}` must be {expected}{why}. {_received(name, value)}.")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`."""
    if value not in choices:
        shown = " or ".join(repr(choice) for choice in choices)
        raise ConfigError(f"`{name}` must be {shown}. {_received(name, value)}.")
    return value


def check_number(name: str, value: Any, *, low: float, high: float) -> float:
    """Return `value` as a float if low < value <= high."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not low < value <= high:
        raise ConfigError(
            f"`{name}` must be a number above {low:g} and at most {high:g}. "
            f"{_received(name, value)}."
        )
    return float(value)
