"""The one module that knows the on-disk layout of a trained bundle.

A bundle is a directory:

    manifest.json     embedlab version, bundle format version, kind, task, columns, labels,
                      settings, metrics, training history, token frequencies
    model.keras       the Keras model
    encoder/          the text encoder (vocabulary.txt, encoder.json)
    categorical.json  tabular and recommender: the vocabulary of each categorical/ID column
    categorical_hashes.npz   hashed columns: the 64-bit hashes of the values seen in training
    interactions.npz  recommender: the items each user has seen, and item popularity
    embedding_initial.npy   with pre-trained vectors: the table's rows before training
    attributes.npz    per-row values of each embedding table (e.g. a word's share of positive
                      examples) that maps are coloured by; listed in the manifest
    report.html       the run's report, drawn from the files above (`embedlab report`)

It is built in a temporary directory beside the target and swapped into place in one step
(`embedlab.atomic`), so a failed save leaves the old bundle, never half of a new one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedlab import arrayfiles, atomic, locks
from embedlab.errors import BundleError
from embedlab.version import __version__

MANIFEST = "manifest.json"
MODEL = "model.keras"
ENCODER_DIR = "encoder"
INITIAL_EMBEDDING = "embedding_initial.npy"  # the table's rows before training (pre-trained)
CATEGORICAL = "categorical.json"  # tabular and recommender: one vocabulary per ID/category column
CATEGORICAL_HASHES = "categorical_hashes.npz"  # hashed columns: hashes of the values trained on
INTERACTIONS = "interactions.npz"  # recommender: items seen per user, item popularity
ATTRIBUTES = "attributes.npz"  # per-row attributes of the embedding tables (map colours)
REPORT = "report.html"  # written by `train` and `demo`; redrawn by `embedlab report`
FORMAT_VERSION = 1
REQUIRED = {
    "text": (MANIFEST, MODEL, ENCODER_DIR),
    "tabular": (MANIFEST, MODEL, CATEGORICAL),
    "recommender": (MANIFEST, MODEL, CATEGORICAL, INTERACTIONS),
}


def write_bundle(
    path: str | os.PathLike,
    manifest: dict,
    *,
    model=None,
    writers: dict[str, Callable[[Path], None]] | None = None,
    before_commit: Callable[[Path], None] | None = None,
) -> Path:
    """Write a bundle atomically. `writers` maps a file or folder name to a function that
    writes it given its full path. `before_commit` is called with the finished temporary
    bundle before it is swapped in (the report is drawn there, so a bundle never appears
    without it). An existing bundle at `path` is replaced; the output's lock is held
    throughout (`embedlab.locks`)."""
    path = check_output(path)
    with locks.output_lock(path):
        _write_bundle(path, manifest, model, writers, before_commit)
    return path


def _write_bundle(path: Path, manifest: dict, model, writers, before_commit) -> None:
    tmp = atomic.temporary_sibling(path)
    try:
        if model is not None:
            model.save(tmp / MODEL)
        for name, write in (writers or {}).items():
            write(tmp / name)
        full = {
            "embedlab_version": __version__,
            "format_version": FORMAT_VERSION,
            **manifest,
        }
        text = json.dumps(full, indent=1, ensure_ascii=False, default=_json_default)
        (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")
        if before_commit is not None:
            before_commit(tmp)
        atomic.commit_directory(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_output(path: str | os.PathLike) -> Path:
    """Check, before any work, that a bundle may be written at `path`: a new or empty
    directory, or an older bundle (which is replaced). Anything else is never touched."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BundleError(
            f"expected a directory for the bundle, but {str(path)!r} is a file. "
            "Pass a new directory name with --output."
        )
    if path.is_dir() and any(path.iterdir()) and not (path / MANIFEST).exists():
        raise BundleError(
            f"{str(path)!r} exists and is not an embedlab bundle; refusing to replace it. "
            "Pass a new or empty directory with --output."
        )
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def read_manifest(path: str | os.PathLike, *, kind: str | None = None) -> dict:
    """Read and check a bundle's manifest: present, parseable, a known format, no file
    missing, and of `kind` when one is given."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"bundle {str(path)!r} does not exist. Check the path.")
    if not path.is_dir():
        raise BundleError(
            f"expected a bundle directory, received the file {str(path)!r}. "
            "Pass the directory that `embedlab train` wrote."
        )
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise BundleError(
            f"{str(path)!r} is not an embedlab bundle: {MANIFEST} is missing. "
            "Pass the directory that `embedlab train` wrote."
        )
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BundleError(
            f"the manifest of bundle {str(path)!r} is damaged ({exc}). Train the bundle again."
        ) from None
    if not isinstance(manifest, dict):
        raise BundleError(
            f"the manifest of bundle {str(path)!r} must be a JSON object. Received a "
            f"{type(manifest).__name__}. Train the bundle again."
        )
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BundleError(
            f"the manifest of bundle {str(path)!r} has no format version. Train it again."
        )
    if version > FORMAT_VERSION:
        raise BundleError(
            f"bundle {str(path)!r} has format version {version}, from embedlab "
            f"{manifest.get('embedlab_version', '?')}; this embedlab {__version__} reads up to "
            f"version {FORMAT_VERSION}. Upgrade embedlab (`pip install -U embedlab`)."
        )
    found = manifest.get("kind")
    if kind is not None and found != kind:
        raise BundleError(
            f"bundle {str(path)!r} holds a {found!r} model, not a {kind!r} one. Load it with "
            "the matching class, or use `embedlab predict`."
        )
    for name in REQUIRED.get(found, (MANIFEST, MODEL)):
        if not (path / name).exists():
            raise BundleError(
                f"bundle {str(path)!r} is incomplete: {name} is missing. "
                "Copy the whole bundle directory, or train it again."
            )
    return manifest


def read_layer_weights(path: str | os.PathLike, layers: list[str]) -> dict[str, np.ndarray]:
    """The first weight (the table) of each named layer of the bundle's model, read from
    `model.keras` without building the model (and without importing Keras).

    A `.keras` file is a zip of `config.json` and `model.weights.h5`; the weights of the
    model's n-th layer of class `Embedding` are stored under `layers/embedding_<n>` (the
    first without a number), in the order of the layers in the config.
    """
    return _read_tables(path, layers, lambda dataset: np.asarray(dataset))


def read_layer_shapes(path: str | os.PathLike, layers: list[str]) -> dict[str, tuple]:
    """The shape of the table of each named layer, read from `model.keras` (no data)."""
    return _read_tables(path, layers, lambda dataset: tuple(dataset.shape))


def _read_tables(path, layers: list[str], read) -> dict:
    import h5py

    archive = Path(path) / MODEL
    try:
        size = archive.stat().st_size
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                arrayfiles.check_member(info, size)
            config = json.loads(zipped.read("config.json"))
            keys = _weight_keys(config)
            missing = [name for name in layers if name not in keys]
            if missing:
                raise KeyError(f"no layer {missing[0]!r} in the model")
            stored = zipped.getinfo("model.weights.h5").file_size
            with zipped.open("model.weights.h5") as raw, h5py.File(raw, "r") as weights:
                return {name: read(_table(weights, keys[name], stored)) for name in layers}
    except (OSError, KeyError, ValueError, TypeError, AttributeError, EOFError, RuntimeError,
            zlib.error, zipfile.BadZipFile) as exc:  # RuntimeError: NotImplementedError too
        raise BundleError(
            f"cannot read the tables of bundle {str(path)!r} from {MODEL} "
            f"({type(exc).__name__}: {exc}). Train the bundle again."
        ) from None


def _table(weights, key: str, stored: int):
    """The table dataset of the layer `key`, its claimed size checked against the file's."""
    dataset = weights[f"layers/{key}/vars/0"]
    nbytes = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    if nbytes > stored:
        raise ValueError(
            f"the weights file claims a table of shape {dataset.shape} ({nbytes:,} bytes), "
            f"more than its {stored:,} bytes hold"
        )
    return dataset


