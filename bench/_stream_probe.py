"""One streamed or in-memory recommender fit in a process of its own (for bench.streaming).

    python -m bench._stream_probe stream|memory PATH EPOCHS BATCH

Prints one JSON line: training rows per second of the last epoch (its training part, from
the history), peak RSS, and the bytes of the row-sparse tables and their Adagrad slots.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")


def main(how: str, path: str, epochs: int, batch: int) -> None:
    import numpy as np

    from embedlab.models.recommender import Recommender
    from embedlab.training.row_sparse import sparse_tables

    start = time.perf_counter()
    model = Recommender(seed=0, epochs=epochs, batch_size=batch, patience=epochs)
    if how == "stream":
        model.fit_stream(path, user="user", item="item", rating="rating")
        rows = model.data_summary["streamed"]["training_rows"]
    else:
        from embedlab.data.readers import read_table

        table = read_table(path, columns=["user", "item", "rating"])
        model.fit(table["user"], table["item"], table["rating"])
        rows = int(round(table.num_rows * (1 - model.settings.validation_split)))
        del table
    seconds = model.history.epochs[-1]["seconds"]
    tables = sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize
                 for layer in sparse_tables(model.model) for w in [layer.embeddings, *layer.slots])
    print(json.dumps({
        "how": how, "rows": rows, "users": model.users.distinct, "items": model.items.distinct,
        "epoch_seconds": seconds, "rows_per_second": rows / seconds,
        "total_seconds": time.perf_counter() - start,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "tables_and_slots": tables,
        "val_loss": model.history.best_validation().get("loss"),
    }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
