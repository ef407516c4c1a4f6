"""Vectors -> the embedding matrix of a vocabulary, with a report of what was covered.

Ids follow the project's vocabulary: id 0 is ``"<pad>"`` (a zero row), id 1 is
``"<unk>"`` (its row follows the `unknown` policy), then one row per word. A word takes
the vector of its exact form, else of its lower-case form, else of its Title and UPPER
forms. Words found in none of these forms follow the `unknown` policy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors.wordvectors import WordVectors

PAD, UNK = "<pad>", "<unk>"
UNKNOWN_POLICIES = ("random", "zeros", "mean", "subword")
_STAT_ROWS = 200_000


@dataclass
class CoverageReport:
    """How well a set of vectors covers a vocabulary.

    Attributes:
        words_total: Integer. Words of the vocabulary (ids 2 and up).
        words_found: Integer. Words that got a vector from the vectors file.
        case_fallback: Integer. Of those, words found only under another case.
        subword_filled: Integer. Missing words given a vector from fastText n-grams.
        tokens_total: Optional integer. Training tokens (from counts): those of the words, and
            those that mapped to ``"<unk>"`` (id 1), which no vector covers.
        tokens_found: Optional integer. Training tokens of the words found.
        missing_top: List of (word, count or None). The most frequent missing words (20).
        source: Optional string. Where the vectors came from.
        format: Optional string. Their format.
        unknown: String. The policy for missing words.
        dim: Integer. The vectors' dimension.
    """

    words_total: int
    words_found: int
    case_fallback: int
    subword_filled: int
    tokens_total: int | None
    tokens_found: int | None
    missing_top: list[tuple[str, int | None]] = field(default_factory=list)
    source: str | None = None
    format: str | None = None
    unknown: str = "random"
    dim: int = 0

    @property
    def words_share(self) -> float:
        """Share of the vocabulary's words found (0 to 1)."""
        return self.words_found / self.words_total if self.words_total else 0.0

    @property
    def tokens_share(self) -> float | None:
        """Share of the training tokens whose word was found (None without counts)."""
        if self.tokens_total is None or self.tokens_found is None:
            return None
        return self.tokens_found / self.tokens_total if self.tokens_total else 0.0

    @property
    def words_missing(self) -> int:
        return self.words_total - self.words_found

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, shares included."""
        data = asdict(self)
        data["missing_top"] = [[w, c] for w, c in self.missing_top]
        data["words_share"] = self.words_share
        data["tokens_share"] = self.tokens_share
        data["words_missing"] = self.words_missing
        return data

    def __str__(self) -> str:
        lines = [
            f"Vectors: {self.source or 'in memory'} ({self.format or 'unknown format'}, "
            f"dim {self.dim})",
            f"Words found: {self.words_found:,} / {self.words_total:,} "
            f"({self.words_share:.1%}); {self.case_fallback:,} through another case",
        ]
        if self.tokens_share is not None:
            lines.append(
                f"Training tokens covered: {self.tokens_found:,} / {self.tokens_total:,} "
                f"({self.tokens_share:.1%})"
            )
        policy = f"Missing words: {self.words_missing:,}, filled by '{self.unknown}'"
        if self.unknown == "subword":
            policy += f" ({self.subword_filled:,} from n-grams, the rest zeros)"
        lines.append(policy)
        if self.missing_top:
            shown = ", ".join(w if c is None else f"{w} ({c:,})" for w, c in self.missing_top)
            lines.append(f"Most frequent missing: {shown}")
        return "\n".join(lines)


def embedding_matrix(
    vectors: WordVectors | str | os.PathLike,
    vocabulary: Sequence[str] | Any,
    *,
    unknown: str = "random",
    seed: int = 0,
    counts: Sequence[int] | np.ndarray | None = None,
    expected_dim: int | None = None,
) -> tuple[np.ndarray, CoverageReport]:
    """Build the embedding matrix of a vocabulary from pre-trained vectors.

    Example:

    >>> matrix, report = embedding_matrix(wv, ["<pad>", "<unk>", "the", "Paris"])
    >>> matrix.shape
    (4, 50)

    Args:
        vectors: WordVectors, or a path or name that `WordVectors.load` reads.
        vocabulary: Sequence of strings in id order, starting ``"<pad>"``, ``"<unk>"``; or
            an object with ``index_to_key`` (and optionally ``counts``), like the project's
            text Vocabulary.
        unknown: String. For words not found: "random" (normal, with the vectors' own
            per-dimension mean and spread), "zeros", "mean" (the mean vector), or "subword"
            (fastText n-grams; needs fasttext-bin vectors). Row 1 (``"<unk>"``) follows the
            same policy ("subword": zeros, as the unknown id stands for no word).
        seed: Integer. Seed of the "random" policy.
        counts: Optional sequence of integers, one per id. Training counts, to weigh the
            coverage by tokens and rank the missing words; taken from
            ``vocabulary.counts`` when absent.
        expected_dim: Optional integer. The dimension the caller needs.

    Returns:
        (float32 array (len(vocabulary), dim), CoverageReport)
    """
    if unknown not in UNKNOWN_POLICIES:
        raise ConfigError(
            f"`unknown` must be one of {', '.join(UNKNOWN_POLICIES)}. Received: "
            f"unknown={unknown!r}."
        )
    wv = vectors if isinstance(vectors, WordVectors) else WordVectors.load(vectors)
    keys, counts = _vocabulary_parts(vocabulary, counts)
    dim = wv.vector_size
    if expected_dim is not None and expected_dim != dim:
        raise VectorsError(
            f"The vectors from {wv.source or 'memory'} have dimension {dim}, but "
            f"{expected_dim} was expected. Use vectors of dimension {expected_dim}, or set "
            f"the embedding dimension to {dim}."
        )
    if unknown == "subword" and not wv.has_subwords:
        raise VectorsError(
            f"unknown='subword' needs fastText n-grams, which the vectors from "
            f"{wv.source or 'memory'} (format {wv.format!r}) do not have. Load a fastText "
            f".bin model (format 'fasttext-bin'), or pick unknown='random', 'zeros' or 'mean'."
        )
    rows, fallback = _lookup(wv, keys)
    n = len(keys)
    matrix = np.zeros((n, dim), dtype=np.float32)
    found = rows >= 0
    found[:2] = False
    if found.any():
        matrix[found] = wv.vectors[rows[found]]
    missing = np.flatnonzero(~found)
    missing = missing[missing >= 2]
    fill_rows = np.concatenate([[1], missing]).astype(np.int64)
    subword_filled = _fill(wv, matrix, fill_rows, keys, unknown, seed)
    report = _report(wv, keys, counts, found, fallback, missing, subword_filled, unknown)
    return matrix, report


def _vocabulary_parts(vocabulary, counts) -> tuple[list[str], np.ndarray | None]:
    keys = getattr(vocabulary, "index_to_key", vocabulary)
    keys = list(keys)
    if counts is None:
        counts = getattr(vocabulary, "counts", None)
    if len(keys) < 2 or keys[0] != PAD or keys[1] != UNK:
        head = keys[:2]
        raise ConfigError(
            f"The vocabulary must start with the reserved {PAD!r} (id 0) and {UNK!r} (id 1). "
            f"Received: first entries {head!r}."
        )
    if counts is not None:
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (len(keys),):
            raise ConfigError(
                f"`counts` must hold one count per id ({len(keys)}). Received: shape "
                f"{counts.shape}."
            )
    return keys, counts


def _lookup(wv: WordVectors, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row of each key (-1 when absent) and whether it was found only via another case."""
    index = wv.key_to_index
    rows = np.full(len(keys), -1, dtype=np.int64)
    fallback = np.zeros(len(keys), dtype=bool)
    for i, key in enumerate(keys[2:], start=2):
        row = index.get(key)
        if row is None:
            for variant in (key.lower(), key.title(), key.upper()):
                if variant != key:
                    row = index.get(variant)
                    if row is not None:
                        fallback[i] = True
                        break
        if row is not None:
            rows[i] = row
    return rows, fallback


