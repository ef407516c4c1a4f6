"""A recommender's interactions: (user, item, rating) rows cleaned to keys and values, the
pairs as CSR, and per-row rating means. numpy and pyarrow only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.data.columns import rating_values
from embedlab.errors import ConfigError, DataError, LabelError
from embedlab.text.categorical import CategoricalVocabulary
from embedlab.text.categories import category_strings

log = logging.getLogger(__name__)


def interaction_keys(
    users: Any, items: Any, ratings: Any = None
) -> tuple[pa.Array, pa.Array, np.ndarray | None, int]:
    """(user keys, item keys, ratings or None, rows dropped): IDs normalised to strings,
    rows missing a user, item or rating dropped (and counted, with a warning)."""
    user_keys = category_strings(users, what="user IDs")
    item_keys = category_strings(items, what="item IDs")
    if len(user_keys) != len(item_keys):
        raise DataError(
            f"users and items must be the same length. Received {len(user_keys)} users "
            f"and {len(item_keys)} items."
        )
    if len(user_keys) == 0:
        raise DataError("no interactions to train on. Pass at least a few rows.")
    keep = np.asarray(user_keys.is_valid()) & np.asarray(item_keys.is_valid())
    values = None
    if ratings is not None:
        values = rating_values(ratings, len(user_keys))
        keep &= ~np.isnan(values)
    dropped = int((~keep).sum())
    if dropped:
        log.warning("%d rows without a user, item or rating were dropped.", dropped)
    if not keep.any():
        raise DataError(
            f"no rows to train on: all {len(keep)} lack a user, item or rating. "
            "Check the columns."
        )
    rows = pa.array(np.flatnonzero(keep))
    values = values[keep] if values is not None else None
    return user_keys.take(rows), item_keys.take(rows), values, dropped


def mean_ratings(ids: np.ndarray, values: np.ndarray, rows: int) -> np.ndarray:
    """The mean rating of each table row (float32, NaN for rows never rated)."""
    seen = np.bincount(ids, minlength=rows)
    total = np.bincount(ids, weights=values, minlength=rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, total / np.maximum(seen, 1), np.nan).astype("float32")


def csr(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs as CSR: indptr (n_rows + 1), cols sorted within each row."""
    pairs = np.unique(np.stack([rows.astype(np.int64), cols.astype(np.int64)], 1), axis=0)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.add.at(indptr, pairs[:, 0] + 1, 1)
    return np.cumsum(indptr), pairs[:, 1].astype(np.int32)


@dataclass
class EncodedInteractions:
    """Interactions as ids: the vocabularies, the ids and ratings of the kept rows, which
    rows are positive, and the pairs seen (and positive) per user as CSR."""

    users: CategoricalVocabulary
    items: CategoricalVocabulary
    u: np.ndarray
    i: np.ndarray
    values: np.ndarray | None
    positive: np.ndarray
    dropped: int
    seen: tuple[np.ndarray, np.ndarray]
    positives: tuple[np.ndarray, np.ndarray]
    popularity: np.ndarray


def encode_interactions(users: Any, items: Any, ratings: Any = None, *, implicit: bool,
                        min_rating: float, min_count: int = 1,
                        buckets: dict[str, int] | None = None) -> EncodedInteractions:
    """Clean the rows (`interaction_keys`), learn the user and item vocabularies (IDs
    rarer than `min_count` share the unknown row; `buckets` hashes "user" and/or "item"),
    encode the rows, and find the positives (every row, or ratings >= `min_rating` when
    implicit feedback comes with ratings)."""
    user_keys, item_keys, values, dropped = interaction_keys(users, items, ratings)
    buckets = buckets or {}
    user_vocab = CategoricalVocabulary(min_count=min_count, buckets=buckets.get("user")).fit(
        user_keys, what="user IDs")
    item_vocab = CategoricalVocabulary(min_count=min_count, buckets=buckets.get("item")).fit(
        item_keys, what="item IDs")
    for name, vocab in (("user", user_vocab), ("item", item_vocab)):
        if vocab.hashed:
            log.info("%s IDs: %d distinct hashed into %d buckets, %d sharing a bucket with "
                     "another.", name, vocab.distinct, vocab.buckets, vocab.collisions)
    u, i = user_vocab.encode(user_keys), item_vocab.encode(item_keys)
    positive = (np.ones(len(u), bool) if values is None or not implicit
                else values >= min_rating)
    if implicit and not positive.any():
        raise LabelError(
            f"no rating reaches min_rating={min_rating:g} (the highest is "
            f"{np.max(values):g}), so there are no positives. Lower --min-rating."
        )
    rows = user_vocab.input_dim
    return EncodedInteractions(
        user_vocab, item_vocab, u, i, values, positive, dropped, csr(u, i, rows),
        csr(u[positive], i[positive], rows),
        np.bincount(i[positive], minlength=item_vocab.input_dim).astype(np.int64))


def parse_buckets(value: int | dict | None) -> dict[str, int]:
    """`hash_buckets` as {"user": N, "item": M} (an integer means both)."""
    if value is None:
        return {}
    found = {"user": value, "item": value} if not isinstance(value, dict) else dict(value)
    for name, buckets in found.items():
        if name not in ("user", "item") or isinstance(buckets, bool) or not isinstance(
                buckets, int) or buckets < 1:
            raise ConfigError(
                "`hash_buckets` takes a positive integer, or {'user': N, 'item': M}. "
                f"Received: hash_buckets={value!r}."
            )
    return found


def repeated_pairs(u: np.ndarray, i: np.ndarray, items: int) -> int:
    """How many rows repeat a (user, item) pair of an earlier row (logged: each row still
    trains as given, so a repeated rating counts once more)."""
    if len(u) == 0:
        return 0
    pairs = u.astype("int64") * int(items) + i.astype("int64")
    repeated = int(len(pairs) - len(np.unique(pairs)))
    if repeated:
        log.warning("%d rows repeat a (user, item) pair of an earlier row; each row trains "
                    "as given (deduplicate the data to count each pair once).", repeated)
    return repeated

