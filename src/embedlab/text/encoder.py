"""TextEncoder: texts to padded int32 id matrices, outside the model graph."""

from __future__ import annotations

import json
import logging
import os
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.atomic import write_text
from embedlab.errors import ConfigError, DataError
from embedlab.text._checks import check_choice, check_integer, check_number
from embedlab.text._columns import as_text_array, map_chunks, text_chunks
from embedlab.text._hashing import token_hashes
from embedlab.text._sequences import append_ngrams, item_counts, pad_into
from embedlab.text.tokenize import tokenize_chunk
from embedlab.text.vocabulary import UNK_ID, Vocabulary

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.txt"
CONFIG_FILE = "encoder.json"
FORMAT = "embedlab.TextEncoder"
FORMAT_VERSION = 1
SIDES = ("post", "pre")
_INT32_MAX = int(np.iinfo(np.int32).max)


class TextEncoder:
    """Turns texts into padded int32 id matrices for an Embedding layer.

    Texts are tokenized (see `tokenize`), looked up in a vocabulary learned by `fit` (id 0
    pads, id 1 is any unknown word), optionally followed by hashed word n-grams, and cut or
    padded to one length. Every id is in `[0, input_dim)`.

    Example:

    >>> encoder = TextEncoder(max_tokens=1000, length=4).fit(["a good dress", "a bad fit"])
    >>> encoder.encode(["a good fit!"]).tolist()
    [[2, 6, 5, 1]]

    Args:
        max_tokens: Optional integer >= 3. Most ids in the vocabulary, <pad> and <unk>
            included. None keeps every word.
        min_count: Integer >= 1. Words seen fewer times in training map to <unk>.
        ngrams: Integer >= 1. Longest word n-gram to add; 2 adds bigrams, 3 also trigrams.
        ngram_buckets: Integer >= 0. Hash buckets shared by all n-grams; they take ids
            `len(vocabulary)` to `input_dim - 1`. Required (> 0) when `ngrams` > 1.
        length: Optional integer >= 1. Columns of the encoded matrix. None uses
            `suggest_length()` (from the training lengths).
        padding: "post" (ids, then zeros) or "pre" (zeros, then ids).
        truncation: "post" (keep the first ids) or "pre" (keep the last ids).
    """

    def __init__(
        self,
        *,
        max_tokens: int | None = 20000,
        min_count: int = 1,
        ngrams: int = 1,
        ngram_buckets: int = 0,
        length: int | None = None,
        padding: str = "post",
        truncation: str = "post",
    ) -> None:
        why = " (ids 0 and 1 are reserved for <pad> and <unk>)"
        self.max_tokens = check_integer(
            "max_tokens", max_tokens, minimum=3, allow_none=True, why=why
        )
        if self.max_tokens is not None and self.max_tokens > _INT32_MAX:
            raise ConfigError(
                f"`max_tokens` must be at most {_INT32_MAX:,} (ids are int32). Received: "
                f"max_tokens={max_tokens}. Pass a smaller vocabulary size (e.g. 20000)."
            )
        self.min_count = check_integer("min_count", min_count, minimum=1)
        self.ngrams = check_integer("ngrams", ngrams, minimum=1)
        self.ngram_buckets = check_integer("ngram_buckets", ngram_buckets, minimum=0)
        self.length = check_integer("length", length, minimum=1, allow_none=True)
        self.padding = check_choice("padding", padding, SIDES)
        self.truncation = check_choice("truncation", truncation, SIDES)
        if self.ngrams > 1 and self.ngram_buckets == 0:
            raise ConfigError(
                f"`ngram_buckets` must be > 0 when `ngrams` > 1 (n-grams are hashed into "
                f"buckets). Received: ngrams={ngrams}, ngram_buckets=0. Pass ngram_buckets, "
                f"e.g. 200000, or ngrams=1."
            )
        if self.ngram_buckets >= _INT32_MAX - (self.max_tokens or 0):
            raise ConfigError(
                f"`ngram_buckets` must leave room for int32 ids (at most {_INT32_MAX} ids in "
                f"all). Received: ngram_buckets={ngram_buckets}. Use fewer buckets."
            )
        if self.ngrams == 1 and self.ngram_buckets:
            logger.warning("ngram_buckets=%d is unused with ngrams=1.", self.ngram_buckets)
        self.vocabulary: Vocabulary | None = None
        self._lengths: tuple[np.ndarray, np.ndarray] | None = None  # training length histogram

    def __repr__(self) -> str:
        state = f"{len(self.vocabulary)} ids" if self.vocabulary is not None else "not fitted"
        return (
            f"<TextEncoder {state}, max_tokens={self.max_tokens}, ngrams={self.ngrams}, "
            f"ngram_buckets={self.ngram_buckets}, length={self.length}>"
        )

    @property
    def is_fitted(self) -> bool:
        """Whether the encoder has a vocabulary (from `fit` or `load`)."""
        return self.vocabulary is not None

    @property
    def input_dim(self) -> int:
        """`len(vocabulary) + ngram_buckets`: the `input_dim` of the Embedding layer."""
        return len(self._fitted_vocabulary("input_dim")) + self.ngram_buckets

    def _fitted_vocabulary(self, what: str) -> Vocabulary:
        if self.vocabulary is None:
            raise ConfigError(
                f"TextEncoder.{what} needs a fitted encoder; received one that has not been "
                f"fitted. Call fit(texts) first, or TextEncoder.load(directory)."
            )
        return self.vocabulary

    def fit(self, texts: Any) -> TextEncoder:
        """Learn the vocabulary and the training lengths from texts.

        Args:
            texts: A list of str, a 1-D numpy array of objects, or a pyarrow string Array or
                ChunkedArray. None texts count as empty.

        Returns:
            The encoder itself, fitted.
        """
        column = as_text_array(texts)
        if len(column) == 0:
            raise DataError(
                "TextEncoder.fit expected at least one text; received none. "
                "Pass the training texts."
            )
        ngrams = self.ngrams

        def count(chunk: pa.Array) -> tuple[pa.StructArray, np.ndarray]:
            lists = tokenize_chunk(chunk)
            lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
            return pc.value_counts(pc.list_flatten(lists)), item_counts(lengths, ngrams)

        parts = map_chunks(count, text_chunks(column))
        tokens = pa.concat_arrays([counts.field("values") for counts, _ in parts])
        counts = pa.concat_arrays([counts.field("counts").cast(pa.int64()) for counts, _ in parts])
        vocabulary = Vocabulary.from_counts(
            tokens, counts, max_tokens=self.max_tokens, min_count=self.min_count
        )
        if len(vocabulary) + self.ngram_buckets > _INT32_MAX:
            raise ConfigError(
                f"The vocabulary ({len(vocabulary)} ids) plus `ngram_buckets` "
                f"({self.ngram_buckets}) must fit int32 ids. Set `max_tokens` lower."
            )
        self.vocabulary = vocabulary
        values, frequency = np.unique(np.concatenate([n for _, n in parts]), return_counts=True)
        self._lengths = (values.astype(np.int64), frequency.astype(np.int64))
        logger.info(
            "Fitted a vocabulary of %d ids on %d texts (%d tokens).",
            len(vocabulary),
            len(column),
            pc.sum(counts).as_py() or 0,
        )
        return self

    def lengths(self, texts: Any) -> np.ndarray:
        """Items per text (tokens, plus n-grams when `ngrams` > 1), before padding.

        Args:
            texts: The texts, as for `fit`.

        Returns:
            int64 numpy array, one count per text.
        """
        ngrams = self.ngrams

        def count(chunk: pa.Array) -> np.ndarray:
            lists = tokenize_chunk(chunk)
            return item_counts(pc.list_value_length(lists).to_numpy(zero_copy_only=False), ngrams)

        parts = map_chunks(count, text_chunks(as_text_array(texts)))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def suggest_length(self, *, percentile: float = 95, cap: int = 500, minimum: int = 8) -> int:
        """The sequence length to use when none is given.

        The smallest length that holds `percentile` percent of the training texts whole,
        clipped to `[minimum, cap]`.

        Args:
            percentile: Number in (0, 100]. Share of training texts that should fit.
            cap: Integer >= `minimum`. Longest length to suggest.
            minimum: Integer >= 1. Shortest length to suggest.

        Returns:
            The length, an int.
        """
        percentile = check_number("percentile", percentile, low=0, high=100)
        minimum = check_integer("minimum", minimum, minimum=1)
        cap = check_integer("cap", cap, minimum=minimum, why=" (at least `minimum`)")
        self._fitted_vocabulary("suggest_length()")
        if self._lengths is None:
            return minimum
        values, frequency = self._lengths
        cumulative = np.cumsum(frequency)
        target = percentile * int(cumulative[-1]) / 100
        index = min(int(np.searchsorted(cumulative, target, side="left")), len(values) - 1)
        return int(min(max(int(values[index]), minimum), cap))

    def encode(
        self,
        texts: Any,
        *,
        length: int | None = None,
        padding: str | None = None,
        truncation: str | None = None,
    ) -> np.ndarray:
        """Encode texts as a padded matrix of ids.

        Args:
            texts: The texts, as for `fit`.
            length: Optional integer >= 1. Columns of the result. None: the encoder's
                `length`, or `suggest_length()` when that is None too.
            padding: Optional "post" or "pre". None: the encoder's `padding`.
            truncation: Optional "post" or "pre". None: the encoder's `truncation`.

        Returns:
            int32 numpy array of shape (len(texts), length); 0 pads; every id is below
            `input_dim`.
        """
        vocab = self._fitted_vocabulary("encode()")
        length = check_integer("length", length, minimum=1, allow_none=True)
        if length is None:
            length = self.length if self.length is not None else self.suggest_length()
        padding = self.padding if padding is None else check_choice("padding", padding, SIDES)
        truncation = (
            self.truncation if truncation is None else check_choice("truncation", truncation, SIDES)
        )
        column = as_text_array(texts)
        out = np.zeros((len(column), length), dtype=np.int32)
        _ = vocab.key_array  # built once here, not in every thread
        chunks = text_chunks(column)
        starts = accumulate((len(chunk) for chunk in chunks), initial=0)  # first row of each

        def fill(item: tuple[int, pa.Array]) -> None:
            start, chunk = item
            ids, offsets = self._ids(chunk, vocab)
            rows = out[start : start + len(chunk)]
            pad_into(rows, ids, offsets, padding=padding, truncation=truncation)

        map_chunks(fill, list(zip(starts, chunks, strict=False)))
        return out

    def _ids(self, chunk: pa.Array, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids and offsets (from 0) of one slice of texts, n-grams included."""
        lists = tokenize_chunk(chunk)
        offsets = lists.offsets.to_numpy().astype(np.int64)
        offsets -= offsets[0]
        tokens = pc.list_flatten(lists)
        if self.ngrams == 1:
            return vocab.lookup_array(tokens), offsets
        encoded = pc.dictionary_encode(tokens)  # each distinct token hashed and looked up once
        distinct = encoded.dictionary
        index = encoded.indices.to_numpy(zero_copy_only=False)
        ids = vocab.lookup_array(distinct)[index]
        hashes = token_hashes(distinct)[index]
        return append_ngrams(
            ids,
            offsets,
            hashes,
            ngrams=self.ngrams,
            buckets=self.ngram_buckets,
            first_bucket_id=len(vocab),
        )

    def unknown_rate(self, texts: Any) -> float:
        """Share of the tokens of `texts` that map to <unk> (n-grams not counted).

        Args:
            texts: The texts, as for `fit`.

        Returns:
            A float in [0, 1]; 0.0 when the texts hold no tokens.
        """
        vocab = self._fitted_vocabulary("unknown_rate()")
        _ = vocab.key_array

        def count(chunk: pa.Array) -> tuple[int, int]:
            ids = vocab.lookup_array(pc.list_flatten(tokenize_chunk(chunk)))
            return int(np.count_nonzero(ids == UNK_ID)), int(ids.size)

        parts = map_chunks(count, text_chunks(as_text_array(texts)))
        unknown = sum(u for u, _ in parts)
        total = sum(t for _, t in parts)
        return unknown / total if total else 0.0

    def get_config(self) -> dict[str, Any]:
        """The settings and training lengths, JSON-safe (the vocabulary is saved apart)."""
        lengths = None
        if self._lengths is not None:
            values, frequency = self._lengths
            lengths = {"lengths": values.tolist(), "counts": frequency.tolist()}
        return {
            "max_tokens": self.max_tokens,
            "min_count": self.min_count,
            "ngrams": self.ngrams,
            "ngram_buckets": self.ngram_buckets,
            "length": self.length,
            "padding": self.padding,
            "truncation": self.truncation,
            "training_lengths": lengths,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextEncoder:
        """Rebuild an (unfitted) encoder from `get_config()`; it keeps the training lengths."""
        config = dict(config)
        lengths = config.pop("training_lengths", None)
        known = set(cls().get_config())
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(
                f"TextEncoder config keys must be among {sorted(known)}. "
                f"Received: {unknown}. Remove them."
            )
        encoder = cls(**config)
        if lengths is not None:
            values = np.asarray(lengths["lengths"], dtype=np.int64)
            frequency = np.asarray(lengths["counts"], dtype=np.int64)
            if values.shape != frequency.shape or values.size == 0:
                raise ConfigError(
                    "`training_lengths` must hold equal, non-empty `lengths` and `counts` "
                    f"lists. Received: {len(values)} lengths, {len(frequency)} counts."
                )
            encoder._lengths = (values, frequency)
        return encoder

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write `vocabulary.txt` and `encoder.json` into `directory` (created if absent).

        Each file is written to a temporary name and moved into place.

        Args:
            directory: Path of the directory.

        Returns:
            The directory path.
        """
        vocab = self._fitted_vocabulary("save()")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab.save(directory / VOCABULARY_FILE)
        document = {"format": FORMAT, "version": FORMAT_VERSION, "config": self.get_config()}
        write_text(directory / CONFIG_FILE, json.dumps(document, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TextEncoder:
        """Read an encoder written by `save`.

        Args:
            directory: Path of the directory holding `vocabulary.txt` and `encoder.json`.

        Returns:
            The fitted TextEncoder.

        Raises:
            DataError: a file is missing or malformed.
        """
        directory = Path(directory)
        for name in (CONFIG_FILE, VOCABULARY_FILE):
            if not (directory / name).is_file():
                raise DataError(
                    f"TextEncoder directory {directory} lacks {name}; expected {CONFIG_FILE} "
                    f"and {VOCABULARY_FILE} as written by TextEncoder.save(). Check the path."
                )
        path = directory / CONFIG_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            version, config = document["version"], document["config"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(
                f"{path} is not a TextEncoder config: expected JSON with 'version' and "
                f"'config', received a file that fails with {exc!r}. Save the encoder again."
            ) from None
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise DataError(
                f"{path} has format version {version!r}; this embedlab reads versions up to "
                f"{FORMAT_VERSION}. Upgrade embedlab to read it."
            )
        try:
            encoder = cls.from_config(config)
        except (ValueError, OverflowError, TypeError, KeyError) as exc:  # ConfigError too
            raise DataError(
                f"{path} holds an invalid setting ({exc}); expected what "
                f"TextEncoder.save() writes. Save the encoder again."
            ) from None
        encoder.vocabulary = Vocabulary.load(directory / VOCABULARY_FILE)
        return encoder
