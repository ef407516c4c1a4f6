"""One step-time measurement in a process of its own (for bench.big_tables): the
matrix-factorisation network with plain Keras tables or embedlab's row-sparse ones.

    python -m bench._step_probe ROWS dense|sparse STEPS BATCH DIM ITEMS
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def network(rows: int, sparse: bool, dim: int, items: int):
    if sparse:
        from embedlab.models.factorization import scoring_network
        from embedlab.training.trainer import fitting_model

        return fitting_model(scoring_network(
            rows, items, dim, implicit=False, rating_range=(1.0, 5.0), mean_rating=3.5,
            sparse_users=True, sparse_items=True))
    u = keras.Input(shape=(), dtype="int32", name="user")
    i = keras.Input(shape=(), dtype="int32", name="item")
    p, q = keras.layers.Embedding(rows, dim)(u), keras.layers.Embedding(items, dim)(i)
    x = keras.layers.Add()([keras.layers.Dot(axes=1)([p, q]), keras.layers.Embedding(items, 1)(i),
                            keras.layers.Embedding(rows, 1)(u)])
    return keras.Model([u, i], keras.layers.Dense(1)(x))


def main(rows: int, mode: str, steps: int, batch: int, dim: int, items: int) -> None:
    keras.utils.set_random_seed(0)
    model = network(rows, mode == "sparse", dim, items)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    rng = np.random.default_rng(0)
    n = batch * steps
    x = {"user": rng.integers(0, rows, n).astype("int32"),
         "item": rng.integers(0, items, n).astype("int32")}
    y = rng.uniform(1, 5, n).astype("float32")
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # compiles
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append((time.perf_counter() - start) / steps * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"ms": sorted(times)[1], "peak": peak}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:7]))
