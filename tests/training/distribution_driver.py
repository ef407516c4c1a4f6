"""Runs one group of the distribution checks in a process of its own, so that
XLA_FLAGS=--xla_force_host_platform_device_count=8 (set by tests/training/test_distribution.py
before this process starts JAX) gives it 8 virtual CPU devices.

    python distribution_driver.py GROUP OUT_DIR     # GROUP: text, tabular, recommender, errors

Prints one JSON object: for a model kind, the largest differences of each mesh's run from
the single-device run (losses relative, predictions and tables absolute) and what else was
checked; for `errors`, the message and exit code of each bad input.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

MESHES = ["data=8", "model=8", "data=2,model=4"]
EPOCHS = 3
WORDS = ["tea", "coffee", "box", "fresh", "stale", "great", "awful", "cup", "bag", "snack",
         "bitter", "sweet", "love", "hate", "fine"]


def reviews(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 8)))) for _ in range(n)]
    labels = ["good" if ("great" in t or "love" in t or "sweet" in t) else "bad" for t in texts]
    return texts, labels


def ratings(n_users: int = 31, n_items: int = 22, per_user: int = 7, seed: int = 0):
    rng = np.random.default_rng(seed)
    users, items, values = [], [], []
    for u in range(n_users):
        for i in rng.choice(n_items, per_user, replace=False):
            same = (u < n_users // 2) == (i < n_items // 2)
            users.append(f"u{u}")
            items.append(f"i{i}")
            values.append(float(rng.integers(4, 6) if same else rng.integers(1, 3)))
    return users, items, values


def tabular_rows(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    colour = rng.choice([f"c{i}" for i in range(9)], n)
    shape = rng.choice([f"s{i}" for i in range(12)], n)
    size = rng.normal(size=n).round(3)
    label = [int(c in ("c1", "c2", "c3") or s > 0.5) for c, s in zip(colour, size, strict=True)]
    return pa.table({"colour": colour.tolist(), "shape": shape.tolist(), "size": size.tolist(),
                     "label": label})


def losses(model) -> np.ndarray:
    return np.array([[row[k] for k in ("loss", "val_loss") if k in row]
                     for row in model.history.epochs], dtype="float64")


def relative(a, b) -> float:
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def absolute(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


def tables(model) -> dict[str, np.ndarray]:
    return {name: t.vectors.vectors for name, t in model.embedding_tables().items()}


def kind(group: str, out: Path) -> dict:
    from embedlab.models.recommender import Recommender
    from embedlab.models.tabular import TabularModel
    from embedlab.models.text import TextClassifier

    if group == "text":
        texts, labels = reviews(203)
        probe = reviews(13, seed=1)[0]  # 13 rows: no mesh's data axis divides them

        def make(mesh):
            return TextClassifier(arch="bag", dim=8, ngram_buckets=61, epochs=EPOCHS, seed=3,
                                  batch_size=24, validation_split=0.2, patience=5,
                                  learning_rate=1e-2, mesh=mesh).fit(texts, labels)

        def predict(model, rows):
            return model.predict_raw(rows)
    elif group == "tabular":
        table = tabular_rows(211)
        probe = tabular_rows(13, seed=1).drop(["label"])

        def make(mesh):
            return TabularModel(epochs=EPOCHS, batch_size=24, seed=3, validation_split=0.2,
                                patience=5, learning_rate=1e-2, hidden=(8,), dropout=0.2,
                                mesh=mesh).fit(table, "label")

        def predict(model, rows):
            return model.predict_raw(rows)
    else:
        users, items, values = ratings()
        probe = (["u1", "u2", "u20", "u3", "u9", "u11", "u0", "u5", "u6", "u7", "u8", "u4",
                  "u13"], ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i0", "i12",
                           "i15", "i20"])

        def make(mesh):
            return Recommender(epochs=EPOCHS, batch_size=24, seed=3, dim=8, l2=0.01,
                               validation_split=0.2, patience=5, learning_rate=1e-2,
                               sparse=True, mesh=mesh).fit(users, items, values)

        def predict(model, rows):
            return model.predict(*rows)

    def head(rows, n):
        return rows.slice(0, n) if isinstance(rows, pa.Table) else (
            tuple(r[:n] for r in rows) if isinstance(rows, tuple) else rows[:n])

    base = make(None)
    found = {"meshes": {}}
    base_losses, base_pred, base_tables = losses(base), predict(base, probe), tables(base)
    for mesh in MESHES:
        model = make(mesh)
        pred = predict(model, probe)
        three = predict(model, head(probe, 3))
        record = model.manifest()["distribution"]
        path = model.save(out / mesh.replace(",", "_").replace("=", ""))
        loaded = type(model).load(path)  # on one device: no mesh, the padded tables kept
        found["meshes"][mesh] = {
            "loss": relative(losses(model), base_losses),
            "epochs": len(model.history.epochs),
            "predictions": absolute(pred, base_pred),
            "three_rows": absolute(three, head(base_pred, 3)),
            "tables": max(absolute(t, base_tables[n]) for n, t in tables(model).items()),
            "table_shapes": sorted([n, list(t.shape)] for n, t in tables(model).items()),
            "base_shapes": sorted([n, list(t.shape)] for n, t in base_tables.items()),
            "loaded_predictions": absolute(predict(loaded, probe), pred),
            "loaded_tables": max(absolute(t, base_tables[n])
                                 for n, t in tables(loaded).items()),
            "record": record,
            "shards": shard_rows(model, record),
        }
    if group == "recommender":
        found["usable_after_failure"] = failed_predict(model)
    return found


def shard_rows(model, record) -> dict[str, list]:
    """{sharded variable: [its rows, the rows each device holds]} (addressable shards)."""
    variables = {v.path: v for v in model.model.variables}
    return {path: [int(variables[path].shape[0]),
                   sorted({int(s.data.shape[0]) for s in variables[path].value.addressable_shards})]
            for path in record["sharded"]}


def failed_predict(model) -> dict:
    """A predict that fails half-way (a callback raising), then a normal one: with
    `keep_usable` the model still predicts; without it, it does not."""
    import keras

    from embedlab.training.distribution import keep_usable, scope

    class Stop(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            raise RuntimeError("stop")

    x = {"user": np.arange(1, 12, dtype="int32"), "item": np.arange(1, 12, dtype="int32")}
    found = {}
    with scope(model.layout):
        expected = np.asarray(model.model.predict(x, verbose=0))
        try:
            with keep_usable(model.model):
                model.model.predict(x, verbose=0, callbacks=[Stop()])
        except RuntimeError:
            pass
        found["guarded"] = absolute(model.model.predict(x, verbose=0), expected)
        try:
            model.model.predict(x, verbose=0, callbacks=[Stop()])
        except RuntimeError:
            pass
        # what Keras leaves behind without the guard: variables with no value
        found["unguarded_emptied"] = sum(v._value is None for v in model.model.variables)
    return found


def errors(out: Path) -> dict:
    from typer.testing import CliRunner

    from embedlab.cli.app import app
    from embedlab.errors import ConfigError
    from embedlab.models.recommender import Recommender
    from embedlab.training.distribution import parse_mesh

    found = {}
    for spec in ["data=3", "data=16", "data=2,model=8", "batch=8", "data=8,data=1", "data=x",
                 "data=0,model=8", "data8", ""]:
        try:
            parse_mesh(spec)
            found[spec] = "accepted"
        except ConfigError as exc:
            found[spec] = str(exc)
    from embedlab.training.distribution import plan, table_size

    small, big = table_size(1000, 8, sparse=False), table_size(10**6, 64, sparse=False)
    for name, tables, memory in (("auto small", {"t": small}, None),
                                 ("auto big", {"t": big}, 4 * big.bytes() - 1)):
        layout = plan(parse_mesh("auto"), tables, memory=memory)
        found[name] = layout.record()["mesh"]
    found["split"] = batch_split()
    users, items, values = ratings(n_users=4, n_items=22)  # 4 users + 3 reserved rows < 8
    try:
        Recommender(epochs=1, dim=4, mesh="model=8", implicit=False).fit(
            users, items, values)
        found["model axis > rows"] = "accepted"
    except ConfigError as exc:
        found["model axis > rows"] = str(exc)
    data = out / "ratings.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa.table({"user": users, "item": items, "rating": values}), data)
    cli = {}
    for spec in ["data=3", "data=16", "lanes=8", "data=2,model", "model=8"]:
        target = out / f"bundle_{len(cli)}"
        result = CliRunner().invoke(app, ["train", "recommender", str(data), "--user", "user",
                                          "--item", "item", "--rating", "rating", "--epochs",
                                          "1", "--no-report", "-o", str(target), "--mesh", spec])
        cli[spec] = {"exit": result.exit_code, "output": result.output.strip(),
                     "written": sorted(p.name for p in out.iterdir()
                                       if p.name.startswith(("bundle", ".bundle")))}
    found["cli"] = cli
    return found


def batch_split() -> dict:
    """{mesh: {batch rows: [the output's partition spec, the rows each device computes]}}
    of a table's lookup: batches that divide by the data axis are split on it."""
    import jax
    import keras

    from embedlab.layers import make_embedding
    from embedlab.training.distribution import parse_mesh, plan, scope, table_size

    found = {}
    for spec in ("data=8", "data=2,model=4"):
        layout = plan(parse_mesh(spec), {"user_embedding": table_size(1003, 16, sparse=False)})
        with scope(layout):
            ids = keras.Input(shape=(), dtype="int32", name="user")
            model = keras.Model(ids, make_embedding(1003, 16, name="user_embedding")(ids))
            values = [v.value for v in model.trainable_variables]
            lookup = jax.jit(lambda values, x, model=model: model.stateless_call(values, [], x)[0])
            found[spec] = {}
            for rows in (64, 13):
                y = lookup(values, np.arange(rows, dtype="int32"))
                found[spec][rows] = [str(y.sharding.spec),
                                     sorted({s.data.shape[0] for s in y.addressable_shards})]
    return found


def main() -> None:
    group, out = sys.argv[1], Path(sys.argv[2])
    import jax

    found = {"devices": len(jax.devices())}
    found.update(errors(out) if group == "errors" else kind(group, out))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
