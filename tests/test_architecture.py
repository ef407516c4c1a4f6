"""The house keeps its shape: no import circles, no import up a floor, no Keras or JAX in the
rooms that read text and vectors, no module over 450 lines (see docs/architecture.md).

Imports are read from the source with `ast`, inside functions too: a lazy import that hides
a circle is still a circle. Only imports under `if TYPE_CHECKING:` are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "embedlab"
MAX_LINES = 450

# Floors, bottom up; a module imports only from its own floor or below. The package's
# `__init__` (the public names, loaded lazily) stands above them all.
FLOORS = {
    1: ["errors", "_backend", "_lazy", "version", "atomic", "locks", "arrayfiles"],
    2: ["text", "vectors", "data"],
    3: ["layers", "training"],
    4: ["artifacts"],
    5: ["models"],
    6: ["inspect"],
    7: ["jobs"],
    8: ["cli", "__main__"],
}
NO_KERAS_FLOOR = 3  # below this floor nothing imports Keras or JAX
FRAMEWORKS = ("keras", "jax", "jaxlib", "tensorflow", "torch")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _resolve(module: str, node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """Every module `module` imports (ours and others'), anywhere in its source."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, path)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return found


def internal_graph() -> dict[str, set[str]]:
    return {m: {t for t in imports_of(m) if t in MODULES and t != m} for m in MODULES}


def floor_of(module: str) -> int | None:
    """The floor of a module (None for the package's own `__init__`)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    for floor, rooms in FLOORS.items():
        if parts[1] in rooms:
            return floor
    raise AssertionError(f"{module} is in no floor; add its room to FLOORS and the docs")


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_module_has_a_floor():
    for module in MODULES:
        floor_of(module)


def test_no_import_circles():
    assert circles(internal_graph()) == []


def test_no_import_goes_up_a_floor():
    upward = []
    for module, targets in internal_graph().items():
        floor = floor_of(module)
        for target in targets:
            target_floor = floor_of(target)
            if target_floor is None and floor is not None:
                upward.append(f"{module} -> {target} (the package facade)")
            elif floor is not None and target_floor > floor:
                upward.append(f"{module} (floor {floor}) -> {target} (floor {target_floor})")
    assert upward == []


def test_no_keras_or_jax_below_the_layers():
    found = []
    for module in MODULES:
        floor = floor_of(module)
        if floor is None or floor >= NO_KERAS_FLOOR:
            continue
        for target in imports_of(module):
            if target.split(".")[0] in FRAMEWORKS:
                found.append(f"{module} imports {target}")
    assert found == []


def test_no_module_over_the_size_limit():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def _renames_in(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in ("replace", "rename")
               and isinstance(node.value, ast.Name) and node.value.id == "os"
               for node in ast.walk(tree))


def test_files_are_swapped_in_by_the_one_atomic_writer():
    # Every writer goes through embedlab.atomic; os.replace/os.rename live there alone.
    renamers = [m for m, p in MODULES.items()
                if _renames_in(ast.parse(p.read_text(encoding="utf-8")))]
    assert renamers == ["embedlab.atomic"]


def test_the_rename_finder_sees_os_replace():
    assert _renames_in(ast.parse("import os\ndef f(a, b):\n    os.replace(a, b)\n"))
    assert not _renames_in(ast.parse("s = 'a'.replace('a', 'b')\n"))


# The guards must be able to fail: each is tried on a small made-up graph.
def test_the_circle_finder_sees_a_circle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    from embedlab.models import base\n", {"embedlab.models.base"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import keras\n", {"typing"}),
        ("import keras.ops\n", {"keras.ops"}),
    ],
)
def test_imports_are_read_inside_functions_and_not_under_type_checking(
    tmp_path, monkeypatch, source, expected
):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "embedlab.text.probe", path)
    assert imports_of("embedlab.text.probe") == expected
