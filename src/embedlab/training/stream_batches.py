"""Training batches from data streamed off disk: a Keras `PyDataset` over chunks of rows
(record batches already encoded to ids), mixed in a shuffle buffer.

Each epoch asks the source for a fresh pass (files and row groups in a new order), fills a
buffer of `buffer_rows` rows, shuffles it, serves all but half of it as batches and refills;
at the end of the pass the rest is shuffled and served. Every training row is served exactly
once per epoch, in `ceil(rows / batch_size)` batches. A reader thread keeps the next chunks
ready while the model trains on the current ones.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import keras
import numpy as np

from embedlab.errors import DataError

log = logging.getLogger(__name__)

Source = Callable[[np.random.Generator], Iterator[tuple[dict, np.ndarray]]]
BUFFER_ROWS = 1_000_000
_DONE = object()


class StreamBatches(keras.utils.PyDataset):
    """Shuffled training batches from a streamed source.

    Args:
        source: Callable `(rng) -> iterator of (x dict, y)`: one pass over the training rows.
        rows: Integer. Training rows per pass (the source must yield exactly these).
        batch_size: Integer.
        seed: Integer. Seeds each epoch's file order, buffer shuffles and draws.
        buffer_rows: Integer. Rows in the shuffle buffer.
    """

    def __init__(self, source: Source, rows: int, *, batch_size: int, seed: int,
                 buffer_rows: int = BUFFER_ROWS):
        super().__init__(workers=1, use_multiprocessing=False)
        if rows < 1:
            raise DataError("no training rows are left after the validation split. Pass more "
                            "rows or a smaller --validation-split.")
        self.source, self.rows = source, int(rows)
        self.batch_size = int(batch_size)
        self.buffer_rows = max(int(buffer_rows), self.batch_size)
        self.rng = np.random.default_rng(seed)
        self._batches: Iterator | None = None
        self._next = 0
        self.epoch_seconds: list[float] = []
        self._started = None

    def __len__(self) -> int:
        return -(-self.rows // self.batch_size)

    def __getitem__(self, index: int):
        # Keras asks for batches 0, 1, ... in order (one worker, no processes), and may open
        # the next epoch before it ends this one; batch 0 always starts a fresh pass.
        if index == 0:
            self._batches, self._next = self._epoch(), 0
            self._started = time.perf_counter()
        if self._batches is None or index != self._next:
            raise IndexError(f"StreamBatches serves batches in order; asked for {index}, "
                             f"next is {self._next}.")
        self._next += 1
        try:
            batch = next(self._batches)
        except StopIteration:
            raise DataError(
                f"the data ran out after {index} batches of the {len(self)} its first pass "
                "promised. Keep the data unchanged while training.") from None
        if self._next == len(self):
            seconds = time.perf_counter() - self._started
            self.epoch_seconds.append(seconds)
            log.info("epoch of %d rows in %.1f s: %.0f rows/s.", self.rows, seconds,
                     self.rows / max(seconds, 1e-9))
        return batch

    def _epoch(self) -> Iterator[tuple[dict, np.ndarray]]:
        rng = np.random.default_rng(self.rng.integers(1 << 62))
        keep = self.buffer_rows // 2
        xs: list[dict] = []
        ys: list[np.ndarray] = []
        held = served = 0
        for x, y in _read_ahead(self.source(rng)):
            xs.append(x)
            ys.append(y)
            held += len(y)
            if held < self.buffer_rows:
                continue
            bx, by = _join(xs, ys)
            order = rng.permutation(len(by))
            cut = ((len(by) - keep) // self.batch_size) * self.batch_size
            # one gather per buffer, then batches are slices of it
            out = {k: v[order[:cut]] for k, v in bx.items()}
            out_y = by[order[:cut]]
            for start in range(0, cut, self.batch_size):
                end = start + self.batch_size
                served += end - start
                yield {k: v[start:end] for k, v in out.items()}, out_y[start:end]
            rest = order[cut:]
            xs, ys = [{k: v[rest] for k, v in bx.items()}], [by[rest]]
            held = len(rest)
        if held:
            bx, by = _join(xs, ys)
            order = rng.permutation(len(by))
            out = {k: v[order] for k, v in bx.items()}
            out_y = by[order]
            for start in range(0, len(by), self.batch_size):
                end = min(start + self.batch_size, len(by))
                served += end - start
                yield {k: v[start:end] for k, v in out.items()}, out_y[start:end]
        if served != self.rows:
            raise DataError(f"this pass over the data gave {served} training rows, the first "
                            f"gave {self.rows}. Keep the data unchanged while training.")


def _join(xs: list[dict], ys: list[np.ndarray]) -> tuple[dict, np.ndarray]:
    if len(ys) == 1:
        return xs[0], ys[0]
    return {k: np.concatenate([x[k] for x in xs]) for k in xs[0]}, np.concatenate(ys)


def _read_ahead(chunks: Iterator, depth: int = 4) -> Iterator:
    """The chunks of `chunks`, read by a thread of their own up to `depth` ahead (an error
    in the reader is raised here)."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    thread = threading.Thread(target=read, name="embedlab-stream-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
