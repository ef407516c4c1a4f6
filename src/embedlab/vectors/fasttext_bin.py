"""Facebook fastText ``.bin`` models: word vectors plus the subword n-gram table.

The model's input matrix holds one row per word, then `bucket` rows of character
n-grams. A word's vector is the average of its own row and the rows of its n-grams; an
unknown word's vector is the average of its n-gram rows. N-grams are taken over the
UTF-8 bytes of ``"<" + word + ">"`` on character boundaries, hashed with 32-bit FNV-1a
(bytes sign-extended, as fastText does) modulo `bucket`. Hashing is vectorised with
numpy over many words at once; the input matrix is memory-mapped, never copied whole.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedlab.errors import VectorsError
from embedlab.vectors import formats
from embedlab.vectors.parsed import LoadStats, Parsed, finish, nonfinite_rows

VERSIONS = (11, 12)
_ARGS = struct.Struct("<12id")  # dim ws epoch minCount neg wordNgrams loss model bucket
#                                 minn maxn lrUpdateRate, then t
_DICT = struct.Struct("<3i2q")  # size nwords nlabels ntokens pruneidx_size
_FNV_OFFSET = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)


@dataclass
class SubwordTable:
    """The n-gram rows of a fastText model, and how words map onto them.

    Attributes:
        ngrams: Float32 array (bucket, dim). The n-gram rows (often memory-mapped).
        minn: Integer. Shortest n-gram, in characters.
        maxn: Integer. Longest n-gram, in characters (0: the model has no n-grams).
        bucket: Integer. Number of hash buckets.
    """

    ngrams: np.ndarray
    minn: int
    maxn: int
    bucket: int

    @property
    def usable(self) -> bool:
        return self.bucket > 0 and self.maxn > 0 and len(self.ngrams) > 0

    def vectors_for(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of (unknown) words from their n-grams, as fastText computes them.

        Returns (float32 array (len(words), dim), number of n-grams per word); a word
        without any n-gram gets zeros and a count of 0.
        """
        dim = self.ngrams.shape[1]
        out = np.zeros((len(words), dim), dtype=np.float32)
        counts = np.zeros(len(words), dtype=np.int64)
        if not self.usable or not words:
            return out, counts
        encoded = [w.encode("utf-8") for w in words]
        for lo, hi in _batches(encoded, dim):
            rows, owner = ngram_buckets(encoded[lo:hi], self.minn, self.maxn, self.bucket)
            sums, seg_counts, seg_owner = _segment_sums(self.ngrams, rows, owner)
            out[lo + seg_owner] = sums / seg_counts[:, None]
            counts[lo + seg_owner] = seg_counts
        return out, counts


