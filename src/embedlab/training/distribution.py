"""The distribution layout: a `--mesh` spec read, the automatic choice, and the
`keras.distribution` object a model builds, trains and predicts under.

    spec = parse_mesh("data=2,model=4")         # checked against the devices there are
    layout = plan(spec, {"user_embedding": TableSize(943, 32)})
    with scope(layout):                          # build and fit inside it
        model = build(); fit(model)
    layout.record(model)  # {"mesh": {"data": 2, "model": 4}, "processes": 1, "sharded": [...]}

Everything runs through Keras's own engine: `DataParallel` for a mesh of `data` alone,
`ModelParallel` with a `LayoutMap` otherwise, whose keys are the exact variable paths of the
embedding tables (`<layer>/embeddings`, with a row-sparse table's slots): their rows are
split on the `model` axis, and nothing else (bias tables, dense layers) is sharded.

Two choices make any batch size work on any mesh. A batch is handed to the devices whole
(`get_data_layout` is replicated) and split on `data` inside the compiled step, at the
output of each table (`get_tensor_layout` of `<table>/output`): JAX splits an array inside
`jit` even when its rows do not divide (the last shard is short), where placing it from the
host demands that they divide (`IndivisibleError`). And a sharded table gets rows up to a
multiple of the `model` axis (`table_rows`), zero and never looked up; the layers ask the
distribution in scope for it, and the models trim them from every table they hand out.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
from dataclasses import dataclass

from embedlab.errors import ConfigError
from embedlab.training.processes import process_count

log = logging.getLogger(__name__)

AXES = ("data", "model")
AUTO = "auto"
# --mesh auto keeps every table on every device (DataParallel) while each table and its
# optimizer slots take at most this share of one device's memory.
AUTO_SHARE = 0.25
DENSE_SLOTS = 2  # Keras's Adam: momentum and velocity, each the table's size
_SPEC = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*(\d+)\s*$")
_EXAMPLE = "Pass e.g. --mesh data=2,model=4 or --mesh auto."


@dataclass(frozen=True)
class MeshSpec:
    """A parsed `--mesh`: the size of each axis, or `auto` (sizes chosen by `plan`)."""

    data: int = 1
    model: int = 1
    auto: bool = False

    @property
    def devices(self) -> int:
        return self.data * self.model


@dataclass(frozen=True)
class TableSize:
    """An embedding table as the automatic choice weighs it: rows, dimension and its
    optimizer's slots in tables' worth (2 for Adam; 1/dim for row-wise Adagrad)."""

    rows: int
    dim: int
    slots: float = DENSE_SLOTS

    def bytes(self, model: int = 1) -> float:
        """Bytes one device holds of it: rows x dim x 4 x (1 + slots) / model axis."""
        return self.rows * self.dim * 4 * (1 + self.slots) / model


def table_size(rows: int, dim: int, *, sparse: bool) -> TableSize:
    """The size of a table trained densely (Keras's Adam) or row-sparsely (Adagrad)."""
    return TableSize(int(rows), int(dim), 1 / dim if sparse else DENSE_SLOTS)


def parse_mesh(spec) -> MeshSpec | None:
    """`--mesh` (`"data=2,model=4"`, `"auto"`, a dict of axis sizes or None) as a
    `MeshSpec`, checked against the devices JAX sees; None keeps the single-device run.

    Raises:
        ConfigError: a malformed spec, an unknown or repeated axis, a size below 1, a
            product that is not the number of devices (or more devices than there are).
    """
    if spec is None or isinstance(spec, MeshSpec):
        return spec
    if isinstance(spec, str) and spec.strip().lower() == AUTO:
        return MeshSpec(auto=True)
    sizes = _sizes(spec)
    mesh = MeshSpec(data=sizes.get("data", 1), model=sizes.get("model", 1))
    there = device_count()
    if mesh.devices > there:
        raise ConfigError(
            f"--mesh {describe(mesh)} needs {mesh.devices} devices, but only {there} exist. "
            "Pass a mesh whose sizes multiply to the device count, or --mesh auto."
        )
    if mesh.devices != there:
        raise ConfigError(
            f"--mesh {describe(mesh)} uses {mesh.devices} devices; the sizes must multiply to "
            f"the {there} devices there are. Pass e.g. --mesh data={there} or --mesh auto."
        )
    local = local_device_count()
    if process_count() > 1 and local % mesh.model:
        # each process must hold whole tables: a table split across processes cannot be
        # read back (best epoch, checkpoints, the bundle) without a collective gather
        raise ConfigError(
            f"--mesh model={mesh.model} would split tables across processes; over "
            f"{process_count()} processes the model axis must divide the {local} devices of "
            f"one process. Pass e.g. --mesh data={there // local},model={local}."
        )
    return mesh


def _sizes(spec) -> dict[str, int]:
    if isinstance(spec, dict):
        items = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, str):
        items = []
        for part in spec.split(","):
            found = _SPEC.match(part)
            if not found:
                raise ConfigError(
                    f"--mesh must be AXIS=N[,AXIS=N] (axes data, model) or auto. Received "
                    f"{spec!r}. {_EXAMPLE}"
                )
            items.append((found.group(1), int(found.group(2))))
    else:
        raise ConfigError(f"--mesh must be a string or a dict of axis sizes. Received "
                          f"{spec!r} (of type {type(spec).__name__}). {_EXAMPLE}")
    sizes: dict[str, int] = {}
    for axis, size in items:
        if axis not in AXES:
            raise ConfigError(f"--mesh axis {axis!r} is unknown; the axes are data and model. "
                              f"{_EXAMPLE}")
        if axis in sizes:
            raise ConfigError(f"--mesh names the axis {axis!r} twice. Name each axis once.")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"--mesh axis {axis!r} must be an integer >= 1. Received "
                              f"{size!r}. {_EXAMPLE}")
        sizes[axis] = size
    if not sizes:
        raise ConfigError(f"--mesh names no axis. {_EXAMPLE}")
    return sizes


