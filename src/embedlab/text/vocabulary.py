"""The vocabulary: tokens to integer ids and back, with ids 0 and 1 reserved."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.atomic import write_text
from embedlab.errors import ConfigError, DataError
from embedlab.text._checks import check_integer
from embedlab.text._columns import as_text_array, map_chunks, text_chunks
from embedlab.text._io import line_of_offset

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
RESERVED = (PAD, UNK)


class Vocabulary:
    """Maps tokens to integer ids and back.

    Id 0 is padding (`"<pad>"`), id 1 stands for every unknown token (`"<unk>"`), and the
    words take ids 2, 3, ... in order. The attribute names are gensim's.

    Example:

    >>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]], max_tokens=3)
    >>> vocab.index_to_key
    ['<pad>', '<unk>', 'the']
    >>> vocab.lookup(["the", "dog"]).tolist()
    [2, 1]

    Args:
        words: Iterable of str. The words, which take ids 2, 3, ... in this order. No
            duplicates, and neither of the reserved names.
        counts: Optional 1-D array of integers, one per word: how often each word was seen.
            Defaults to zeros.
        unknown_count: Integer. How many training tokens mapped to `"<unk>"`.

    Attributes:
        index_to_key: List of str. The token of each id, the two reserved ones included.
        key_to_index: Dict from token to id (built on first use).
        counts: int64 numpy array, one count per id. The `"<unk>"` row holds the number of
            training tokens that mapped to unknown; the `"<pad>"` row is 0.
    """

    def __init__(
        self,
        words: Iterable[str] = (),
        *,
        counts: Iterable[int] | np.ndarray | None = None,
        unknown_count: int = 0,
    ) -> None:
        words = list(words)
        bad = next((w for w in words if not isinstance(w, str)), None)
        if bad is not None:
            raise ConfigError(
                f"`words` must hold str values only. Received: {bad!r} "
                f"(of type {type(bad).__name__}). Convert the words to str."
            )
        reserved = [w for w in words if w in RESERVED]
        if reserved:
            raise ConfigError(
                f"`words` must not contain the reserved tokens {PAD!r} and {UNK!r} (ids 0 "
                f"and 1 are added for you). Received: {reserved[0]!r}. Remove it."
            )
        word_counts = np.zeros(len(words), np.int64) if counts is None else np.asarray(counts)
        if word_counts.shape != (len(words),):
            raise ConfigError(
                f"`counts` must hold one count per word ({len(words)}). "
                f"Received: counts of shape {word_counts.shape}."
            )
        unknown_count = check_integer("unknown_count", unknown_count, minimum=0)
        self._set([PAD, UNK, *words], np.concatenate([[0, unknown_count], word_counts]))
        if len(self.key_to_index) != len(self.index_to_key):
            duplicate = next(w for w, n in Counter(words).items() if n > 1)
            raise ConfigError(
                f"`words` must not repeat a word. Received {duplicate!r} twice. "
                f"Remove the duplicates."
            )

    def _set(self, index_to_key: list[str], counts: np.ndarray) -> None:
        self.index_to_key = index_to_key
        self.counts = np.asarray(counts, dtype=np.int64)
        self._key_to_index: dict[str, int] | None = None
        self._key_array: pa.Array | None = None

    @classmethod
    def _from_ids(cls, index_to_key: list[str], counts: np.ndarray) -> Vocabulary:
        vocab = cls.__new__(cls)
        vocab._set(index_to_key, counts)
        return vocab

    @classmethod
    def build(
        cls, token_lists: Any, *, max_tokens: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """Count tokens and keep the most frequent ones.

        Words are ordered by count, most frequent first, ties broken by the token in
        code-point order, so the same data always gives the same ids.

        Args:
            token_lists: The tokens of each document: a pyarrow ListArray or ChunkedArray of
                `list<string>` (what `tokenize` returns), or a list of lists of str.
            max_tokens: Optional integer >= 3. The most ids in all, the two reserved ones
                included (as Keras's TextVectorization counts). None keeps every word.
            min_count: Integer >= 1. Words seen fewer times are left out (they map to
                `"<unk>"`).

        Returns:
            A new Vocabulary.
        """
        check_integer("max_tokens", max_tokens, minimum=3, allow_none=True, why=_WHY_THREE)
        check_integer("min_count", min_count, minimum=1)
        lists = _as_token_lists(token_lists)
        partial = map_chunks(_count_chunk, text_chunks(lists))
        if partial:
            tokens = pa.concat_arrays([p.field("values") for p in partial])
            counts = pa.concat_arrays([p.field("counts").cast(pa.int64()) for p in partial])
        else:
            tokens, counts = pa.array([], pa.string()), pa.array([], pa.int64())
        return cls.from_counts(tokens, counts, max_tokens=max_tokens, min_count=min_count)

    @classmethod
    def from_counts(
        cls,
        tokens: pa.Array | list[str],
        counts: pa.Array | np.ndarray | list[int],
        *,
        max_tokens: int | None = None,
        min_count: int = 1,
    ) -> Vocabulary:
        """Build from tokens and their counts (repeated tokens have their counts summed).

        Args:
            tokens: pyarrow string Array or list of str.
            counts: Integers, one per token.
            max_tokens: Optional integer >= 3. The most ids in all, reserved ones included.
            min_count: Integer >= 1. Words seen fewer times are left out.

        Returns:
            A new Vocabulary, ordered by count descending, then token ascending.
        """
        check_integer("max_tokens", max_tokens, minimum=3, allow_none=True, why=_WHY_THREE)
        check_integer("min_count", min_count, minimum=1)
        keys = _as_strings(tokens)
        if isinstance(counts, (pa.Array, pa.ChunkedArray)):
            counts = counts.cast(pa.int64())
        else:
            counts = pa.array(np.asarray(counts, dtype=np.int64))
        if len(counts) != len(keys):
            raise ConfigError(
                f"`counts` must hold one count per token ({len(keys)}). "
                f"Received: {len(counts)} counts."
            )
        table = pa.table({"token": keys, "count": counts})
        table = table.group_by("token").aggregate([("count", "sum")])
        table = table.filter(pc.is_valid(table["token"]))
        total = pc.sum(table["count_sum"]).as_py() or 0
        words = table.filter(
            pc.and_(
                pc.greater_equal(table["count_sum"], min_count),
                pc.invert(pc.is_in(table["token"], value_set=pa.array(RESERVED))),
            )
        )
        order = pc.sort_indices(
            words, sort_keys=[("count_sum", "descending"), ("token", "ascending")]
        )
        if max_tokens is not None:
            order = order[: max_tokens - len(RESERVED)]
        words = words.take(order)
        word_counts = words["count_sum"].to_numpy()
        unknown = total - int(word_counts.sum())
        return cls._from_ids(
            [*RESERVED, *words["token"].to_pylist()],
            np.concatenate([[0, unknown], word_counts]).astype(np.int64),
        )

    @property
    def key_to_index(self) -> dict[str, int]:
        """Dict from token to id."""
        if self._key_to_index is None:
            self._key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        return self._key_to_index

    @property
    def key_array(self) -> pa.Array:
        """`index_to_key` as a pyarrow string array (what `lookup` searches)."""
        if self._key_array is None:
            self._key_array = pa.array(self.index_to_key, type=pa.string())
        return self._key_array

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, token: object) -> bool:
        return token in self.key_to_index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.index_to_key == other.index_to_key and np.array_equal(self.counts, other.counts)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = ", ".join(repr(key) for key in self.index_to_key[2:6])
        more = ", ..." if len(self) > 6 else ""
        return f"<Vocabulary with {len(self)} ids: <pad>, <unk>, {shown}{more}>"

    def lookup(self, tokens: pa.Array | pa.ChunkedArray | list[str]) -> np.ndarray:
        """The id of each token; unknown tokens (and nulls) get 1.

        Args:
            tokens: pyarrow string Array or ChunkedArray, or list of str.

        Returns:
            int32 numpy array, one id per token.
        """
        column = as_text_array(tokens)
        if not column.num_chunks:
            return np.zeros(0, dtype=np.int32)
        return np.concatenate([self.lookup_array(chunk) for chunk in column.chunks])

    def lookup_array(self, tokens: pa.Array) -> np.ndarray:
        """`lookup` for one pyarrow string array, without conversions (the encoder's path)."""
        keys = self.key_array
        if tokens.type != keys.type:
            keys = keys.cast(tokens.type)
        ids = pc.fill_null(pc.index_in(tokens, value_set=keys), UNK_ID)
        return ids.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as UTF-8 text, one `token<TAB>count` line per id, in id order.

        The file is written to a temporary name and moved into place, so a reader never
        sees half of it.

        Args:
            path: Path of the file to write.

        Returns:
            The path written.
        """
        unsafe = pc.match_substring_regex(self.key_array, r"[\t\n\r]")
        if pc.any(unsafe).as_py():
            index = pc.index(unsafe, True).as_py()
            raise DataError(
                f"Cannot save the vocabulary to {os.fspath(path)}: expected tokens without "
                f"tabs or line breaks, received {self.index_to_key[index]!r} (id {index}). "
                f"Remove such characters from the tokens before building the vocabulary."
            )
        lines = [
            f"{key}\t{count}\n"
            for key, count in zip(self.index_to_key, self.counts.tolist(), strict=True)
        ]
        return write_text(path, "".join(lines))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a file written by `save`.

        Args:
            path: Path of the vocabulary file.

        Returns:
            The Vocabulary.

        Raises:
            DataError: the file is missing or malformed (the message names the line).
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DataError(
                f"Vocabulary file {path} does not exist. Expected a file written by "
                f"Vocabulary.save(); check the path."
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed(path, line_of_offset(data, exc.start), "is not UTF-8 text") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        keys, counts = _parse_lines(path, lines)
        return cls._from_ids(keys, counts)


_WHY_THREE = " (ids 0 and 1 are reserved for <pad> and <unk>)"


def _malformed(path: Path, line: int, problem: str) -> DataError:
    return DataError(
        f"Vocabulary file {path}, line {line}: {problem}; expected one 'token<TAB>count' "
        f"line per id, starting with {PAD!r} and {UNK!r} (is this a file written by "
        f"Vocabulary.save()?)."
    )


def _parse_lines(path: Path, lines: list[str]) -> tuple[list[str], np.ndarray]:
    """Split `token<TAB>count` lines with Arrow kernels; find the bad line only on failure."""
    if len(lines) < len(RESERVED):
        raise _malformed(path, len(lines) + 1, f"the file has only {len(lines)} line(s)")
    column = pa.array(lines, type=pa.string())
    parts = pc.split_pattern(column, "\t", max_splits=1, reverse=True)
    two = pc.equal(pc.list_value_length(parts), 2)
    if not pc.all(two).as_py():
        bad = pc.index(two, False).as_py()
        raise _malformed(path, bad + 1, f"no tab in {_clip(lines[bad])!r}")
    keys = pc.list_element(parts, 0)
    count_text = pc.utf8_trim_whitespace(pc.list_element(parts, 1))
    digits = pc.match_substring_regex(count_text, r"^[0-9]{1,18}$")
    if not pc.all(digits).as_py():
        bad = pc.index(digits, False).as_py()
        raise _malformed(
            path, bad + 1, f"the count {count_text[bad].as_py()!r} is not a whole number"
        )
    key_list = keys.to_pylist()
    for position, name in enumerate(RESERVED):
        if key_list[position] != name:
            raise _malformed(path, position + 1, f"found {_clip(key_list[position])!r}")
    if len(set(key_list)) != len(key_list):
        seen: dict[str, int] = {}
        for line, key in enumerate(key_list, start=1):
            if key in seen:
                raise _malformed(path, line, f"{_clip(key)!r} repeats line {seen[key]}")
            seen[key] = line
    return key_list, pc.cast(count_text, pa.int64()).to_numpy()


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _as_strings(tokens: Any) -> pa.Array:
    column = as_text_array(tokens)
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def _as_token_lists(token_lists: Any) -> pa.ChunkedArray:
    if isinstance(token_lists, pa.Array):
        token_lists = pa.chunked_array([token_lists], type=token_lists.type)
    elif not isinstance(token_lists, pa.ChunkedArray):
        try:
            token_lists = pa.chunked_array([pa.array(list(token_lists), pa.list_(pa.string()))])
        except (TypeError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(
                f"Expected token lists (a list of lists of str, or what tokenize() returns), "
                f"received {type(token_lists).__name__} that does not convert ({exc}). "
                f"Pass tokenize(texts)."
            ) from None
    kind = token_lists.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    ):
        raise DataError(
            f"Expected token lists of type list<string>, received {kind}. Pass tokenize(texts)."
        )
    return token_lists


def _count_chunk(lists: pa.Array) -> pa.StructArray:
    return pc.value_counts(pc.list_flatten(lists))
