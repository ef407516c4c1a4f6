"""Ragged id sequences (flat ids + offsets) to padded matrices, and n-gram items, in numpy."""

from __future__ import annotations

import numpy as np

from embedlab.text._hashing import ngram_hashes


def item_counts(lengths: np.ndarray, ngrams: int) -> np.ndarray:
    """Items per document: its tokens plus its 2..`ngrams`-grams."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = lengths.copy()
    for n in range(2, ngrams + 1):
        total += np.maximum(lengths - (n - 1), 0)
    return total


def _within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for each count c, all concatenated."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def append_ngrams(
    ids: np.ndarray,
    offsets: np.ndarray,
    token_hash: np.ndarray,
    *,
    ngrams: int,
    buckets: int,
    first_bucket_id: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Follow each document's token ids with the bucket ids of its 2..`ngrams`-grams.

    Args:
        ids: int32 array. Token ids, documents one after another.
        offsets: int64 array of length documents + 1, starting at 0.
        token_hash: uint64 array. The stable hash of each token (same length as `ids`).
        ngrams: Integer >= 2. The longest n-gram.
        buckets: Integer >= 1. Number of hash buckets.
        first_bucket_id: Integer. The id of bucket 0 (the vocabulary size).

    Returns:
        The new flat ids (int32) and offsets (int64): per document, its unigrams, then its
        bigrams, then trigrams, ..., each in text order.
    """
    parts = [(ids, np.diff(offsets))]
    for n in range(2, ngrams + 1):
        hashes, counts = ngram_hashes(token_hash, offsets, n)
        bucket = (hashes % np.uint64(buckets)).astype(np.int64) + first_bucket_id
        parts.append((bucket.astype(np.int32), counts))
    totals = sum(counts for _, counts in parts)
    new_offsets = np.zeros(len(totals) + 1, dtype=np.int64)
    np.cumsum(totals, out=new_offsets[1:])
    out = np.empty(int(new_offsets[-1]), dtype=np.int32)
    cursor = new_offsets[:-1].copy()
    for values, counts in parts:
        out[np.repeat(cursor, counts) + _within(counts)] = values
        cursor += counts
    return out, new_offsets


def pad_into(
    out: np.ndarray, ids: np.ndarray, offsets: np.ndarray, *, padding: str, truncation: str
) -> None:
    """Write ragged sequences into the zero-filled matrix `out`, one row per document.

    Args:
        out: int32 array of shape (documents, length), C-contiguous, zero-filled.
        ids: int32 array. The ids, documents one after another.
        offsets: int64 array of length documents + 1. Where each document starts in `ids`.
        padding: "post" (ids first, zeros after) or "pre" (zeros first).
        truncation: "post" (keep the first `length` ids) or "pre" (keep the last ones).
    """
    length = out.shape[1]
    ids = ids[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    if ids.size == 0:
        return
    long = np.flatnonzero(lengths > length)
    if long.size:
        # Drop the ids that truncation cuts: +1 where a cut starts, -1 where it ends.
        if truncation == "post":
            cut_start, cut_end = offsets[long] + length, offsets[long + 1]
        else:
            cut_start, cut_end = offsets[long], offsets[long + 1] - length
        marks = np.zeros(ids.size + 1, dtype=np.int8)
        np.add.at(marks, cut_start, 1)
        np.add.at(marks, cut_end, -1)
        ids = ids[np.cumsum(marks[:-1], dtype=np.int8) == 0]
    # The kept ids are in row-major order: a mask of the filled cells spreads them out.
    keep = np.minimum(lengths, length)[:, None]
    columns = np.arange(length)
    out[columns < keep if padding == "post" else columns >= length - keep] = ids
