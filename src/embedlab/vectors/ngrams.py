"""fastText's character n-grams: enumerated, hashed and averaged in bounded slices.

N-grams are taken over the UTF-8 bytes of ``"<" + word + ">"`` on character boundaries (a
byte ``10xxxxxx`` continues the character before it), for lengths `minn` to `maxn`
characters, in fastText's order: word by word, by start character, then by length. A
one-character n-gram is left out at a word's two ends (its ``<`` and ``>``). Each is
hashed with 32-bit FNV-1a (bytes sign-extended, as fastText does) modulo `bucket`.

The work goes in slices of a bounded number of n-grams, in that order, so memory stays
bounded whatever the settings. An n-gram's hash extends the hash of the n-gram one
character shorter at the same start, so the time is linear in the n-grams made (not in
their total length). The sum of a word's rows carries from one slice to the next and
is added in the same order as a single pass would add it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

NGRAMS_PER_SLICE = 1 << 18  # n-grams hashed at once (a few MB of index arrays)
GATHER_BYTES = 16 << 20  # rows of the table gathered at once
WORD_BYTES = 1 << 16  # bytes of words laid out at once
_FNV_OFFSET = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)


@dataclass
class _Layout:
    """The characters of a batch of padded words, and the n-grams each one starts."""

    buf: np.ndarray  # uint8: the padded words, joined
    bounds: np.ndarray  # byte offset of each character start, then len(buf)
    owner: np.ndarray  # per character: its word (local to the batch)
    high: np.ndarray  # per character: the longest n-gram it starts, in characters
    count: np.ndarray  # per character: how many n-grams it starts that are kept
    edge: np.ndarray  # per character: whether it is a word's "<" or ">"


def _layout(words: Sequence[bytes], minn: int, maxn: int) -> _Layout:
    padded = [b"<" + w + b">" for w in words]
    lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
    offsets = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(padded), dtype=np.uint8)
    bounds = np.flatnonzero(np.append((buf & 0xC0) != 0x80, True))
    first = np.searchsorted(bounds, offsets)  # every word starts with "<", a character start
    owner = np.repeat(np.arange(len(padded)), np.diff(first))
    chars = np.arange(first[-1])
    end = first[owner + 1]
    low = max(1, minn)
    high = np.minimum(end - chars, max(0, maxn))
    count = np.maximum(0, high - low + 1)
    edge = (chars == first[owner]) | (chars + 1 == end)
    if low == 1:  # no one-character n-gram of "<" or ">"
        count -= edge & (high >= 1)
    return _Layout(buf, bounds, owner, high, count, edge)


def _word_batches(words: Sequence[bytes]) -> Iterator[tuple[int, int]]:
    lo, size = 0, 0
    for i, word in enumerate(words):
        size += len(word) + 2
        if size > WORD_BYTES:
            yield lo, i + 1
            lo, size = i + 1, 0
    if lo < len(words):
        yield lo, len(words)


def ngram_count(words: Sequence[bytes], minn: int, maxn: int) -> int:
    """How many n-grams the words make (what averaging their rows costs)."""
    if maxn < 1:
        return 0
    return sum(
        int(_layout(words[lo:hi], minn, maxn).count.sum()) for lo, hi in _word_batches(words)
    )


def _slice_hashes(layout: _Layout, chars: np.ndarray, minn: int) -> tuple[np.ndarray, ...]:
    """Hashes of the n-grams that start at `chars` (sorted), in fastText's order."""
    low = max(1, minn)
    order = np.argsort(-layout.high[chars], kind="stable")  # longest first: active = prefix
    starts = chars[order]
    high = layout.high[starts]
    at_end = layout.edge[starts]
    bounds, buf = layout.bounds, layout.buf
    hashes = np.full(len(starts), _FNV_OFFSET, dtype=np.uint32)
    found_at, found_n, found_hash = [], [], []
    ascending = high[::-1]
    for n in range(1, int(high[0]) + 1 if len(high) else 0):
        m = len(high) - int(np.searchsorted(ascending, n, side="left"))  # high >= n
        char = starts[:m] + n - 1
        begin, length = bounds[char], bounds[char + 1] - bounds[char]
        by_length = np.argsort(-length, kind="stable")
        ordered = length[by_length]
        active = hashes[:m][by_length]
        for k in range(int(ordered[0])):
            j = len(ordered) - int(np.searchsorted(ordered[::-1], k, side="right"))
            byte = buf[begin[by_length[:j]] + k].view(np.int8).astype(np.int32).view(np.uint32)
            active[:j] = (active[:j] ^ byte) * _FNV_PRIME
        hashes[by_length] = active
        if n >= low:
            keep = np.arange(m) if n > 1 else np.flatnonzero(~at_end[:m])
            found_at.append(order[keep])
            found_n.append(np.full(len(keep), n, dtype=np.int64))
            found_hash.append(hashes[keep].copy())
    if not found_at:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0, np.uint32)
    at, length_n, hashed = map(np.concatenate, (found_at, found_n, found_hash))
    sort = np.lexsort((length_n, at))
    return chars[at[sort]], length_n[sort], hashed[sort]


