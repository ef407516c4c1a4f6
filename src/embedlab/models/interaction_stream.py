"""A recommender's interactions streamed from disk (`embedlab.data.stream.TableStream`),
never held whole: the passes a streamed fit makes.

1. `count`: one pass counting user and item IDs (`ValueCounter`: exact while the distinct
   IDs fit its bound, the most frequent past it, reported) and the ratings' range and mean;
   the vocabularies are fitted from the counts.
2. `index`: one pass encoding the rows to ids: the (user, item) pairs seen and positive per
   user (CSR, built from one int64 code per row, sorted in place), item popularity, mean
   ratings per row, and the validation rows (held in memory).
3. `chunks`: every training epoch, a pass yielding the training rows' ids and targets, record
   batch by record batch, in a shuffled file and row-group order.

Validation rows are chosen by a stable hash of the row's user and item
(`embedlab.data.stream.key_fraction`), so each pass and each machine agrees on them. IDs are
encoded through a sorted table of 64-bit hashes of the kept values (`HashIndex`), one
`searchsorted` per batch rather than a hash table rebuilt per batch; integer IDs are counted
and looked up as integers, never turned into text. numpy and pyarrow only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from embedlab.data.columns import rating_values
from embedlab.data.stream import TableStream, key_fraction
from embedlab.errors import DataError, LabelError
from embedlab.text._hashing import token_hashes
from embedlab.text.categorical import MISSING_ID, RESERVED, UNKNOWN_ID, CategoricalVocabulary
from embedlab.text.categories import category_strings
from embedlab.text.value_counts import ValueCounter

log = logging.getLogger(__name__)

CHUNK_CODES = 4_000_000  # codes deduplicated at a time when building the CSR
DIRECT_ROWS = 1 << 22  # integer IDs spanning fewer values than this (or 8x the kept) are
# looked up in a table indexed by the ID itself


class HashIndex:
    """Ids of a fitted vocabulary's values: by a sorted table of the values themselves for
    an integer ID column, of their 64-bit hashes for text (one `searchsorted` per batch)."""

    def __init__(self, vocab: CategoricalVocabulary, *, integer: bool = False):
        self.vocab, self.integer = vocab, integer
        self.keys = None
        if vocab.hashed:
            return
        values = vocab.value_array()
        keys = values.cast(pa.int64()).to_numpy() if integer else token_hashes(values)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = (order + len(RESERVED)).astype(np.int32)
        if not integer and len(keys) > 1 and np.any(self.keys[1:] == self.keys[:-1]):
            self.keys = None  # two values share a 64-bit hash: look them up exactly
        self.table = None  # integer IDs in a compact range: one gather per batch
        if integer and len(keys):
            self.low, span = int(self.keys[0]), int(self.keys[-1]) - int(self.keys[0]) + 1
            if span <= max(8 * len(keys), DIRECT_ROWS):
                self.table = np.full(span, UNKNOWN_ID, np.int32)
                self.table[self.keys - self.low] = self.ids

    def encode(self, keys: pa.Array) -> np.ndarray:
        """int32 ids of one batch's keys (integers, or normalised strings; null:
        `<missing>`, not kept: `<unk>`)."""
        if self.keys is None:
            return self.vocab.encode(keys)
        missing = np.asarray(keys.is_null())
        filled = keys.fill_null(0 if self.integer else "") if keys.null_count else keys
        found = (filled.cast(pa.int64()).to_numpy() if self.integer
                 else token_hashes(filled))
        if self.table is not None:
            at = found - self.low
            inside = (at >= 0) & (at < len(self.table))
            ids = np.full(len(keys), UNKNOWN_ID, np.int32)
            ids[inside] = self.table[at[inside]]
        elif len(self.keys) == 0:
            ids = np.full(len(keys), UNKNOWN_ID, np.int32)
        else:
            at = np.minimum(np.searchsorted(self.keys, found), len(self.keys) - 1)
            ids = np.where(self.keys[at] == found, self.ids[at], UNKNOWN_ID).astype(np.int32)
        ids[missing] = MISSING_ID
        return ids


@dataclass
class StreamIndex:
    """What the index pass found."""

    rows: int
    train_rows: int
    seen: tuple[np.ndarray, np.ndarray]
    positives: tuple[np.ndarray, np.ndarray]
    popularity: np.ndarray
    validation: tuple[dict, np.ndarray] | None
    attributes: dict = field(default_factory=dict)


class InteractionStream:
    """The passes over a streamed interactions table.

    Args:
        stream: The TableStream (its columns: user, item, and the rating if any).
        user, item, rating: Column names (rating optional).
        implicit: Boolean. Implicit feedback (train on positives, negatives drawn).
        min_rating: Float. Implicit with ratings: the positives are ratings >= this.
        validation_split: Float. Share of rows (by key hash) held out for validation.
        seed: Integer. Seeds the hash split and the shuffles.
    """

    def __init__(self, stream: TableStream, *, user: str, item: str, rating: str | None,
                 implicit: bool, min_rating: float, validation_split: float, seed: int):
        self.stream, self.user, self.item, self.rating = stream, user, item, rating
        self.implicit, self.min_rating = implicit, float(min_rating)
        self.validation_split, self.seed = float(validation_split), int(seed)
        self.rows = self.dropped = self.positive_rows = 0
        self.rating_range: tuple[float, float] | None = None
        self.mean_rating: float | None = None
        self.users: CategoricalVocabulary | None = None
        self.items: CategoricalVocabulary | None = None
        self.approximate: dict[str, int] = {}

    def _clean(self, batch: pa.RecordBatch):
        """(user strings, item strings, ratings or None, where validation) of the kept rows."""
        users = self._keys(batch.column(self.user), self.user, "user")
        items = self._keys(batch.column(self.item), self.item, "item")
        keep = np.asarray(users.is_valid()) & np.asarray(items.is_valid())
        values = None
        if self.rating:
            values = rating_values(batch.column(self.rating), None, what="rating")
            keep &= ~np.isnan(values)
        if not keep.all():
            rows = pa.array(np.flatnonzero(keep))
            users, items = users.take(rows), items.take(rows)
            values = values[keep] if values is not None else None
        held = (key_fraction([users, items], seed=self.seed) < self.validation_split
                if self.validation_split > 0 else np.zeros(len(users), bool))
        return users, items, values, held, int((~keep).sum())

    def _integer(self, column: str) -> bool:
        names = self.stream.schema.names
        return column in names and pa.types.is_integer(self.stream.schema.field(column).type)

    def _keys(self, array, column: str, what: str) -> pa.Array:
        """A batch's IDs: integers as they are (their text is their decimal digits, so
        counts and ids agree with `category_strings`), anything else normalised to text."""
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if self._integer(column) and pa.types.is_integer(array.type):
            return array.cast(pa.int64())
        return category_strings(array, what=f"{what} IDs ({column!r})")

    def _positive(self, values: np.ndarray | None, n: int) -> np.ndarray:
        if values is None or not self.implicit:
            return np.ones(n, bool)
        return values >= self.min_rating

    # ------------------------------------------------------------------ pass 1
    def count(self, *, min_count: int, buckets: dict[str, int]) -> None:
        counters = {"user": ValueCounter(), "item": ValueCounter()}
        low, high, total = np.inf, -np.inf, 0.0
        self.rows = self.dropped = self.positive_rows = 0
        for batch in self.stream.batches():
            users, items, values, _, dropped = self._clean(batch)
            self.dropped += dropped
            self.rows += len(users)
            counters["user"].add(users)
            counters["item"].add(items)
            self.positive_rows += int(self._positive(values, len(users)).sum())
            if values is not None and len(values):
                low, high = min(low, float(values.min())), max(high, float(values.max()))
                total += float(values.sum())
        self.stream.rows = self.rows + self.dropped
        if self.dropped:
            log.warning("%d rows without a user, item or rating were dropped.", self.dropped)
        if self.rows == 0:
            raise DataError(f"no rows to train on in {str(self.stream.path)!r}: every row "
                            "lacks a user, item or rating. Check the columns.")
        if self.implicit and self.positive_rows == 0:
            raise LabelError(f"no rating reaches min_rating={self.min_rating:g} (the highest "
                             f"is {high:g}), so there are no positives. Lower --min-rating.")
        if self.rating and not self.implicit:
            if high == low:
                raise LabelError(f"every rating is {low:g}; a rating model needs at least two "
                                 "values. Pass varied ratings, or --implicit.")
            self.rating_range, self.mean_rating = (low, high), total / self.rows
        vocabs = {}
        for name, counter in counters.items():
            keys, counts = counter.result()
            if counter.approximate:
                self.approximate[name] = counter.forgotten
                log.warning("%s IDs: more than %d distinct; the %d rows of the rarest were "
                            "counted as unknown.", name, counter.max_distinct, counter.forgotten)
            vocabs[name] = CategoricalVocabulary(
                min_count=min_count, buckets=buckets.get(name)).fit_counts(
                keys.cast(pa.string()), counts, missing=counter.missing, what=f"{name} IDs")
            if counter.forgotten:  # their rows land in <unk>: count them there
                vocabs[name].counts[UNKNOWN_ID] += counter.forgotten
        self.users, self.items = vocabs["user"], vocabs["item"]
        self._indexes = (HashIndex(self.users, integer=self._integer(self.user)),
                         HashIndex(self.items, integer=self._integer(self.item)))

    def _encode(self, users: pa.Array, items: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """int32 ids of a batch's user and item keys."""
        return self._indexes[0].encode(users), self._indexes[1].encode(items)

    # ------------------------------------------------------------------ pass 2
    def index(self, *, negatives: int) -> StreamIndex:
        n_users, n_items = self.users.input_dim, self.items.input_dim
        codes = np.empty(self.rows, np.int64)
        filled = train_rows = 0
        popularity = np.zeros(n_items, np.int64)
        sums = {"users": np.zeros(n_users), "items": np.zeros(n_items)}
        val_u, val_i, val_y = [], [], []
        for batch in self.stream.batches():
            users, items, values, held, _ = self._clean(batch)
            u, i = self._encode(users, items)
            positive = self._positive(values, len(u))
            if filled + len(u) > self.rows:
                raise DataError(f"{str(self.stream.path)!r} holds more rows than in the first "
                                "pass over it. Keep the data unchanged while training.")
            codes[filled:filled + len(u)] = ((u.astype(np.int64) * n_items + i) << 1) | positive
            filled += len(u)
            popularity += np.bincount(i[positive], minlength=n_items)
            if values is not None:
                sums["users"] += np.bincount(u, weights=values, minlength=n_users)
                sums["items"] += np.bincount(i, weights=values, minlength=n_items)
            trains = ~held & positive if self.implicit else ~held
            train_rows += int(trains.sum()) * (1 + negatives if self.implicit else 1)
            if held.any():
                rows = held & positive if self.implicit else held
                val_u.append(u[rows])
                val_i.append(i[rows])
                val_y.append(values[rows].astype(np.float32)
                             if values is not None and not self.implicit
                             else np.ones(int(rows.sum()), np.float32))
        if filled != self.rows:
            raise DataError(f"{str(self.stream.path)!r} holds fewer rows than in the first "
                            "pass over it. Keep the data unchanged while training.")
        validation = self._validation(val_u, val_i, val_y, negatives)
        attributes = {}
        if self.rating:
            attributes = {name: {"mean rating": _means(sums[name], vocab.counts)}
                          for name, vocab in (("users", self.users), ("items", self.items))}
        seen, positives = sorted_csr(codes, n_users, n_items,
                                     every=self.positive_rows == self.rows)
        del codes
        return StreamIndex(self.rows, train_rows, seen, positives, popularity, validation,
                           attributes)

    def _validation(self, us, is_, ys, negatives: int):
        if not us or sum(len(u) for u in us) == 0:
            return None
        u, i, y = np.concatenate(us), np.concatenate(is_), np.concatenate(ys)
        if not self.implicit:
            return {"user": u, "item": i}, y.astype("float32")
        from embedlab.models.factorization import implicit_rows

        x, y, _ = implicit_rows(u, i, negatives=negatives, items=self.items.input_dim,
                                seed=self.seed)
        return x, y

    # ------------------------------------------------------------------ epochs
    def chunks(self, rng: np.random.Generator, *,
               negatives: int) -> Iterator[tuple[dict, np.ndarray]]:
        """One epoch's training rows, record batch by record batch: ({user, item}, target).
        Implicit: each positive, then `negatives` rows with items drawn afresh."""
        first = len(RESERVED)
        for batch in self.stream.batches(rng):
            users, items, values, held, _ = self._clean(batch)
            u, i = self._encode(users, items)
            if self.implicit:
                keep = ~held & self._positive(values, len(u))
                u, i = u[keep], i[keep]
                drawn = rng.integers(first, self.items.input_dim, size=len(u) * negatives,
                                     dtype=np.int32)
                x = {"user": np.concatenate([u, np.repeat(u, negatives)]),
                     "item": np.concatenate([i, drawn])}
                y = np.concatenate([np.ones(len(u)), np.zeros(len(drawn))]).astype("float32")
            else:
                keep = ~held
                x, y = {"user": u[keep], "item": i[keep]}, values[keep].astype("float32")
            if len(y):
                yield x, y