def ngram_buckets(
    words: Sequence[bytes], minn: int, maxn: int, bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bucket of every n-gram of every word, and the index of the word it belongs to.

    N-grams come word by word, and within a word by start character then length, the
    order fastText adds them in.
    """
    if not words or maxn < 1 or bucket < 1:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    padded = [b"<" + w + b">" for w in words]
    lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
    offsets = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(padded), dtype=np.uint8)
    char_start = np.append((buf & 0xC0) != 0x80, True)
    bounds = np.flatnonzero(char_start)  # byte position of each character start, + the end
    first = np.searchsorted(bounds, offsets)  # boundary index of each word's first char
    nchars = np.diff(first)
    owner_of = np.repeat(np.arange(len(padded)), nchars)
    t = np.arange(first[-1])
    word_end = first[owner_of + 1]  # boundary index one past the word's last character
    starts, ends, owners, order_t, order_n = [], [], [], [], []
    for n in range(max(1, minn), maxn + 1):
        ok = t + n <= word_end
        if n == 1:
            ok &= (t != first[owner_of]) & (t + 1 != word_end)
        sel = t[ok]
        starts.append(bounds[sel])
        ends.append(bounds[sel + n])
        owners.append(owner_of[sel])
        order_t.append(sel)
        order_n.append(np.full(len(sel), n))
    start, end = np.concatenate(starts), np.concatenate(ends)
    owner, tt, nn = np.concatenate(owners), np.concatenate(order_t), np.concatenate(order_n)
    order = np.lexsort((nn, tt))
    start, end, owner = start[order], end[order], owner[order]
    hashes = np.full(len(start), _FNV_OFFSET, dtype=np.uint32)
    span = end - start
    last = len(buf) - 1
    for k in range(int(span.max()) if len(span) else 0):
        active = span > k
        byte = buf[np.minimum(start + k, last)].view(np.int8).astype(np.int32).view(np.uint32)
        hashes = np.where(active, (hashes ^ byte) * _FNV_PRIME, hashes)
    return (hashes % np.uint32(bucket)).astype(np.int64), owner


def _batches(encoded: Sequence[bytes], dim: int) -> list[tuple[int, int]]:
    """Word ranges whose gathered n-gram rows stay near 64 MB."""
    per_word = 40 * dim * 4
    size = max(1, (64 << 20) // per_word)
    return [(lo, min(len(encoded), lo + size)) for lo in range(0, len(encoded), size)]


def _segment_sums(
    table: np.ndarray, rows: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum of table[rows] per owner (owners sorted); return sums, counts, owners present."""
    if len(rows) == 0:
        dim = table.shape[1]
        return np.empty((0, dim), np.float32), np.empty(0, np.int64), np.empty(0, np.int64)
    cut = np.flatnonzero(np.diff(owner)) + 1
    seg_start = np.concatenate([[0], cut])
    gathered = np.asarray(table[rows], dtype=np.float32)
    sums = np.add.reduceat(gathered, seg_start, axis=0)
    counts = np.diff(np.append(seg_start, len(rows)))
    return sums, counts, owner[seg_start]


def read_fasttext(path: Path, *, limit: int | None = None, on_nonfinite: str = "error") -> Parsed:
    """Read a fastText .bin model: word vectors (as fastText computes them) and n-grams."""
    name = str(path)
    if formats.compression_of(path) is not None:
        raise VectorsError(
            f"{name!r} is a compressed fastText model; decompress it first (the model is "
            f"memory-mapped, which needs the plain file)."
        )
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8 + _ARGS.size + _DICT.size)
        if len(head) < 8 + _ARGS.size + _DICT.size:
            raise VectorsError(f"{name!r} is too short to be a fastText model (truncated?).")
        magic, version = struct.unpack_from("<2i", head)
        if magic != formats.FASTTEXT_MAGIC:
            raise VectorsError(
                f"{name!r} does not start with the fastText magic number. Is this really a "
                f"fastText .bin model? (Models from fastText before 0.9 are not supported.)"
            )
        if version not in VERSIONS:
            raise VectorsError(
                f"{name!r} is a fastText model of file version {version}; embedlab reads "
                f"versions {', '.join(map(str, VERSIONS))} (fastText 0.9 and later)."
            )
        args = _ARGS.unpack_from(head, 8)
        dim, bucket, minn, maxn = args[0], args[8], args[9], args[10]
        vocab_size, nwords, _nlabels, _ntokens, prune = _DICT.unpack_from(head, 8 + _ARGS.size)
        if prune > 0:
            raise VectorsError(f"{name!r} is a pruned (quantized) fastText model; not supported.")
        raw_words, offset = _read_entries(handle, name, vocab_size, nwords, prune)
    matrix_offset = offset + 1 + 16
    with open(path, "rb") as handle:
        handle.seek(offset)
        tail = handle.read(17)
    if len(tail) < 17:
        raise VectorsError(f"{name!r} ends inside its dictionary: the file is truncated.")
    if tail[0]:
        raise VectorsError(
            f"{name!r} is a quantized fastText model (.ftz); not supported. Use the .bin "
            f"model, or its .vec file (format 'word2vec')."
        )
    rows, cols = struct.unpack_from("<2q", tail, 1)
    if cols != dim or rows != nwords + bucket:
        raise VectorsError(
            f"The input matrix of {name!r} is {rows} x {cols}, but its header says "
            f"{nwords} words + {bucket} buckets of dimension {dim}. Is the file damaged?"
        )
    if size < matrix_offset + rows * cols * 4:
        raise VectorsError(
            f"{name!r} ends inside its input matrix ({size} bytes, "
            f"{matrix_offset + rows * cols * 4} needed): the file is truncated."
        )
    table = np.memmap(path, dtype="<f4", mode="r", offset=matrix_offset, shape=(rows, cols))
    subwords = SubwordTable(table[nwords:], minn, maxn, bucket)
    keep = nwords if limit is None else min(limit, nwords)
    words_bytes = raw_words[:keep]
    matrix = compose_word_vectors(table, words_bytes, minn, maxn, bucket, nwords)
    stats = LoadStats(lines=keep)
    arrow_words = pa.array(words_bytes, type=pa.binary())
    parsed = finish(
        arrow_words,
        matrix,
        stats,
        bad_rows=nonfinite_rows(matrix),
        on_nonfinite=on_nonfinite,
        describe_row=lambda row: f"word number {row + 1} of {name!r}",
    )
    parsed.subwords = subwords
    parsed.extra = {
        "fasttext": {
            "minn": minn,
            "maxn": maxn,
            "bucket": bucket,
            "nwords": nwords,
            "dim": dim,
            "matrix_offset": matrix_offset,
        }
    }
    return parsed