def ngram_slices(
    words: Sequence[bytes], minn: int, maxn: int, bucket: int, *, budget: int = NGRAMS_PER_SLICE
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(bucket of each n-gram, index of its word) in slices of about `budget` n-grams, in
    fastText's order; the words' indices only grow from one slice to the next."""
    if not words or maxn < 1 or bucket < 1:
        return
    for lo, hi in _word_batches(words):
        layout = _layout(words[lo:hi], minn, maxn)
        chars = np.flatnonzero(layout.count > 0)
        cum = np.cumsum(layout.count[chars])
        start, done = 0, 0
        while start < len(chars):
            stop = max(start + 1, int(np.searchsorted(cum, done + budget, side="right")))
            part = chars[start:stop]
            where, _, hashes = _slice_hashes(layout, part, minn)
            yield (hashes % np.uint32(bucket)).astype(np.int64), lo + layout.owner[where]
            done = int(cum[stop - 1])
            start = stop


def ngram_buckets(
    words: Sequence[bytes], minn: int, maxn: int, bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bucket of every n-gram of every word, and the index of the word it belongs to."""
    parts = list(ngram_slices(words, minn, maxn, bucket))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def row_sums(
    table: np.ndarray,
    words: Sequence[bytes | None],
    minn: int,
    maxn: int,
    bucket: int,
    *,
    ngram_offset: int = 0,
    own: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per word, the float32 sum of its own row (`own`, when given) and its n-gram rows
    (`table[ngram_offset + bucket]`), added in that order; and its number of n-grams.

    A word given as None has no n-grams (fastText's "</s>").
    """
    dim = table.shape[1]
    sums = np.zeros((len(words), dim), dtype=np.float32)
    counts = np.zeros(len(words), dtype=np.int64)
    started = np.zeros(len(words), dtype=bool)
    present = np.asarray([i for i, w in enumerate(words) if w is not None], dtype=np.int64)
    budget = max(1024, min(NGRAMS_PER_SLICE, GATHER_BYTES // (8 * max(1, dim))))
    chosen = [words[i] for i in present]
    for buckets, local in ngram_slices(chosen, minn, maxn, bucket, budget=budget):
        owner = present[local]
        seg = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        seg_owner = owner[seg]
        lead = seg + np.arange(len(seg))  # one leading row per word: own row or carried sum
        rows = np.insert(buckets + ngram_offset, seg, 0)
        gathered = np.asarray(table[rows], dtype=np.float32)
        carried = started[seg_owner]
        if own is not None:
            fresh = seg_owner[~carried]
            gathered[lead[~carried]] = np.asarray(table[own[fresh]], dtype=np.float32)
        else:
            gathered[lead[~carried]] = 0.0
        gathered[lead[carried]] = sums[seg_owner[carried]]
        sums[seg_owner] = np.add.reduceat(gathered, lead, axis=0)
        counts[seg_owner] += np.diff(np.append(seg, len(owner)))
        started[seg_owner] = True
    if own is not None:
        alone = np.flatnonzero(~started)
        for lo in range(0, len(alone), 1 << 14):
            part = alone[lo : lo + (1 << 14)]
            sums[part] = np.asarray(table[own[part]], dtype=np.float32)
    return sums, counts
