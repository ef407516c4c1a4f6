"""Reading learned embeddings back out: neighbours, 2-D maps, exports and the HTML report.

Nothing here imports Keras at module level; reading a bundle's tables loads its model.

    from embedlab.inspect import load_table, embedding_map, save_map, export_vectors
"""

from __future__ import annotations

import importlib

_NAMES = {
    "EmbeddingTable": "tables",
    "bundle_tables": "tables",
    "load_table": "tables",
    "table_names": "tables",
    "with_item_table": "tables",
    "neighbour_rows": "lookup",
    "probe_keys": "lookup",
    "write_report": "report",
    "export_vectors": "export",
    "EXPORT_FORMATS": "export",
    "embedding_map": "maps",
    "plot_map": "maps",
    "save_map": "maps",
    "project": "maps",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(f"embedlab.inspect.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'embedlab.inspect' has no attribute {name!r}")
