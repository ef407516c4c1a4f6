"""Nearest neighbors of word vectors by cosine, for many queries at once: exact and
batched (`embedlab.vectors.exact_search`, lists identical to gensim's), or approximate
through a cached usearch HNSW index (`embedlab.vectors.hnsw`), its hits rescored exactly.

Scores: cosine similarity. A zero-norm row scores 0 against every query (never NaN,
unlike gensim's 0/0); a zero query vector scores 0 against every row, and then the
first rows in table order are its neighbors.

numpy, pyarrow and usearch only: nothing here imports Keras or JAX.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors.exact_search import ExactSearch
from embedlab.vectors.hnsw import ApproximateSearch

if TYPE_CHECKING:
    from embedlab.vectors.wordvectors import WordVectors

logger = logging.getLogger(__name__)

METHODS = ("auto", "exact", "approximate")
# "auto" turns approximate from this many rows. Measured here (2 cores): exact search costs
# about 1 s per 1,000 queries on 400,000 x 50 and grows with rows x dim, so a 2,000,000 x 300
# table takes ~30 s per 1,000 queries; its HNSW index is built once (minutes, cached) and
# answers 1,000 queries in well under a second. Below this size exact is fast enough and
# needs no build.
AUTO_APPROXIMATE_ROWS = 2_000_000


class UnknownKeyError(VectorsError, KeyError):
    """A query word is not in the vectors."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NeighborIndex(ApproximateSearch):
    """Nearest rows of a vector table by cosine similarity, for many queries at once.

    Example:

    >>> index = NeighborIndex(WordVectors.load("glove-6b-50d"))
    >>> [w for w, _ in index.nearest(["king"], k=3)[0]]
    ['prince', 'queen', 'ii']

    Args:
        vectors: WordVectors, or a float array (rows, dim). The table to search.
        keys: Optional sequence of strings, one per row, when `vectors` is an array.
        method: String. "exact", "approximate" (usearch HNSW), or "auto": exact below
            `AUTO_APPROXIMATE_ROWS` rows, approximate from there on.
        connectivity: Integer. HNSW edges per node (usearch's `connectivity`).
        expansion_add: Integer. HNSW candidate list while building.
        expansion_search: Integer. HNSW candidate list while searching (at least k + 1).
            The defaults, measured on GloVe 6B 50d (2 cores): recall@10 0.969 and 1,000
            queries in 0.11-0.12 s of search (expansion_search 16: 0.975 in 0.13-0.17 s;
            connectivity 16: 0.931, or 0.967 with expansion_search 32 in 0.16-0.18 s).
            The build takes 2-5 minutes there, once.
        cache: Boolean. Keep the HNSW index in a file and load it next time.
        cache_dir: Optional path. Where index files go when the vectors have no cache
            entry; default `cache_root()/ann`.
    """

    def __init__(
        self,
        vectors: WordVectors | np.ndarray,
        *,
        keys: Sequence[str] | None = None,
        method: str = "auto",
        connectivity: int = 32,
        expansion_add: int = 128,
        expansion_search: int = 12,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        if method not in METHODS:
            raise ConfigError(
                f"`method` must be one of {', '.join(METHODS)}. Received: method={method!r}."
            )
        for name, value, low in [
            ("connectivity", connectivity, 2),
            ("expansion_add", expansion_add, 1),
            ("expansion_search", expansion_search, 1),
        ]:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigError(
                    f"`{name}` must be an integer >= {low}. Received: {name}={value!r}."
                )
        self.wordvectors = None
        if _is_wordvectors(vectors):
            if keys is not None:
                raise ConfigError("Pass `keys` only with an array; WordVectors have their words.")
            self.wordvectors = vectors
            matrix = vectors.vectors
        else:
            matrix = vectors
        if not isinstance(matrix, np.ndarray):
            matrix = np.asarray(matrix)
        if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.floating):
            raise VectorsError(
                f"The vectors must be a 2-D float array (rows, dim). Received: "
                f"{matrix.dtype} array of shape {matrix.shape}. Pass a matrix or WordVectors."
            )
        if keys is not None and len(keys) != len(matrix):
            raise ConfigError(
                f"`keys` must hold one word per row ({len(matrix)} rows). Received: "
                f"{len(keys)} keys."
            )
        self.vectors = matrix
        self.keys = list(keys) if keys is not None else None
        self.requested_method = method
        self.connectivity = int(connectivity)
        self.expansion_add = int(expansion_add)
        self.expansion_search = int(expansion_search)
        self.cache = cache
        self.cache_dir = cache_dir
        self.method = method if method != "auto" else _auto_method(len(matrix))
        self.cache_file: Path | None = None
        self.cache_state = "not built"
        self.build_seconds = 0.0
        self._key_to_index: dict[str, int] | None = None
        self.exact = ExactSearch(matrix, lambda row: self._names(np.array([row]))[0])
        self._hnsw = None
        self._meta: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    # -- public queries ------------------------------------------------------------------

    def nearest(
        self, keys: str | int | np.ndarray | Sequence[str | int | np.ndarray], k: int = 10
    ) -> list[list[tuple[str | int, float]]]:
        """The `k` nearest words of each key, best first, as (word, cosine) pairs.

        A word (or row number) leaves itself out of its list, as gensim's most_similar; a
        vector (1-D, or the rows of a 2-D array) leaves nothing out. One list per query,
        also for a single key; shorter than `k` when the table is. Without words (an
        array and no `keys`), rows are named by their numbers.
        """
        queries, exclude = self.query_vectors(keys)
        rows, scores = self.search(queries, k, exclude=exclude)
        found = rows >= 0
        names = iter(self._names(rows[found]))
        values = iter(scores[found].tolist())
        return [[(next(names), next(values)) for _ in range(n)] for n in found.sum(1).tolist()]

    def search(
        self, queries: np.ndarray, k: int = 10, *, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best rows of each query vector: (rows int64, cosines float32), (q, k).

        Args:
            queries: Float array (q, dim) or (dim,). Query vectors, any length.
            k: Integer. Neighbours per query; a table of fewer rows gives fewer.
            exclude: Optional integer array (q,). A row to leave out per query (-1: none).

        Missing places (k beyond the table) hold row -1 and score -inf.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}.")
        queries = self._unit_queries(queries)
        if exclude is None:
            exclude = np.full(len(queries), -1, dtype=np.int64)
        exclude = np.asarray(exclude, dtype=np.int64).reshape(-1)
        if exclude.shape != (len(queries),):
            raise ConfigError(
                f"`exclude` must hold one row per query ({len(queries)}). Received: "
                f"shape={exclude.shape}."
            )
        width = min(int(k), len(self))
        rows = np.full((len(queries), width), -1, dtype=np.int64)
        scores = np.full((len(queries), width), -np.inf, dtype=np.float32)
        if width == 0 or len(queries) == 0:
            return rows, scores
        wanted = min(int(k) + int((exclude >= 0).any()), len(self))
        if self._use_approximate(len(queries)):
            found = self._approximate(queries, wanted)
            return self.exact.rank(found, queries, exclude, width)
        return self.exact.search(queries, exclude, width, wanted)

    def query_vectors(
        self, keys: str | int | np.ndarray | Sequence[str | int | np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query vectors (q, dim) float32, the row each leaves out or -1) for `keys`.

        A word's query is its unit vector; unknown words raise UnknownKeyError, except
        in fastText vectors with subwords, which give them a vector from their n-grams.
        """
        if isinstance(keys, np.ndarray) and keys.dtype.kind == "f":
            matrix = keys.reshape(1, -1) if keys.ndim == 1 else keys
            return self._as_query_matrix(matrix), np.full(len(matrix), -1, dtype=np.int64)
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
            keys = keys.reshape(-1).tolist()
        if isinstance(keys, (str, int, np.integer, np.ndarray)):
            keys = [keys]
        queries = np.empty((len(keys), self.dim), dtype=np.float32)
        exclude = np.full(len(keys), -1, dtype=np.int64)
        for i, key in enumerate(keys):
            if isinstance(key, np.ndarray):
                queries[i] = self._as_query_matrix(key.reshape(1, -1))[0]
                continue
            row = self._row_of(key)
            if row is None:
                queries[i] = self._oov_vector(key)
            else:
                exclude[i] = row
        words = np.flatnonzero(exclude >= 0)
        if len(words):
            # as gensim's get_vector(norm=True): a float32 division by the float32 norm
            rows = exclude[words]
            norms = self.exact.norms()[rows, None]
            vectors = np.asarray(self.vectors[rows], dtype=np.float32)
            queries[words] = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return queries, exclude


    # -- keys ----------------------------------------------------------------------------

    def _row_of(self, key: str | int) -> int | None:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if 0 <= key < len(self):
                return int(key)
            raise UnknownKeyError(
                f"A row number must lie in [0, {len(self)}). Received: {key}. Pass a row "
                f"of the table or a word."
            )
        if not isinstance(key, str):
            raise ConfigError(
                f"A query must be a word, a row number or a vector. Received: "
                f"{type(key).__name__} {key!r}."
            )
        if self.wordvectors is not None:
            return self.wordvectors.get_index(key)
        if self.keys is None:
            raise ConfigError(
                f"These vectors have no words, so {key!r} cannot be looked up. Pass `keys` "
                f"with the matrix, or query by row number or vector."
            )
        if self._key_to_index is None:
            self._key_to_index = {word: i for i, word in enumerate(self.keys)}
        return self._key_to_index.get(key)

    def _oov_vector(self, key: str) -> np.ndarray:
        wv = self.wordvectors
        if wv is not None and wv.has_subwords:
            with contextlib.suppress(KeyError):
                return self._as_query_matrix(wv.get_vector(key).reshape(1, -1))[0]
        raise UnknownKeyError(
            f"Expected words present in the vectors ({len(self):,} words). Received: {key!r}, "
            f"which is not one of them. Check its spelling and case, or query by vector."
        )

    def _names(self, rows: np.ndarray) -> list:
        if self.wordvectors is not None:
            words = self.wordvectors.words
            return words.take(pa.array(rows, type=pa.int64())).to_pylist()
        if self.keys is not None:
            return [self.keys[int(i)] for i in rows]
        return [int(i) for i in rows]

    def _as_query_matrix(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise VectorsError(
                f"Query vectors must have {self.dim} values each. Received: shape "
                f"{matrix.shape}. Pass vectors of the table's dimension."
            )
        if not np.isfinite(matrix).all():
            raise VectorsError(
                "Query vectors must be finite. Received: NaN or inf. Replace them first."
            )
        return np.asarray(matrix, dtype=np.float32)

    def _unit_queries(self, queries: np.ndarray) -> np.ndarray:
        """Unit query vectors as gensim's most_similar makes them (normalised in float64)."""
        queries = np.asarray(queries)
        matrix = self._as_query_matrix(queries.reshape(1, -1) if queries.ndim == 1 else queries)
        wide = matrix.astype(np.float64)
        lengths = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
        unit = (wide * scale[:, None]).astype(np.float32)
        unit[lengths == 0] = matrix[lengths == 0]
        return np.ascontiguousarray(unit)


def nearest(
    vectors: WordVectors | np.ndarray,
    keys: str | int | np.ndarray | Sequence[str | int | np.ndarray],
    k: int = 10,
    *,
    method: str = "auto",
    **options: Any,
) -> list[list[tuple[str | int, float]]]:
    """The `k` nearest words of each key, best first: one list of (word, cosine) per key.

    The index behind it is kept with WordVectors, so later calls reuse it (and its unit
    rows). See `NeighborIndex` for `method` and the HNSW `options`.
    """
    return index_for(vectors, method=method, **options).nearest(keys, k)


def index_for(vectors: WordVectors | np.ndarray, **options: Any) -> NeighborIndex:
    """A NeighborIndex over `vectors`; for WordVectors, one kept on the object and reused."""
    if not _is_wordvectors(vectors):
        return NeighborIndex(vectors, **options)
    kept = vectors.__dict__.setdefault("_neighbor_indexes", {})
    name = json.dumps(options, sort_keys=True, default=str)
    if name not in kept:
        kept[name] = NeighborIndex(vectors, **options)
    return kept[name]


def _auto_method(rows: int) -> str:
    if rows < AUTO_APPROXIMATE_ROWS:
        return "exact"
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        logger.warning("usearch is missing, so %d rows are searched exactly (slowly).", rows)
        return "exact"
    return "approximate"



def _is_wordvectors(value: Any) -> bool:
    """Word vectors (a WordVectors, or any object with `vectors`, `words` and
    `get_index`) rather than a bare matrix."""
    return all(hasattr(value, name) for name in ("vectors", "words", "get_index"))