def _read_entries(
    handle, name: str, vocab_size: int, nwords: int, prune: int
) -> tuple[list[bytes], int]:
    """The dictionary's words (type 0 entries come first) and the offset after the dictionary."""
    start = 8 + _ARGS.size + _DICT.size
    handle.seek(start)
    data = handle.read(max(1 << 20, vocab_size * 32))
    words: list[bytes] = []
    pos = 0
    for _ in range(vocab_size):
        end = data.find(b"\x00", pos)
        while end < 0 or end + 9 > len(data):
            more = handle.read(max(1 << 20, len(data)))
            if not more:
                raise VectorsError(f"{name!r} ends inside its dictionary: the file is truncated.")
            data += more
            end = data.find(b"\x00", pos)
        if len(words) < nwords:
            words.append(data[pos:end])
        pos = end + 1 + 8 + 1
    pos += max(0, prune) * 8
    return words, start + pos


def compose_word_vectors(
    table: np.ndarray, words: Sequence[bytes], minn: int, maxn: int, bucket: int, nwords: int
) -> np.ndarray:
    """Each word's vector: the mean of its own row and its n-gram rows ("</s>" has none)."""
    dim = table.shape[1]
    out = np.empty((len(words), dim), dtype=np.float32)
    for lo, hi in _batches(words, dim):
        chunk = list(words[lo:hi])
        ngram_words = [w if w != b"</s>" else None for w in chunk]
        present = [i for i, w in enumerate(ngram_words) if w is not None]
        rows, owner = ngram_buckets([chunk[i] for i in present], minn, maxn, bucket)
        owner = np.asarray(present, dtype=np.int64)[owner] if len(owner) else owner
        # The word's own row first, then its n-gram rows: the order fastText sums them in.
        own = np.arange(hi - lo, dtype=np.int64)
        all_rows = np.concatenate([lo + own, rows + nwords])
        all_owner = np.concatenate([own, owner])
        rank = np.concatenate([np.zeros(len(own), np.int64), np.ones(len(rows), np.int64)])
        order = np.lexsort((rank, all_owner))
        sums, counts, seg_owner = _segment_sums(table, all_rows[order], all_owner[order])
        out[lo + seg_owner] = sums / counts[:, None].astype(np.float32)
    return out