def describe(mesh: MeshSpec) -> str:
    return f"data={mesh.data},model={mesh.model}"


def device_count() -> int:
    """The devices of every process together."""
    import jax

    return len(jax.devices())


def local_device_count() -> int:
    import jax

    return jax.local_device_count()


def device_memory() -> int:
    """Bytes of one device's memory: what the device reports, else (CPU) this machine's
    memory shared among its devices."""
    import jax

    devices = jax.devices()
    stats = devices[0].memory_stats() or {}
    if stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // len(devices)


def choose(spec: MeshSpec, tables: dict[str, TableSize], *, devices: int | None = None,
           memory: int | None = None) -> MeshSpec:
    """The mesh for `auto`: every device on `data` while each table with its slots takes at
    most `AUTO_SHARE` of one device's memory, else every device on `model`."""
    if not spec.auto:
        return spec
    devices = device_count() if devices is None else devices
    memory = device_memory() if memory is None else memory
    if all(t.bytes() <= AUTO_SHARE * memory for t in tables.values()):
        return MeshSpec(data=devices, model=1)
    model = local_device_count() if process_count() > 1 else devices  # see `parse_mesh`
    return MeshSpec(data=devices // model, model=model)


class Layout:
    """The distribution one run uses: its mesh, the tables it shards and the Keras
    distribution object (see the module's docstring)."""

    def __init__(self, mesh: MeshSpec, tables: dict[str, TableSize]):
        import keras
        import numpy as np

        self.mesh = mesh
        self.tables = dict(tables)
        self.sharded_tables = sorted(tables) if mesh.model > 1 else []
        devices = np.array(keras.distribution.list_devices()[: mesh.devices])
        outputs = "|".join(re.escape(name) for name in sorted(tables))
        batch_paths = re.compile(rf"(?:.*/)?(?:{outputs})/output") if tables else None
        if mesh.model == 1:
            device_mesh = keras.distribution.DeviceMesh((mesh.data,), ("data",), devices)
            self.distribution = _distribution_class("DataParallel")(device_mesh=device_mesh)
        else:
            device_mesh = keras.distribution.DeviceMesh(
                (mesh.data, mesh.model), AXES, devices.reshape(mesh.data, mesh.model))
            layouts = keras.distribution.LayoutMap(device_mesh)
            for name in self.sharded_tables:
                for path, axes in sharded_paths(name).items():
                    layouts[re.escape(path)] = axes
            self.distribution = _distribution_class("ModelParallel")(
                layout_map=layouts, batch_dim_name="data")
        # every process hands the steps the whole batch (see `get_data_layout`), so Keras
        # must not expect a tf.data pipeline to split among the processes
        self.distribution.auto_shard_dataset = False
        self.distribution.embedlab_layout = self
        self._batch_paths = batch_paths
        self._output_paths = None

    def replicate_outputs(self, model) -> None:
        """Keep the outputs of `model` whole on every device. Over several processes a
        batch split on `data` would leave each process only its own rows of the outputs,
        which `predict` cannot bring back (an array spanning other processes' devices)."""
        names = "|".join(re.escape(t._keras_history.operation.name) for t in model.outputs)
        self._output_paths = re.compile(rf"(?:.*/)?(?:{names})/output")

    def table_rows(self, name: str, rows: int) -> int:
        """The rows table `name` is built with: `rows` up to a multiple of the model axis
        when it is sharded."""
        if name not in self.sharded_tables:
            return rows
        return math.ceil(rows / self.mesh.model) * self.mesh.model

    def batch_layout(self, path: str):
        """The layout of an intermediate tensor: a table's output split on `data`."""
        import keras

        if self._output_paths is not None and self._output_paths.fullmatch(path):
            return keras.distribution.TensorLayout((None,), self.distribution.device_mesh)
        if self._batch_paths is None or self.mesh.data == 1 or not self._batch_paths.fullmatch(
                path):
            return None
        return keras.distribution.TensorLayout(("data",), self.distribution.device_mesh)

    def record(self, model=None) -> dict:
        """What the manifest keeps: the mesh, the processes and the sharded variable paths
        (those the Keras model holds, when given)."""
        wanted = [p for name in self.sharded_tables for p in sharded_paths(name)]
        if model is not None:
            held = {v.path for v in model.variables}
            wanted = [p for p in wanted if p in held]
        return {"mesh": {"data": self.mesh.data, "model": self.mesh.model},
                "processes": process_count(), "sharded": wanted}


def sharded_paths(name: str) -> dict[str, tuple]:
    """{variable path: its axes} of a row-sharded table `name` and of the row-sparse
    slots it may carry (Keras's own optimizer slots follow their table's layout)."""
    return {f"{name}/embeddings": ("model", None), f"{name}/accumulator": ("model",),
            f"{name}/momentum": ("model", None), f"{name}/velocity": ("model", None)}


@functools.cache
def _distribution_class(kind: str):
    """Keras's `DataParallel` or `ModelParallel` with batches placed whole and split on
    `data` at the tables' outputs (made on first use, so importing this module costs no
    Keras)."""
    import keras

    base = getattr(keras.distribution, kind)

    class AnyBatch(base):
        embedlab_layout: Layout

        def get_data_layout(self, data_shape):
            return keras.distribution.TensorLayout([None] * len(data_shape), self.device_mesh)

        def get_tensor_layout(self, path):
            return self.embedlab_layout.batch_layout(path) or super().get_tensor_layout(path)

        def table_rows(self, name: str, rows: int) -> int:
            """The rows table `name` is built with (read by `embedlab.layers`)."""
            return self.embedlab_layout.table_rows(name, rows)

    AnyBatch.__name__ = AnyBatch.__qualname__ = f"AnyBatch{kind}"
    return AnyBatch


def plan(spec: MeshSpec | None, tables: dict[str, TableSize], *,
         memory: int | None = None) -> Layout | None:
    """The layout of a run over `tables` (`{table layer: TableSize}`), or None for the
    single-device run (no mesh, or `auto` on one device). Logs the layout chosen.
    `memory` (bytes of one device) overrides what `device_memory` finds, for `auto`.

    Raises:
        ConfigError: when the model axis is larger than a sharded table's rows.
    """
    if spec is None:
        return None
    mesh = choose(spec, tables, memory=memory)
    if mesh.devices == 1:
        log.info("distribution: one device, no mesh")
        return None
    if mesh.model > 1:
        for name, size in tables.items():
            if size.rows < mesh.model:
                raise ConfigError(
                    f"--mesh model={mesh.model} splits each table by rows, but table {name!r} "
                    f"has {size.rows} rows. Pass a model axis of at most {size.rows}, or put "
                    "the devices on data."
                )
    layout = Layout(mesh, tables)
    log.info("distribution: mesh %s (%s), tables sharded by rows: %s", describe(mesh),
             "ModelParallel" if mesh.model > 1 else "DataParallel",
             ", ".join(layout.sharded_tables) or "none")
    return layout


def scope(layout: Layout | None):
    """A context in which Keras builds, trains and predicts under `layout` (nothing for
    None)."""
    if layout is None:
        return contextlib.nullcontext()
    return layout.distribution.scope()


def padded_rows(rows: int, manifest: dict, name: str) -> int:
    """The rows a bundle's table `name` holds: `rows`, up to a multiple of the model axis
    when its manifest records the table as sharded."""
    record = manifest.get("distribution") or {}
    if f"{name}/embeddings" not in (record.get("sharded") or []):
        return rows
    model = int((record.get("mesh") or {}).get("model", 1))
    return math.ceil(rows / model) * model


@contextlib.contextmanager
def keep_usable(model):
    """Leave a Keras model usable when a `predict` (or `fit`) on it fails half-way.

    JAX's trainer detaches the variables' values while it runs (their buffers are donated
    to each step) and reattaches the latest ones at the end, so an exception in between
    would leave the variables empty. On failure the latest state a step returned is
    reattached; a variable no step reached gets back the value it held before the call."""
    if model is None:
        yield
        return
    before = [(v, v._value) for v in model.variables]
    try:
        yield
    except BaseException:
        if getattr(model, "_jax_state", None):
            model._jax_state_synced = False
            model.jax_state_sync()
        for variable, value in before:
            deleted = getattr(value, "is_deleted", None)  # a JAX buffer donated to a step
            if variable._value is None and value is not None and not (deleted and deleted()):
                variable._value = value
        model._jax_state = None
        model._jax_state_synced = True
        raise
