"""Keras layers and factories: every embedding table in embedlab is made here.

`SparseEmbedding` (a table trained row-sparsely, `embedlab.layers.sparse_embedding`) imports
Keras, so it is imported from its module: `from embedlab.layers.sparse_embedding import
SparseEmbedding`.
"""

from embedlab.layers.embedding import SPARSE_FROM_ROWS, check_ids, make_embedding, use_sparse

__all__ = ["SPARSE_FROM_ROWS", "check_ids", "make_embedding", "use_sparse"]
