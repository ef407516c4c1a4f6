"""One run of bench/distributed.py in a process of its own (so XLA_FLAGS, set by the bench
before this process starts JAX, gives it the virtual CPU devices asked for).

    python -m bench._distributed_probe DEVICES ROWS DIM INTERACTIONS

Trains `Recommender(mesh="model=DEVICES", hash_buckets={"user": ROWS})` for 2 epochs on
INTERACTIONS synthetic ratings (so the user table has ROWS rows, row-sharded over the
devices) and prints one JSON object: the seconds per step of the second epoch, and the
bytes of the user table and of its optimizer slots held by each device (read from the
arrays' addressable shards).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

TABLE = "user_embedding"  # the user table's layer (its bias table stays whole)


def main() -> None:
    devices, rows, dim, n = (int(a) for a in sys.argv[1:5])
    import jax

    from embedlab.models.recommender import Recommender

    rng = np.random.default_rng(0)
    users = rng.integers(0, rows, n).astype(str)
    items = rng.integers(0, 2000, n).astype(str)
    ratings = rng.integers(1, 6, n).astype("float64")
    batch = 1024
    rec = Recommender(dim=dim, mesh=f"model={devices}" if devices > 1 else None,
                      hash_buckets={"user": rows}, epochs=2, batch_size=batch,
                      validation_split=0.0, patience=10, seed=0)
    start = time.perf_counter()
    rec.fit(users, items, ratings)
    total = time.perf_counter() - start
    epochs = rec.history.epochs
    seconds = float(epochs[-1].get("seconds", total / len(epochs)))
    steps = -(-n // batch)
    table = per_device = slots = None
    for variable in rec.model.variables:
        value = variable.value
        shards = getattr(value, "addressable_shards", None)
        if shards is None:
            continue
        held = {}
        for shard in shards:
            held[str(shard.device)] = held.get(str(shard.device), 0) + shard.data.nbytes
        path = variable.path
        if path == f"{TABLE}/embeddings":
            table, per_device = int(value.nbytes), max(held.values())
        elif path in {f"{TABLE}/{slot}" for slot in ("accumulator", "momentum", "velocity")}:
            slots = (slots or 0) + max(held.values())
    print(json.dumps({
        "devices": devices, "jax_devices": len(jax.devices()), "rows": rows, "dim": dim,
        "steps_per_epoch": steps, "seconds_per_step": seconds / steps,
        "table_bytes": table, "table_bytes_per_device": per_device,
        "slot_bytes_per_device": slots, "fit_seconds": total,
        "distribution": rec.manifest().get("distribution"),
    }))


if __name__ == "__main__":
    main()