def _weight_keys(config: dict) -> dict[str, str]:
    """Layer name -> its group in the weights file, as Keras names them when it saves."""
    used: dict[str, int] = {}
    keys = {}
    for layer in config["config"]["layers"]:
        base = _snake_case(layer["class_name"])
        if base in used:
            used[base] += 1
            key = f"{base}_{used[base]}"
        else:
            used[base] = 0
            key = base
        keys[layer["config"]["name"]] = key
    return keys


def _snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def read_array(path: str | os.PathLike, name: str) -> np.ndarray:
    """An `.npy` file of the bundle (never unpickled)."""
    try:
        return arrayfiles.read_npy(Path(path) / name)
    except arrayfiles.ArrayFileError as exc:
        raise BundleError(
            f"{name} of bundle {str(path)!r} is damaged ({exc}). Train the bundle again."
        ) from None


def read_arrays(path: str | os.PathLike, name: str, keys: list[str]) -> dict[str, np.ndarray]:
    """Named arrays of an `.npz` file of the bundle (never unpickled)."""
    try:
        return arrayfiles.read_npz(Path(path) / name, keys)
    except arrayfiles.ArrayFileError as exc:
        raise BundleError(
            f"{name} of bundle {str(path)!r} is damaged ({exc}). Train the bundle again."
        ) from None


def npz_writer(arrays: dict[str, np.ndarray]) -> Callable[[Path], None]:
    """A bundle writer of named arrays as one compressed `.npz` file."""

    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    return write


def load_model(path: str | os.PathLike):
    """Load the bundle's Keras model."""
    import keras

    import embedlab.layers.numeric  # noqa: F401  (registers embedlab's layers)
    import embedlab.layers.sparse_embedding  # noqa: F401

    target = Path(path) / MODEL
    try:
        return keras.saving.load_model(target, compile=False)
    except Exception as exc:  # Keras raises a variety of errors for a damaged archive
        raise BundleError(
            f"cannot load the model of bundle {str(path)!r} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Train the bundle again."
        ) from exc


def attributes_index(attributes: dict[str, dict]) -> list[dict]:
    """The manifest's list of the arrays in ATTRIBUTES: table, attribute name, array key."""
    index = []
    for table in sorted(attributes):
        for name in sorted(attributes[table]):
            index.append({"table": table, "name": name, "key": f"a{len(index)}"})
    return index


def attributes_writer(attributes: dict[str, dict]) -> Callable[[Path], None]:
    """A bundle writer for ATTRIBUTES; the keys follow `attributes_index`."""
    return npz_writer({
        entry["key"]: np.asarray(attributes[entry["table"]][entry["name"]])
        for entry in attributes_index(attributes)
    })


def read_attributes(path: str | os.PathLike, manifest: dict) -> dict[str, dict]:
    """The per-row attributes of a bundle's tables: {table: {name: array}} (empty when the
    bundle has none)."""
    index = manifest.get("attributes") or []
    if not index:
        return {}
    result: dict[str, dict] = {}
    try:
        found = arrayfiles.read_npz(Path(path) / ATTRIBUTES, [entry["key"] for entry in index])
        for entry in index:
            result.setdefault(entry["table"], {})[entry["name"]] = found[entry["key"]]
    except (arrayfiles.ArrayFileError, KeyError, TypeError) as exc:
        raise BundleError(
            f"the table attributes of bundle {str(path)!r} are damaged or missing ({exc}). "
            "Train the bundle again."
        ) from None
    return result
