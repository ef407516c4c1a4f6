"""Pre-trained word vectors: read, cache, query, evaluate, and align to a vocabulary.

numpy and pyarrow only: nothing here imports Keras or JAX, so loading vectors stays cheap.
The names below load lazily (`from embedlab.vectors.formats import FORMATS` costs nothing).

    from embedlab.vectors import WordVectors, embedding_matrix

    wv = WordVectors.load("glove-6b-50d")          # or a .txt/.vec/.bin/.gz file, a folder
    wv.most_similar("king", topn=3)
    matrix, report = embedding_matrix(wv, vocabulary)
"""

from __future__ import annotations

from embedlab._lazy import lazy_names

_NAMES = {
    "FORMATS": "formats",
    "NAMED_SOURCES": "formats",
    "detect_format": "formats",
    "Correlation": "evaluate",
    "CoverageReport": "align",
    "embedding_matrix": "align",
    "LoadStats": "parsed",
    "SubwordTable": "fasttext_bin",
    "WordVectors": "wordvectors",
    "cache_root": "cache",
    "NeighborIndex": "neighbors",
}

__all__ = sorted(_NAMES)

__getattr__, __dir__ = lazy_names(__name__, _NAMES)
