"""Counting the values of a column that arrives in pieces (a streamed file), exactly while
the distinct values fit a bound, then keeping the most frequent.

    counter = ValueCounter()
    for batch in batches:
        counter.add(strings)             # a pyarrow string array; nulls are counted apart
    keys, counts = counter.result()      # distinct values and their counts
    CategoricalVocabulary(...).fit_counts(keys, counts, missing=counter.missing)

Each piece is counted with `pyarrow.compute.value_counts`; pieces are merged with an Arrow
group-by once they hold more than `merge_every` entries, so memory follows the number of
distinct values, not of rows. Past `max_distinct` distinct values the counter keeps the
`max_distinct` most frequent at each merge and forgets the rest (a heavy-hitters count):
`approximate` says so and `forgotten` how many rows' values were let go, which the caller
reports (those values end up in `<unk>` or, hashed, in their bucket).

numpy and pyarrow only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedlab.errors import ConfigError

# 20M distinct strings of ~10 bytes take about 0.5 GB in Arrow while merging.
MAX_DISTINCT = 20_000_000


class ValueCounter:
    """Exact counts of a streamed column's values, bounded by `max_distinct`.

    Args:
        max_distinct: Integer. Most distinct values kept; past it only the most frequent
            are kept (and `approximate` is set).
        merge_every: Integer. Pending entries that trigger a merge.

    Attributes:
        rows: Integer. Values counted (nulls included).
        missing: Integer. Null values.
        approximate: Boolean. Whether values were forgotten to stay under `max_distinct`.
        forgotten: Integer. Rows whose values were forgotten.
    """

    def __init__(self, *, max_distinct: int = MAX_DISTINCT, merge_every: int = 2_000_000):
        if isinstance(max_distinct, bool) or not isinstance(max_distinct, int) or max_distinct < 1:
            raise ConfigError(f"`max_distinct` must be an integer >= 1. Received {max_distinct!r}.")
        self.max_distinct = max_distinct
        self.merge_every = max(int(merge_every), 1)
        self.rows = 0
        self.missing = 0
        self.approximate = False
        self.forgotten = 0
        self._merged: pa.Table | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def add(self, strings: pa.Array) -> None:
        """Count one piece: a string array (nulls are missing values)."""
        self.rows += len(strings)
        self.missing += strings.null_count
        counted = pc.value_counts(strings.drop_null() if strings.null_count else strings)
        if len(counted) == 0:
            return
        self._pending.append(pa.table({"value": counted.field("values"),
                                       "count": counted.field("counts")}))
        self._pending_rows += len(counted)
        if self._pending_rows >= self.merge_every:
            self._merge()

    def _merge(self) -> None:
        parts = ([self._merged] if self._merged is not None else []) + self._pending
        self._pending, self._pending_rows = [], 0
        if not parts:
            return
        table = pa.concat_tables(parts)
        merged = table.group_by("value").aggregate([("count", "sum")]).rename_columns(
            ["value", "count"])
        if len(merged) > self.max_distinct:
            order = pc.sort_indices(merged, [("count", "descending"), ("value", "ascending")])
            kept, dropped = order[: self.max_distinct], order[self.max_distinct:]
            self.forgotten += int(pc.sum(merged["count"].take(dropped)).as_py() or 0)
            self.approximate = True
            merged = merged.take(kept)
        self._merged = merged.combine_chunks()

    def result(self) -> tuple[pa.Array, np.ndarray]:
        """(distinct values, their counts as int64), in no particular order."""
        self._merge()
        if self._merged is None:
            return pa.array([], pa.string()), np.zeros(0, np.int64)
        return (self._merged["value"].combine_chunks(),
                self._merged["count"].to_numpy().astype(np.int64))
