"""Keras layers and factories: every embedding table in embedlab is made here."""

from embedlab.layers.embedding import check_ids, make_embedding

__all__ = ["check_ids", "make_embedding"]
