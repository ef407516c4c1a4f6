"""The tokenizer's inner loop: one vectorised scan over the UTF-8 bytes of a slice of texts.

Texts are lower-cased (and NFKC-normalised when not ASCII) by Arrow kernels. Then every byte
gets the class of its character (white space, word or symbol) from a table, a token starts
at each symbol and at each word character that does not follow another one in the same text,
and the tokens become a string array over the lowered buffer without copying it: each token
runs to the next token's start, and a right-trim removes the white space in between.

The classes come from RE2's Unicode tables (the same ones `TOKEN_PATTERN` uses), so the
result equals a find-all of `TOKEN_PATTERN`, which the tests check.
"""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.text._columns import string_bytes, string_offsets

# RE2 character classes. `\w` and `\s` are ASCII-only in RE2, so the Unicode properties are
# spelled out. SPACE is exactly what Python's str.isspace() and Arrow's whitespace kernels
# treat as white space (`\s` + separators + VT, the four information separators and NEL).
WORD_CHARS = r"\p{L}\p{N}\p{M}_"
SPACE_CHARS = r"\s\p{Z}\x{0B}\x{1C}-\x{1F}\x{85}"
SYMBOL_PATTERN = f"[^{WORD_CHARS}{SPACE_CHARS}]"
TOKEN_PATTERN = f"[{WORD_CHARS}]+|{SYMBOL_PATTERN}"

SPACE, WORD, SYMBOL = 0, 1, 2
_LAST_CODE = 0x10FFFF


def _char_classes(codes: np.ndarray) -> np.ndarray:
    """The class of each code point (no surrogates), decided by the RE2 classes above."""
    lengths = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
    offsets = np.zeros(len(codes) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = "".join(map(chr, codes.tolist())).encode("utf-8")
    chars = pa.StringArray.from_buffers(len(codes), pa.py_buffer(offsets), pa.py_buffer(data))
    word = _flags(pc.match_substring_regex(chars, f"^[{WORD_CHARS}]$"))
    space = _flags(pc.match_substring_regex(chars, f"^[{SPACE_CHARS}]$"))
    classes = np.full(len(codes), SYMBOL, dtype=np.uint8)
    classes[word] = WORD
    classes[space] = SPACE
    return classes


def _flags(matches: pa.Array) -> np.ndarray:
    """A boolean Arrow array (no nulls) as numpy booleans, without pyarrow's pandas path."""
    return pc.cast(matches, pa.int8()).to_numpy().astype(bool)


# Bytes 0x80-0xFF are parts of longer characters; they are classed after decoding.
_BYTE_CLASSES = np.full(256, SYMBOL, dtype=np.uint8)
_BYTE_CLASSES[:128] = _char_classes(np.arange(128))
_PLANE = 0x10000
_unicode_classes = np.full(_LAST_CODE + 1, SYMBOL, dtype=np.uint8)
_planes_ready = np.zeros((_LAST_CODE + 1) // _PLANE, dtype=bool)
_planes_lock = threading.Lock()


def unicode_classes(codes: np.ndarray) -> np.ndarray:
    """The class of each code point; a plane's classes are built when first needed.

    Building one plane of 65,536 code points takes a few hundredths of a second.
    """
    planes = np.flatnonzero(np.bincount(codes >> 16, minlength=_planes_ready.size))
    missing = planes[~_planes_ready[planes]]
    if missing.size:
        with _planes_lock:
            for plane in missing.tolist():
                if _planes_ready[plane]:
                    continue
                block = np.arange(plane * _PLANE, (plane + 1) * _PLANE)
                block = block[(block < 0xD800) | (block >= 0xE000)]  # no surrogates
                _unicode_classes[block] = _char_classes(block)
                _planes_ready[plane] = True
    return _unicode_classes[codes]


def _classify(data: np.ndarray, ascii_only: bool) -> tuple[np.ndarray, bool]:
    """The class of the character each byte belongs to, and whether any space is not ASCII."""
    classes = _BYTE_CLASSES[data]
    if ascii_only:
        return classes, False
    leads = np.flatnonzero(data >= 0xC0)  # first bytes of 2- to 4-byte characters
    if leads.size == 0:
        return classes, False
    last = data.size - 1
    first = data[leads].astype(np.uint32)
    size = 2 + (first >= 0xE0) + (first >= 0xF0)
    tail = [data[np.minimum(leads + k, last)].astype(np.uint32) & 0x3F for k in (1, 2, 3)]
    code = np.where(
        size == 2,
        ((first & 0x1F) << 6) | tail[0],
        np.where(
            size == 3,
            ((first & 0x0F) << 12) | (tail[0] << 6) | tail[1],
            ((first & 0x07) << 18) | (tail[0] << 12) | (tail[1] << 6) | tail[2],
        ),
    )
    char_class = unicode_classes(np.minimum(code, _LAST_CODE))
    for k in range(4):  # the lead byte and its continuation bytes take the character's class
        inside = size > k
        classes[np.minimum(leads[inside] + k, last)] = char_class[inside]
    return classes, bool((char_class == SPACE).any())


def scan(texts: pa.Array, *, ascii_only: bool) -> pa.ListArray:
    """Tokenize a lowered (and normalised) string array with no nulls.

    Args:
        texts: pyarrow string array, lower case, NFKC unless ASCII, without nulls.
        ascii_only: Boolean. Whether every byte is ASCII (skips the UTF-8 decoding).

    Returns:
        A `list<string>` ListArray, one token list per text.
    """
    offsets = string_offsets(texts)
    data = string_bytes(texts)
    base = int(offsets[0])
    bounds = offsets - base
    if data.size == 0:
        empty = pa.array([], type=pa.string())
        return pa.ListArray.from_arrays(np.zeros(len(texts) + 1, dtype=np.int32), empty)
    classes, wide_space = _classify(data, ascii_only)
    word = classes == WORD
    starts = classes == SYMBOL
    if not ascii_only:
        starts &= (data & 0xC0) != 0x80  # a symbol starts at its first byte only
    after_word = np.empty_like(word)
    after_word[0] = False
    after_word[1:] = word[:-1]
    after_word[bounds[:-1][bounds[:-1] < data.size]] = False  # a text starts fresh
    starts |= word & ~after_word
    token_starts = np.flatnonzero(starts)
    token_offsets = np.empty(token_starts.size + 1, dtype=np.int32)
    token_offsets[:-1] = token_starts + base
    token_offsets[-1] = base + data.size
    # Each token runs to the next one's start; only white space lies in between.
    spans = pa.StringArray.from_buffers(
        token_starts.size, pa.py_buffer(token_offsets), texts.buffers()[2]
    )
    # Arrow's ASCII trim (faster) knows all white space but \x1c-\x1f and non-ASCII spaces.
    if not wide_space and not np.count_nonzero((data - np.uint8(0x1C)) < 4):
        tokens = pc.ascii_rtrim_whitespace(spans)
    else:
        tokens = pc.utf8_rtrim_whitespace(spans)
    list_offsets = np.searchsorted(token_starts, bounds).astype(np.int32)
    return pa.ListArray.from_arrays(list_offsets, tokens)
