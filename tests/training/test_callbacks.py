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


def test_early_stopping_puts_back_the_best_weights_kept_on_disk(tmp_path, monkeypatch):
    import tempfile

    import keras
    import numpy as np

    from embedlab.models.recipes import build_model
    from embedlab.training.callbacks import KeepBestEarlyStopping

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(200, 6)).astype("int32")
    y = rng.integers(0, 2, 200).astype("float32")  # noise: the validation loss soon rises
    keras.utils.set_random_seed(0)
    model = build_model("bag", input_dim=30, length=6, dim=8, task="binary")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    kept = []

    class Snapshot(keras.callbacks.Callback):  # the weights and folder after each epoch
        def on_epoch_end(self, epoch, logs=None):
            kept.append(([w.copy() for w in self.model.get_weights()],
                         sorted(p.name for p in tmp_path.iterdir())))

    stop = KeepBestEarlyStopping(monitor="val_loss", patience=2, spill_bytes=0)
    h = model.fit(x[:160], y[:160], validation_data=(x[160:], y[160:]), epochs=30,
                  verbose=0, callbacks=[stop, Snapshot()])
    losses = h.history["val_loss"]
    best = int(np.argmin(losses))
    assert best < len(losses) - 1 and stop.stopped_epoch > 0  # stopped past the best
    assert any(names for _, names in kept)  # the best weights waited on disk
    for got, want in zip(model.get_weights(), kept[best][0], strict=True):
        np.testing.assert_array_equal(got, want)
    assert list(tmp_path.iterdir()) == []  # and the folder is gone
