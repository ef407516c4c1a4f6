"""Public names of a package that load on first use, so importing the package is cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(package: str, names: dict[str, str]) -> tuple[Callable, Callable]:
    """(`__getattr__`, `__dir__`) for a package whose name `n` lives in the module
    `names[n]` (a full module path, or one relative to the package)."""

    def __getattr__(name: str):
        if name in names:
            module = names[name]
            target = module if "." in module else f"{package}.{module}"
            return getattr(importlib.import_module(target), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(names))

    return __getattr__, __dir__
