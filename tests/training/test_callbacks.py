"""The streamed fit's progress line: rows done, rows/s and the time left."""

import io
import time

from embedlab.training.callbacks import RowsProgress


def test_progress_counts_rows_and_estimates_the_time_left(monkeypatch):
    clock = iter([0.0, 10.0, 20.0, 20.0, 25.0, 100.0])
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = RowsProgress(rows=1000, batch_size=100, epochs=3, live=False, every=1.0, stream=out)
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(4)  # 500 rows in 10 s: 50 rows/s; 10 s + 2 epochs of 20 s left
    bar.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.25})  # 1000 rows in 20 s
    bar.on_epoch_begin(1)
    bar.on_train_batch_end(9)  # the epoch's last batch
    lines = out.getvalue().splitlines()
    assert lines[0] == "epoch 1/3: 500/1k rows, 50 rows/s, 50s left"
    assert lines[1] == "epoch 1/3: 1k rows in 20s (50 rows/s), loss 0.5, val_loss 0.25"
    assert lines[2] == "epoch 2/3: 1k/1k rows, 200 rows/s, 20s left"  # the last epoch's rate
