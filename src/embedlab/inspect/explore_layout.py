"""The 2-D layouts of an explorer page, the before/after alignment, and the cache that keeps
layouts and neighbor lists between runs.

Layouts: PCA (numpy), t-SNE (openTSNE when installed, else scikit-learn, as `embedlab map`)
or UMAP (umap-learn). The rows before training are laid out by the same method and turned,
flipped, scaled and shifted onto the learned layout (orthogonal Procrustes), so a point
moves on the map only as far as its place among the others changed.

The cache holds one `.npz` file per result, named by what it was computed from (a hash of
the rows, the method, the seed, k) and holding that description too; a file that cannot be
read, or describes other rows, is recomputed and written again (atomically).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedlab.atomic import atomic_file
from embedlab.inspect.formats import METHOD_NAMES
from embedlab.inspect.maps import project

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def page_layout(matrix: np.ndarray, *, method: str, seed: int) -> tuple[np.ndarray, list[str]]:
    """(points (n, 2) float32, axis titles) of the rows of `matrix` by `method`."""
    if method == "tsne":
        points = _open_tsne(matrix, seed)
        if points is not None:
            return points, ["t-SNE 1", "t-SNE 2"]
    points = project(matrix, method=method, seed=seed)
    if method != "pca":
        name = METHOD_NAMES[method]
        return points, [f"{name} 1", f"{name} 2"]
    centred = np.asarray(matrix, dtype=np.float64)
    total = float(((centred - centred.mean(axis=0)) ** 2).sum())
    shares = (points.astype(np.float64) ** 2).sum(axis=0) / total if total > 0 else (0.0, 0.0)
    return points, [f"PC {i + 1} ({100 * s:.1f}% of variance)" for i, s in enumerate(shares)]


def _open_tsne(matrix: np.ndarray, seed: int) -> np.ndarray | None:
    """t-SNE by openTSNE (much faster on large tables), or None when it is missing."""
    try:
        from openTSNE import TSNE
    except ImportError:
        return None
    rows = len(matrix)
    perplexity = float(min(30.0, max(1.0, (rows - 1) / 3)))
    embedding = TSNE(n_components=2, perplexity=perplexity, random_state=seed,
                     n_jobs=-1).fit(np.asarray(matrix, dtype=np.float64))
    return np.asarray(embedding, dtype=np.float32)


def align(moving: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """`moving` (n, 2) turned, possibly flipped, scaled and shifted to lie closest to
    `fixed` (least squares: orthogonal Procrustes with a scale)."""
    moving, fixed = np.asarray(moving, np.float64), np.asarray(fixed, np.float64)
    a, b = moving - moving.mean(axis=0), fixed - fixed.mean(axis=0)
    u, s, vt = np.linalg.svd(a.T @ b)
    spread = float((a**2).sum())
    scale = float(s.sum()) / spread if spread > 0 else 1.0
    return (scale * a @ (u @ vt) + fixed.mean(axis=0)).astype(np.float32)


def fit_square(learned: np.ndarray, initial: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Both layouts shifted and scaled alike, so the learned one spans [-1, 1] at most."""
    low, high = learned.min(axis=0), learned.max(axis=0)
    centre = (low + high) / 2
    half = float((high - low).max()) / 2
    scale = 1.0 / half if half > 0 else 1.0
    shifted = [((learned - centre) * scale).astype(np.float32)]
    if initial is not None:
        shifted.append(((initial - centre) * scale).astype(np.float32))
    return tuple(shifted)


def moved_most(learned: np.ndarray, initial: np.ndarray, top: int) -> list[tuple[int, float]]:
    """The `top` rows whose vectors turned furthest in training: (row, 1 - cosine between
    the row before and after), largest first; rows zero before or after are left out."""
    a, b = np.asarray(learned, np.float64), np.asarray(initial, np.float64)
    lengths = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    known = lengths > 0
    distance = np.full(len(a), -np.inf)
    distance[known] = 1.0 - np.einsum("ij,ij->i", a[known], b[known]) / lengths[known]
    order = np.argsort(-distance, kind="stable")[: min(top, int(known.sum()))]
    return [(int(i), float(distance[i])) for i in order]


class ExploreCache:
    """Results kept in `folder` (None: nothing kept), each named by what it came from.

    Args:
        folder: Optional path. Where the `.npz` files live; created on first write.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.states: dict[str, str] = {}

    def get(
        self,
        kind: str,
        description: dict,
        compute: Callable[[], dict[str, np.ndarray]],
        *,
        shapes: dict[str, tuple[int, ...]],
    ) -> dict[str, np.ndarray]:
        """The arrays cached for `description`, else `compute()` (then written).

        Args:
            kind: String. "layout" or "neighbors": part of the file name and the state.
            description: Dict. What the result is computed from (JSON-safe).
            compute: Callable returning the arrays by name.
            shapes: Dict. The shape each cached array must have (arrays absent here are
                optional; "learned" layouts must be finite).
        """
        if self.folder is None:
            self.states[kind] = "disabled"
            return compute()
        meta = json.dumps({"version": CACHE_VERSION, "kind": kind, **description},
                          sort_keys=True)
        digest = hashlib.blake2b(meta.encode(), digest_size=10).hexdigest()
        path = self.folder / f"{kind}-{digest}.npz"
        found, problem = _read(path, meta, shapes)
        if found is not None:
            self.states[kind] = "reused"
            return found
        if problem:
            log.warning("Discarding the explorer cache %s (%s); computing it again.", path,
                        problem)
        arrays = compute()
        try:
            with atomic_file(path) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, meta=np.array(meta), **arrays)
        except OSError as exc:
            log.warning("Could not keep the explorer cache in %s (%s); it will be computed "
                        "again next time.", self.folder, exc)
            self.states[kind] = "not written"
            return arrays
        self.states[kind] = "recomputed (the cached file was damaged)" if problem else "created"
        return arrays


def _read(path: Path, meta: str, shapes: dict[str, tuple[int, ...]]):
    """(arrays, None) from a sound file; (None, None) when there is none; (None, why)."""
    if not path.exists():
        return None, None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["meta"]) != meta:
                return None, "it describes other rows or settings"
            arrays = {name: saved[name] for name in saved.files if name != "meta"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        return None, f"unreadable: {type(exc).__name__}: {exc}"
    for name, shape in shapes.items():
        if name not in arrays or arrays[name].shape != shape:
            return None, f"{name!r} is missing or of another shape"
    if "learned" in arrays and not np.isfinite(arrays["learned"]).all():
        return None, "its layout holds NaN or infinity"
    return arrays, None