def _means(total: np.ndarray, counts: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan).astype("float32")


def sorted_csr(codes: np.ndarray, n_users: int, n_items: int, *, every: bool = False):
    """(seen, positives) as CSR from codes ((user * n_items + item) << 1 | positive), sorted
    in place and deduplicated a chunk at a time. The seen items are written over the sorted
    codes behind the chunk being read (4 bytes each where a code took 8), so the work costs
    the codes' own memory and one copy of the seen items. `every`: every row is positive
    (explicit ratings), so the two CSRs are the same arrays."""
    codes.sort()
    seen = _Distinct(n_users, n_items, out=codes.view(np.int32))
    positive = None if every else _Distinct(n_users, n_items)
    for start in range(0, len(codes), CHUNK_CODES):
        part = codes[start:start + CHUNK_CODES]
        chosen = None if every else part[(part & 1) == 1] >> 1
        seen.add(part >> 1)  # both read before the seen items overwrite this chunk
        if positive is not None:
            positive.add(chosen)
    found = seen.csr()
    return found, found if positive is None else positive.csr()


class _Distinct:
    """Distinct sorted pairs (user * n_items + item), fed in order a chunk at a time, as CSR.
    With `out` the item ids go into that int32 buffer (which may be the one being read,
    as long as writing stays behind reading), else into a list of pieces."""

    def __init__(self, n_users: int, n_items: int, *, out: np.ndarray | None = None):
        self.n_users, self.n_items = n_users, n_items
        self.items: list[np.ndarray] = []
        self.out, self.filled = out, 0
        self.counts = np.zeros(n_users, np.int64)
        self.last = -1

    def add(self, pairs: np.ndarray) -> None:
        if not len(pairs):
            return
        fresh = np.empty(len(pairs), bool)
        fresh[0] = pairs[0] != self.last
        np.not_equal(pairs[1:], pairs[:-1], out=fresh[1:])
        kept = pairs[fresh]
        self.counts += np.bincount(kept // self.n_items, minlength=self.n_users)
        self.last = pairs[-1]
        if self.out is None:
            self.items.append((kept % self.n_items).astype(np.int32))
        else:
            self.out[self.filled:self.filled + len(kept)] = kept % self.n_items
            self.filled += len(kept)

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        indptr = np.zeros(self.n_users + 1, np.int64)
        np.cumsum(self.counts, out=indptr[1:])
        if self.out is not None:
            items = self.out[:self.filled].copy()
        else:
            items = np.concatenate(self.items) if self.items else np.zeros(0, np.int32)
        self.items, self.out = [], None
        return indptr, items
