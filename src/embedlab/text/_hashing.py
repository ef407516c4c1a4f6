"""Stable 64-bit hashes of tokens and word n-grams, computed in numpy.

Python's `hash()` of a str changes from one process to the next, so n-gram buckets computed
with it would not survive a save and load. These hashes depend only on the UTF-8 bytes: the
same token gives the same bucket in every process, on every machine.

A token's hash is a polynomial hash of its bytes modulo 2**64 (base: the 64-bit FNV prime),
plus its length, passed through the MurmurHash3 64-bit finaliser. An n-gram's hash combines
its tokens' hashes in order, fastText-style (h = h * P + token_hash, seeded with n), and is
finalised the same way. Each distinct token is hashed once per batch.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from embedlab.text._columns import string_bytes, string_offsets

_BASE = np.uint64(0x100000001B3)  # the 64-bit FNV prime
_LENGTH_MIX = np.uint64(0x9E3779B97F4A7C15)
_NGRAM_BASE = np.uint64(116049371)  # fastText's n-gram multiplier
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB93FE53EC049)
_SHIFT = np.uint64(33)


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, applied element-wise (uint64 in, uint64 out)."""
    h = values.astype(np.uint64, copy=True)
    h ^= h >> _SHIFT
    h *= _FMIX_1
    h ^= h >> _SHIFT
    h *= _FMIX_2
    h ^= h >> _SHIFT
    return h


def _powers(count: int) -> np.ndarray:
    """_BASE**0 .. _BASE**(count-1) modulo 2**64."""
    powers = np.full(max(count, 1), _BASE, dtype=np.uint64)
    powers[0] = 1
    with np.errstate(over="ignore"):
        return np.multiply.accumulate(powers)


def token_hashes(strings: pa.Array) -> np.ndarray:
    """Hash every string of a (null-free) string array; returns uint64 of the same length."""
    offsets = string_offsets(strings)
    data = string_bytes(strings)
    starts = offsets[:-1] - offsets[0]
    ends = offsets[1:] - offsets[0]
    lengths = (ends - starts).astype(np.uint64)
    if data.size:
        # Horner's rule unrolled: byte i of a token of m bytes weighs BASE**(m - 1 - i).
        token_end = np.repeat(ends, (ends - starts))
        weights = _powers(int((ends - starts).max()))[token_end - 1 - np.arange(data.size)]
        prefix = np.zeros(data.size + 1, dtype=np.uint64)
        np.cumsum(data.astype(np.uint64) * weights, out=prefix[1:])
        polynomial = prefix[ends] - prefix[starts]
    else:
        polynomial = np.zeros(len(starts), dtype=np.uint64)
    return fmix64(polynomial + lengths * _LENGTH_MIX)


def ngram_hashes(hashes: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash the n-grams of consecutive tokens inside each document.

    Args:
        hashes: uint64 array. One hash per token, documents one after another.
        offsets: Integer array of length documents + 1, starting at 0. Where each
            document's tokens start in `hashes`.
        n: Integer >= 2. The n-gram order.

    Returns:
        The n-gram hashes (uint64), documents one after another, n-grams in text order, and
        the number of n-grams per document (max(0, tokens - n + 1)).
    """
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - (n - 1), 0)
    total = hashes.size
    if total < n:
        return np.zeros(0, dtype=np.uint64), counts
    span = total - n + 1
    combined = np.full(span, np.uint64(n), dtype=np.uint64)
    for k in range(n):
        combined *= _NGRAM_BASE
        combined += hashes[k : k + span]
    # Keep the windows that start and end inside one document.
    document_end = np.repeat(offsets[1:], lengths)[:span]
    inside = np.arange(span) + n <= document_end
    return fmix64(combined[inside]), counts
