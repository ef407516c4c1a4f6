"""Training throughput of the `cnn` recipe against the same model written in plain Keras.

Both train on the same id arrays (the women's reviews training split, encoded once) for one
epoch per timed run, after a warm-up epoch each (compilation excluded); 5 runs alternate
between the two and the medians are compared, as tokens per second.

    python -m bench.train_speed
"""

from __future__ import annotations

import statistics
import time

from bench._report import md_table, write_section

TEXT, LABEL = "Review Text", "Recommended IND"
DIM, FILTERS, KERNEL, DROPOUT, BATCH = 64, 128, 5, 0.2, 32


def plain_keras_cnn(input_dim: int, length: int):
    import keras

    model = keras.Sequential([
        keras.Input(shape=(length,), dtype="int32"),
        keras.layers.Embedding(input_dim, DIM),
        keras.layers.Conv1D(FILTERS, KERNEL, activation="relu"),
        keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dropout(DROPOUT),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run(runs: int = 5) -> dict:
    import keras

    from embedlab.data.datasets import split_by_permutation, womens_reviews
    from embedlab.models.recipes import build_model
    from embedlab.text import TextEncoder
    from embedlab.training.trainer import Phase, TrainSettings, train

    train_table, _ = split_by_permutation(womens_reviews(), seed=0)
    texts = train_table[TEXT].to_pylist()
    encoder = TextEncoder(max_tokens=20000).fit(texts)
    length = encoder.suggest_length()
    x = encoder.encode(texts, length=length)
    y = train_table[LABEL].to_numpy().astype("float32")
    tokens = int((x != 0).sum())

    keras.utils.set_random_seed(0)
    ours = build_model("cnn", input_dim=encoder.input_dim, length=length, dim=DIM, task="binary")
    plain = plain_keras_cnn(encoder.input_dim, length)
    settings = TrainSettings(epochs=1, batch_size=BATCH, validation_split=0.0)

    def ours_epoch():
        train(ours, x, y, task="binary", settings=settings, phases=[Phase(1)])

    def plain_epoch():
        plain.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)

    ours_epoch(), plain_epoch()  # warm-up: compile both
    times = {"embedlab": [], "plain Keras": []}
    for _ in range(runs):
        for name, fn in (("embedlab", ours_epoch), ("plain Keras", plain_epoch)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = {k: tokens / v for k, v in med.items()}
    ratio = rate["embedlab"] / rate["plain Keras"]
    rows = [[k, f"{med[k]:.2f}", f"{rate[k]:,.0f}"] for k in med]
    body = (
        f"One epoch over {len(x)} rows x length {length} ({tokens:,} real tokens), batch {BATCH}, "
        f"median of {runs} alternating runs after a warm-up epoch each (Keras {keras.__version__}, "
        f"backend {keras.backend.backend()}).\n\n"
        + md_table(["model", "seconds/epoch", "tokens/s"], rows)
        + f"\n\nThroughput ratio embedlab / plain Keras: **{ratio:.3f}** (target >= 0.95)."
    )
    write_section("Text recipes: training speed", body, command="python -m bench.train_speed")
    print(body)
    return {"ratio": ratio, **{f"{k} s/epoch": v for k, v in med.items()}}


if __name__ == "__main__":
    run()
