"""Reading learned embeddings back out: neighbors, 2-D maps, exports and the HTML report.

Nothing here imports Keras: a bundle's tables are read straight from its files.

    from embedlab.inspect import load_table, embedding_map, save_map, export_vectors
"""

from __future__ import annotations

from embedlab._lazy import lazy_names

_NAMES = {
    "EmbeddingTable": "tables",
    "bundle_tables": "tables",
    "load_table": "tables",
    "table_names": "tables",
    "with_item_table": "tables",
    "neighbor_rows": "lookup",
    "similar_entries": "lookup",
    "probe_keys": "lookup",
    "write_report": "report",
    "export_vectors": "export",
    "EXPORT_FORMATS": "formats",
    "embedding_map": "maps",
    "plot_map": "maps",
    "save_map": "maps",
    "project": "maps",
}

__all__ = sorted(_NAMES)

__getattr__, __dir__ = lazy_names(__name__, _NAMES)