def _fill(wv, matrix, fill_rows, keys, unknown, seed) -> int:
    """Fill the rows of missing words (and row 1) by the policy; return the subword count."""
    if len(fill_rows) == 0 or unknown == "zeros":
        return 0
    if unknown == "subword":
        words = [keys[i] for i in fill_rows if i >= 2]
        vectors, counts = wv.subwords.vectors_for(words)
        targets = np.asarray([i for i in fill_rows if i >= 2], dtype=np.int64)
        matrix[targets] = vectors
        return int((counts > 0).sum())
    mean, std = _spread(wv)
    if unknown == "mean":
        matrix[fill_rows] = mean
        return 0
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((len(fill_rows), matrix.shape[1]))
    matrix[fill_rows] = (mean + noise * std).astype(np.float32)
    return 0


def _spread(wv: WordVectors) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation of the vectors (an even sample of rows
    when there are many)."""
    n = len(wv)
    if n == 0:
        return np.zeros(wv.vector_size), np.ones(wv.vector_size)
    step = max(1, n // _STAT_ROWS)
    sample = np.asarray(wv.vectors[::step], dtype=np.float64)
    return sample.mean(axis=0), sample.std(axis=0)


def _report(wv, keys, counts, found, fallback, missing, subword_filled, unknown):
    words_total = max(0, len(keys) - 2)
    tokens_total = tokens_found = None
    if counts is not None:
        tokens_total = int(counts[1:].sum())  # tokens mapped to <unk> are never covered
        tokens_found = int(counts[found].sum())
        order = missing[np.argsort(-counts[missing], kind="stable")][:20]
        top = [(keys[i], int(counts[i])) for i in order]
    else:
        top = [(keys[i], None) for i in missing[:20]]
    return CoverageReport(
        words_total=words_total,
        words_found=int(found.sum()),
        case_fallback=int((fallback & found).sum()),
        subword_filled=subword_filled,
        tokens_total=tokens_total,
        tokens_found=tokens_found,
        missing_top=top,
        source=wv.source,
        format=wv.format,
        unknown=unknown,
        dim=wv.vector_size,
    )
