"""Fixtures for the inspect tests: a private cache folder for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own cache root, so no test sees another's cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMBEDLAB_CACHE_DIR", str(folder))
    return folder
