"""Per-epoch checkpoints of a training run, and resuming from the last one.

A run given a `Checkpoint` writes, after every epoch, one directory beside its output
(`.NAME.checkpoint`), swapped in whole by the atomic writer, so a kill at any point leaves
the previous epoch's checkpoint or this one:

    state.json      what the run was (its fingerprint), where it stands (phase, epochs done),
                    the history rows so far, early stopping's state, the random generators
    model.npz       every variable of the model (weights, row-sparse tables and their slots,
                    seed generators)
    optimizer.npz   the optimizer's variables (its step count and moments), within a phase
    best.npz        the best epoch's weights of this phase, when it is not the last epoch
    phase_best.npz  the best weights of an earlier phase, when a later one may do worse

Resuming (`Checkpoint(..., resume=True)`) rebuilds the model from the same data and
options, puts all of that back and continues with the next epoch: Keras counts on
(`Epoch 5/8` after four finished epochs). The fingerprint (the run's options and its data
files' sizes and times) and every variable's shape must match, else the run stops with a
`ConfigError` before training. Files are read with `allow_pickle=False`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab import atomic
from embedlab.errors import ConfigError

log = logging.getLogger(__name__)

VERSION = 1
STATE = "state.json"


def checkpoint_path(output: str | os.PathLike) -> Path:
    """Where the checkpoint of a run into `output` lives: `.NAME.checkpoint` beside it."""
    output = Path(output)
    return output.parent / f".{output.name}.checkpoint"


@dataclass
class Resumed:
    """What a checkpoint holds (see the module's doc)."""

    state: dict
    model: list[np.ndarray]
    optimizer: list[np.ndarray] | None = None
    best: list[np.ndarray] | None = None
    phase_best: list[np.ndarray] | None = None


@dataclass
class Checkpoint:
    """Where a run keeps its checkpoint, what the run is, and whether to resume from it.

    Args:
        path: The checkpoint directory (see `checkpoint_path`).
        fingerprint: String. The run's options and data; a checkpoint of another run is
            refused.
        resume: Boolean. Continue from the checkpoint at `path` when there is one.
    """

    path: Path
    fingerprint: str
    resume: bool = False

    def load(self) -> Resumed | None:
        """The checkpoint to resume from; None without `resume` or when there is none."""
        if not self.resume:
            return None
        if not (self.path / STATE).is_file():
            log.warning("warning: --resume found no checkpoint at %s; training from the start.",
                        self.path)
            return None
        try:
            state = json.loads((self.path / STATE).read_text(encoding="utf-8"))
            if not isinstance(state, dict) or state.get("version") != VERSION:
                raise ValueError("not a checkpoint of this version")
            arrays = {name: _read_arrays(self.path / f"{name}.npz")
                      for name in ("model", "optimizer", "best", "phase_best")}
        except (OSError, ValueError, KeyError) as error:
            raise ConfigError(
                f"The checkpoint at {str(self.path)!r} cannot be read ({error}). Expected the "
                "checkpoint an interrupted run wrote; rerun without --resume to start over."
            ) from None
        if state.get("fingerprint") != self.fingerprint:
            raise ConfigError(
                f"The checkpoint at {str(self.path)!r} was written by a run with other options "
                "or other data. Expected the same command on the same files; rerun that "
                "command with --resume, or this one without --resume to start over."
            )
        if arrays["model"] is None:
            raise ConfigError(f"The checkpoint at {str(self.path)!r} holds no model. Rerun "
                              "without --resume to start over.")
        return Resumed(state, **arrays)

    def save(self, state: dict, arrays: dict[str, list[np.ndarray] | None]) -> None:
        """Write the checkpoint (`state` plus named lists of arrays), replacing the last."""
        state = {"version": VERSION, "fingerprint": self.fingerprint, **state}
        with atomic.atomic_directory(self.path) as tmp:
            for name, values in arrays.items():
                if values is not None:
                    with open(tmp / f"{name}.npz", "wb") as handle:
                        np.savez(handle, *values)
            (tmp / STATE).write_text(json.dumps(state), encoding="utf-8")

    def discard(self) -> None:
        """Remove the checkpoint (after the bundle is written, or before a fresh run)."""
        shutil.rmtree(self.path, ignore_errors=True)
        atomic.remove_stale(self.path, locked=True)


def _read_arrays(path: Path) -> list[np.ndarray] | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


def check_shapes(what: str, path: Path, saved: list[np.ndarray], variables: list) -> None:
    """Refuse a checkpoint whose arrays do not fit the model being resumed."""
    shapes = [tuple(int(d) for d in v.shape) for v in variables]
    found = [tuple(a.shape) for a in saved]
    if shapes != found:
        raise ConfigError(
            f"The checkpoint at {str(path)!r} holds {what} of other shapes ({len(found)} "
            f"arrays) than this model's ({len(shapes)}). Expected the same command on the "
            "same data; rerun without --resume to start over."
        )


def assign(variables: list, values: list[np.ndarray]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def read(variables: list) -> list[np.ndarray]:
    return [np.asarray(v.value) for v in variables]


def random_state() -> dict:
    """numpy's and Python's global generators (Keras shuffles and seeds from them)."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {"numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
            "python": [version, list(internal), gauss_next]}


def set_random_state(state: dict) -> None:
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def restore(resumed: Resumed, checkpoint: Checkpoint, fitted, history) -> tuple:
    """Put a checkpoint's model, history and generators back; returns (phase to start
    in, its first epoch, the best figure before it, an earlier phase's best weights)."""
    state = resumed.state
    check_shapes("model variables", checkpoint.path, resumed.model, fitted.variables)
    assign(fitted.variables, resumed.model)
    set_random_state(state["random"])
    history.epochs = list(state["rows_before"])
    history.phases = list(state["phases"])
    history.best_epoch = state["phase_start_best_epoch"]
    history.stopped_early = state["stopped_early"]
    done = len(state["rows_before"]) + len(state["phase_rows"])
    log.info("Resuming from %s: %d epochs done.", checkpoint.path, done)
    return state["phase"], state["start"], state["phase_start_best"], resumed.phase_best


def save_phase_end(checkpoint: Checkpoint, fitted, history, phase: int, start: int,
                   best: float, best_weights) -> None:
    """The checkpoint at a phase's end: the next phase starts from it."""
    checkpoint.save({
        "phase": phase, "start": start, "rows_before": history.epochs,
        "phases": history.phases, "phase_start_best": float(best),
        "phase_start_best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early, "phase_rows": [], "phase_stopped": False,
        "early_stopping": None, "random": random_state(),
    }, {"model": read(fitted.variables), "phase_best": best_weights})

