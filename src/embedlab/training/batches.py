"""Training batches drawn from arrays with a step of their own: fresh negative items for
implicit feedback, drawn for each batch as it is served (a Keras `PyDataset`).

Plain arrays train through `keras.Model.fit` directly; these batches are for inputs that
change from one step to the next.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

Transform = Callable[[dict, np.ndarray, np.random.Generator], dict]


class ArrayBatches(keras.utils.PyDataset):
    """Shuffled batches of arrays, each passed through `transform` as it is served.

    Args:
        x: Dict of arrays keyed by input name.
        y: Array of targets.
        rows: Integer array. Which rows of the caller's data these are (given to
            `transform`, so it can look up per-row facts such as a negative flag).
        batch_size: Integer.
        seed: Integer. Seeds the order of each epoch and `transform`'s draws.
        transform: Callable `(batch_x, batch_rows, rng) -> batch_x`.
        sample_weight: Optional array of per-row weights.
    """

    def __init__(self, x: dict, y: np.ndarray, rows: np.ndarray, *, batch_size: int, seed: int,
                 transform: Transform, sample_weight: np.ndarray | None = None):
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.y, self.rows, self.sample_weight = x, y, rows, sample_weight
        self.batch_size = int(batch_size)
        self.transform = transform
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(y))

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __getitem__(self, index: int):
        part = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        batch = self.transform({k: v[part] for k, v in self.x.items()}, self.rows[part],
                               self.rng)
        if self.sample_weight is None:
            return batch, self.y[part]
        return batch, self.y[part], self.sample_weight[part]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.y))


def negative_items(negative: np.ndarray, low: int, high: int, *, column: str = "item"
                   ) -> Transform:
    """A transform that gives each row flagged in `negative` (indexed by row) a fresh item
    drawn uniformly from `[low, high)` at every step."""

    def draw(batch: dict, rows: np.ndarray, rng: np.random.Generator) -> dict:
        flagged = negative[rows]
        items = batch[column].copy()
        items[flagged] = rng.integers(low, high, size=int(flagged.sum()), dtype=items.dtype)
        return {**batch, column: items}

    return draw
