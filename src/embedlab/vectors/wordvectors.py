"""`WordVectors`: pre-trained word vectors with the names gensim users know."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors import formats
from embedlab.vectors.loader import load_source
from embedlab.vectors.parsed import LoadStats, Progress

if TYPE_CHECKING:
    from embedlab.vectors.evaluate import Correlation
    from embedlab.vectors.fasttext_bin import SubwordTable

_INDEX_AFTER = 64  # single-word lookups scan the Arrow words; past this many, build a dict


class WordVectors:
    """Word vectors: a float32 matrix and its row-aligned words.

    Reads GloVe, word2vec (text and binary), fastText (.vec and .bin, with subword
    vectors for unknown words) and npy folders; see `FORMATS`. Loading a file writes a
    binary cache that later loads memory-map. The names follow gensim's KeyedVectors.

    Example:

    >>> wv = WordVectors.load("glove-6b-50d")
    >>> [w for w, _ in wv.most_similar("king", topn=3)]
    ['prince', 'queen', 'ii']

    Args:
        index_to_key: Sequence of strings (or an Arrow string array). The words, in row order.
        vectors: Float array (words, dim). The vectors; stored as float32.
        source: Optional string. Where the vectors came from, for reports.
        format: Optional string. The format they were read in.
        load_stats: Optional LoadStats. What loading met (skipped lines, duplicates...).
        subwords: Optional SubwordTable. fastText n-grams, for vectors of unknown words.
        cache_path: Optional path. The cache entry the vectors were read from or written to.
        cache_state: String. What the cache did: "created", "reused", "disabled"...
        counts: Optional integer array, one per word. How often each word was seen (a learned
            table's training frequencies); None when unknown, as for most vector files, whose
            rows are conventionally in frequency order already.
    """

    def __init__(
        self,
        index_to_key: Sequence[str] | pa.Array,
        vectors: np.ndarray,
        *,
        source: str | None = None,
        format: str | None = None,
        load_stats: LoadStats | None = None,
        subwords: SubwordTable | None = None,
        cache_path: Path | None = None,
        cache_state: str = "disabled",
        counts: np.ndarray | Sequence[int] | None = None,
    ):
        if isinstance(index_to_key, (pa.Array, pa.ChunkedArray)):
            words = index_to_key
        else:
            words = pa.array(list(index_to_key), type=pa.string())
        if isinstance(words, pa.ChunkedArray):
            words = words.combine_chunks()
        if not (pa.types.is_string(words.type) or pa.types.is_large_string(words.type)):
            raise ConfigError(f"`index_to_key` must hold strings. Received: {words.type}.")
        if words.null_count:
            raise ConfigError("`index_to_key` must not hold None.")
        vectors = np.asarray(vectors)
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise VectorsError(
                f"`vectors` must be a 2-D array with one row per word ({len(words)} words). "
                f"Received: shape={vectors.shape}."
            )
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise VectorsError(
                    f"`counts` must hold one count per word ({len(words)} words). "
                    f"Received: shape={counts.shape}."
                )
        self._words = words
        self.vectors = vectors
        self.counts = counts
        self.source = source
        self.format = format
        self.load_stats = load_stats or LoadStats(lines=len(words), words=len(words))
        self.subwords = subwords
        self.cache_path = cache_path
        self.cache_state = cache_state
        self._index_to_key: list[str] | None = None
        self._key_to_index: dict[str, int] | None = None
        self._norms: np.ndarray | None = None
        self._probes = 0
        if load_stats is None and len(words.unique()) != len(words):
            raise VectorsError("`index_to_key` holds duplicate words; each word must be unique.")

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        format: str | None = None,
        limit: int | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
        on_bad_line: str = "error",
        on_nonfinite: str = "error",
        progress: Progress | None = None,
        verify: bool = False,
    ) -> WordVectors:
        """Read vectors from a file, a folder, or a known name such as ``glove-6b-50d``.

        Args:
            path: String or path. The vectors; gzip, bz2 and xz text files are read too.
            format: Optional string. One of `FORMATS`; detected from the content if None.
            limit: Optional integer. Read only the first `limit` words.
            cache: Boolean. Write a binary cache on first load and memory-map it afterwards.
            cache_dir: Optional path. Cache root; default $EMBEDLAB_CACHE_DIR, else
                $XDG_CACHE_HOME/embedlab, else ~/.cache/embedlab.
            on_bad_line: String. "error" (default) or "skip" (skip and count) for lines with
                the wrong number of values or a value that is not a number.
            on_nonfinite: String. "error" (default), "skip" or "zero" for NaN/inf rows.
            progress: Optional callable (bytes done, bytes in all), called while reading.
            verify: Boolean. Check a cached entry's whole matrix against its CRC-32 (a
                reload otherwise checks its structure and sampled pieces; see
                `embedlab.vectors.cache`); a mismatch rebuilds the entry from the source.
        """
        loaded = load_source(
            path,
            format=format,
            limit=limit,
            cache=cache,
            cache_dir=cache_dir,
            on_bad_line=on_bad_line,
            on_nonfinite=on_nonfinite,
            progress=progress,
            verify=verify,
        )
        parsed = loaded.parsed
        return cls(
            parsed.words,
            parsed.matrix,
            source=loaded.display,
            format=loaded.format,
            load_stats=parsed.stats,
            subwords=parsed.subwords,
            cache_path=loaded.cache_path,
            cache_state=loaded.cache_state,
        )

    # -- the gensim names -------------------------------------------------------------

    @property
    def words(self) -> pa.Array:
        """The words as an Arrow string array (cheap: no Python objects)."""
        return self._words

    @property
    def index_to_key(self) -> list[str]:
        """The words in row order, as a list (built on first use)."""
        if self._index_to_key is None:
            self._index_to_key = self._words.to_pylist()
        return self._index_to_key

    @property
    def key_to_index(self) -> dict[str, int]:
        """Word -> row, as a dict (built on first use)."""
        if self._key_to_index is None:
            self._key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        return self._key_to_index

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def has_subwords(self) -> bool:
        """Whether unknown words get vectors from fastText n-grams."""
        return self.subwords is not None and self.subwords.usable

    @property
    def norms(self) -> np.ndarray:
        """The L2 norm of every row (float32, computed on first use)."""
        if self._norms is None:
            norms = np.empty(len(self), dtype=np.float32)
            for start in range(0, len(self), 1 << 16):
                block = np.asarray(self.vectors[start : start + (1 << 16)], dtype=np.float32)
                norms[start : start + len(block)] = np.sqrt(
                    np.einsum("ij,ij->i", block, block, dtype=np.float64)
                )
            self._norms = norms
        return self._norms

    def __len__(self) -> int:
        return len(self._words)

    def frequency_order(self) -> np.ndarray:
        """Row numbers, most frequent first: by `counts` (ties in row order), or the rows
        as they are when counts are unknown (vector files list frequent words first)."""
        if self.counts is None:
            return np.arange(len(self))
        return np.argsort(-self.counts, kind="stable")

    def __contains__(self, key: object) -> bool:
        """Whether `key` is one of the words (fastText n-grams do not count)."""
        return isinstance(key, str) and self.get_index(key) is not None

    def __getitem__(self, key: str | int | Sequence[str]) -> np.ndarray:
        if isinstance(key, (str, int, np.integer)):
            return self.get_vector(key)
        return np.vstack([self.get_vector(k) for k in key])

    def __repr__(self) -> str:
        return (
            f"WordVectors({len(self)} words x {self.vector_size}, format={self.format!r}, "
            f"source={self.source!r})"
        )

    def get_index(self, key: str | int, default: int | None = None) -> int | None:
        """The row of `key` (a word, or a row number), or `default` when it is absent."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return int(key) if 0 <= key < len(self) else default
        if not isinstance(key, str):
            return default
        if self._key_to_index is None:
            self._probes += 1
            if self._probes <= _INDEX_AFTER:
                # A scan of the Arrow words: no dict to build, so a fresh load stays cheap.
                import pyarrow.compute as pc

                found = pc.index(self._words, pa.scalar(key, self._words.type)).as_py()
                return default if found < 0 else found
        return self.key_to_index.get(key, default)

    def get_vector(self, key: str | int, norm: bool = False) -> np.ndarray:
        """The vector of `key`; unit length when `norm`. Unknown words raise KeyError,
        except with fastText subwords, which give them a vector from their n-grams."""
        index = self.get_index(key)
        if index is None:
            vector = self._subword_vector(key)
            if norm:
                length = float(np.linalg.norm(vector))
                return vector / length if length > 0 else vector
            return vector
        vector = self.vectors[index]
        if norm:
            length = self.norms[index]
            return vector / length if length > 0 else np.zeros_like(vector)
        return vector

    def _subword_vector(self, key: str | int) -> np.ndarray:
        if isinstance(key, str) and self.has_subwords:
            vectors, counts = self.subwords.vectors_for([key])
            if counts[0] > 0:
                return vectors[0]
        hint = "" if self.subwords is None else " (and it has no character n-grams to use)"
        raise KeyError(f"Key {key!r} not present in the vectors{hint}.")

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def most_similar(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The words nearest by cosine to the mean of `positive` minus `negative`.

        As gensim: each word's unit vector is weighted +1 (positive) or -1 (negative), the
        input words are left out of the result, and ``topn=None`` returns all similarities.
        """
        items = [(k, 1.0) for k in _as_list(positive)] + [(k, -1.0) for k in _as_list(negative)]
        if not items:
            raise ValueError("Cannot compute similarity with no input. Pass `positive` words.")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        exclude: set[int] = set()
        for key, weight in items:
            if isinstance(key, np.ndarray):
                mean += weight * key.astype(np.float32)
                continue
            index = self.get_index(key)
            if index is not None:
                exclude.add(index)
            mean += weight * self.get_vector(key, norm=True)
        length = float(np.linalg.norm(mean))
        if length > 0:
            mean /= length
        limit = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        norms = self.norms[:limit]
        safe = np.where(norms > 0, norms, np.inf).astype(np.float32)
        dists = (np.asarray(self.vectors[:limit]) @ mean) / safe
        if topn is None:
            return dists
        k = min(limit, topn + len(exclude))
        if k <= 0:
            return []
        best = np.argpartition(-dists, k - 1)[:k]
        best = best[np.argsort(-dists[best], kind="stable")]
        keys = self._words
        result = [(keys[int(i)].as_py(), float(dists[i])) for i in best if int(i) not in exclude]
        return result[:topn]

    def neighbors(
        self,
        keys: str | int | np.ndarray | Sequence[str | int | np.ndarray],
        topn: int = 10,
        *,
        method: str = "auto",
    ) -> list[list[tuple[str, float]]]:
        """The `topn` nearest words of many keys at once: one list per key, best first.

        Words leave themselves out, as in `most_similar`; vectors may be queried too.
        `method`: "exact", "approximate" (a cached HNSW index) or "auto" (exact below
        2,000,000 words; above, the index once it is cached or for 1,000 queries or more).
        See `embedlab.vectors.neighbors`.
        """
        from embedlab.vectors.neighbors import nearest

        return nearest(self, keys, topn, method=method)

    def evaluate_word_pairs(
        self,
        pairs: str | os.PathLike,
        delimiter: str = "\t",
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ) -> tuple[Correlation, Correlation, float]:
        """(pearson, spearman, oov ratio in %) against human similarity scores, as gensim."""
        from embedlab.vectors import evaluate

        return evaluate.evaluate_word_pairs(
            self,
            pairs,
            delimiter=delimiter,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
        )

    def evaluate_word_analogies(
        self,
        analogies: str | os.PathLike,
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ) -> tuple[float, list[dict[str, Any]]]:
        """(accuracy, sections) of 3CosAdd analogies, as gensim's method of that name."""
        from embedlab.vectors import evaluate

        return evaluate.evaluate_word_analogies(
            self,
            analogies,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
        )

    # -- writing and describing ---------------------------------------------------------

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the vectors atomically in `format` (any but ``fasttext-bin``).

        Without `format`, the name decides: .txt glove, .vec word2vec, .bin
        word2vec-binary, .npy or a folder npy (a trailing .gz/.bz2/.xz compresses text).
        """
        path = Path(path).expanduser()
        fmt = formats.check_format(format, writing=True) or formats.format_for_name(path)
        from embedlab.vectors.glove import write_text
        from embedlab.vectors.npy import write_npy
        from embedlab.vectors.word2vec_binary import write_binary

        if fmt == "glove":
            write_text(path, self._words, self.vectors, header=False)
        elif fmt == "word2vec":
            write_text(path, self._words, self.vectors, header=True)
        elif fmt == "word2vec-binary":
            write_binary(path, self._words, self.vectors)
        else:
            write_npy(path, self._words, self.vectors)
        return path

    def describe(self) -> dict[str, Any]:
        """A JSON-safe summary: format, size, norms, cache state, load statistics."""
        norms = self.norms
        return {
            "source": self.source,
            "format": self.format,
            "words": len(self),
            "dimension": self.vector_size,
            "norm_min": float(norms.min()) if len(norms) else 0.0,
            "norm_mean": float(norms.mean(dtype=np.float64)) if len(norms) else 0.0,
            "norm_max": float(norms.max()) if len(norms) else 0.0,
            "subwords": self.has_subwords,
            "cache_state": self.cache_state,
            "cache_path": str(self.cache_path) if self.cache_path else None,
            "load_stats": self.load_stats.to_dict(),
        }


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, np.ndarray)):
        return [value]
    return list(value)
