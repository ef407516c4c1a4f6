"""Pre-trained word vectors: read, cache, query, evaluate, and align to a vocabulary.

numpy and pyarrow only: nothing here imports Keras or JAX, so loading vectors stays cheap.

    from embedlab.vectors import WordVectors, embedding_matrix

    wv = WordVectors.load("glove-6b-50d")          # or a .txt/.vec/.bin/.gz file, a folder
    wv.most_similar("king", topn=3)
    matrix, report = embedding_matrix(wv, vocabulary)
"""

from embedlab.vectors.align import CoverageReport, embedding_matrix
from embedlab.vectors.cache import cache_root
from embedlab.vectors.evaluate import Correlation
from embedlab.vectors.fasttext_bin import SubwordTable
from embedlab.vectors.formats import FORMATS, NAMED_SOURCES, detect_format
from embedlab.vectors.parsed import LoadStats
from embedlab.vectors.wordvectors import WordVectors

__all__ = [
    "FORMATS",
    "NAMED_SOURCES",
    "Correlation",
    "CoverageReport",
    "LoadStats",
    "SubwordTable",
    "WordVectors",
    "cache_root",
    "detect_format",
    "embedding_matrix",
]
