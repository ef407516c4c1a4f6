"""Facebook fastText ``.bin`` models: word vectors plus the subword n-gram table.

The model's input matrix holds one row per word, then `bucket` rows of character
n-grams. A word's vector is the average of its own row and the rows of its n-grams; an
unknown word's vector is the average of its n-gram rows. N-grams are taken over the
UTF-8 bytes of ``"<" + word + ">"`` on character boundaries, hashed with 32-bit FNV-1a
(bytes sign-extended, as fastText does) modulo `bucket` (see `embedlab.vectors.ngrams`).
The input matrix is memory-mapped, never copied whole.

The file is untrusted: every count, size and length its header gives is checked against
the file's real size before anything is allocated for it.
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
from embedlab.vectors.ngrams import ngram_buckets, ngram_count, row_sums
from embedlab.vectors.parsed import LoadStats, Parsed, claim_error, finish, nonfinite_rows

VERSIONS = (11, 12)
_ARGS = struct.Struct("<12id")  # dim ws epoch minCount neg wordNgrams loss model bucket
#                                 minn maxn lrUpdateRate, then t
_DICT = struct.Struct("<3i2q")  # size nwords nlabels ntokens pruneidx_size
NGRAMS_PER_BYTE = 16  # far above real models (under 0.3): more means a damaged header

__all__ = ["SubwordTable", "compose_word_vectors", "ngram_buckets", "read_fasttext"]


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
        sums, counts = row_sums(self.ngrams, encoded, self.minn, self.maxn, self.bucket)
        seen = counts > 0
        out[seen] = sums[seen] / counts[seen, None]
        return out, counts


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
        _check_header(name, size, dim, bucket, minn, maxn, vocab_size, nwords)
        raw_words, offset = _read_entries(handle, name, vocab_size, nwords, size)
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
    made = ngram_count(words_bytes, minn, maxn) if bucket > 0 else 0
    if made > NGRAMS_PER_BYTE * size:
        raise claim_error(name, f"n-grams of {minn} to {maxn} characters ({made:,} of them for "
                          f"{keep:,} words)", made // NGRAMS_PER_BYTE, size,
                          "Fix the header's minn and maxn.")
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


def _check_header(
    name: str, size: int, dim: int, bucket: int, minn: int, maxn: int, vocab_size: int,
    nwords: int,
) -> None:
    """Refuse header numbers no model has, or that a file of `size` bytes cannot hold."""
    if dim < 1 or bucket < 0 or minn < 0 or maxn < 0 or not 0 <= nwords <= vocab_size:
        raise VectorsError(
            f"The header of {name!r} says dim={dim}, bucket={bucket}, minn={minn}, "
            f"maxn={maxn}, {vocab_size} entries of which {nwords} words; a fastText model "
            f"has dim >= 1, the others >= 0 and no more words than entries. Is the file "
            f"damaged?"
        )
    start = 8 + _ARGS.size + _DICT.size
    fix = "Is the header damaged or the file truncated? Get the model again."
    if vocab_size * 10 > size - start:  # an entry: a word's NUL, its count and its type
        raise claim_error(name, f"{vocab_size:,} dictionary entries", vocab_size * 10 + start,
                          size, fix)
    matrix = (nwords + bucket) * dim * 4
    if matrix > size - start:
        raise claim_error(name, f"({nwords:,} words + {bucket:,} buckets) x {dim:,} "
                          f"dimensions", matrix + start, size, fix)


def _read_entries(
    handle, name: str, vocab_size: int, nwords: int, size: int
) -> tuple[list[bytes], int]:
    """The dictionary's words (type 0 entries come first) and the offset after the dictionary."""
    start = 8 + _ARGS.size + _DICT.size
    handle.seek(start)
    data = handle.read(min(size - start, max(1 << 20, vocab_size * 32)))
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
    return words, start + pos


def compose_word_vectors(
    table: np.ndarray, words: Sequence[bytes], minn: int, maxn: int, bucket: int, nwords: int
) -> np.ndarray:
    """Each word's vector: the mean of its own row and its n-gram rows ("</s>" has none),
    summed in the order fastText sums them (the word's own row first)."""
    out = np.empty((len(words), table.shape[1]), dtype=np.float32)
    for lo in range(0, len(words), 1 << 16):
        chunk = list(words[lo : lo + (1 << 16)])
        ngram_words = [w if w != b"</s>" else None for w in chunk]
        own = np.arange(lo, lo + len(chunk), dtype=np.int64)
        sums, counts = row_sums(
            table, ngram_words, minn, maxn, bucket, ngram_offset=nwords, own=own
        )
        out[lo : lo + len(chunk)] = sums / (counts + 1)[:, None].astype(np.float32)
    return out
