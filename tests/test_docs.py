"""The Python examples of the guides run as written, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="row-sparse steps run on JAX")
def test_the_row_sparse_example_of_big_tables_runs(tmp_path, monkeypatch):
    text = (DOCS / "big_tables.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "big_tables.md", "exec"), namespace)
    assert (tmp_path / "users.keras").exists()
    loaded = keras.saving.load_model(tmp_path / "users.keras")
    assert type(loaded).__name__ == "RowSparseModel"


def test_every_test_the_reliability_table_names_exists():
    import ast

    root = DOCS.parent
    text = (DOCS / "reliability.md").read_text(encoding="utf-8")
    named, current = [], None
    for match in re.finditer(r"`(?:(tests/[\w/]+\.py)(?:::(\w+))?|::(\w+))`", text):
        current = match.group(1) or current  # `::name` continues the file named before it
        assert current, match.group(0)
        named.append((current, match.group(2) or match.group(3)))
    assert len(named) > 30
    for path, name in named:
        assert (root / path).is_file(), path
        if name:
            tree = ast.parse((root / path).read_text(encoding="utf-8"))
            functions = {node.name for node in ast.walk(tree)
                         if isinstance(node, ast.FunctionDef)}
            assert name in functions, f"{path}::{name} is named in docs/reliability.md"
