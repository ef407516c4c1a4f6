"""The trainer: a validation split carved from the training data, early stopping with the
best weights restored, optional class weights, and phases (freeze, then fine-tune).

Everything runs through `keras.Model.fit` on arrays, so a recipe trains as fast as the same
model written by hand in plain Keras.
"""

from __future__ import annotations

import logging
import math
import weakref
from dataclasses import asdict, dataclass, field

import numpy as np

from embedlab.errors import ConfigError

log = logging.getLogger(__name__)
SEED_MAX = 2**32 - 1  # numpy's and JAX's seeds are 32-bit


@dataclass
class TrainSettings:
    """Options of one training run.

    Attributes:
        epochs: Integer. Most epochs in all (phases included).
        batch_size: Integer. Rows per step.
        validation_split: Float in [0, 1). Share of the training rows held out for early
            stopping; 0 trains on everything for `epochs` epochs.
        patience: Integer. Epochs without a better validation score before stopping (the
            validation AUC for a binary task, the validation loss otherwise).
        learning_rate: Float. Adam's learning rate.
        class_weight: `None` or `"balanced"` (classes weighted by inverse frequency).
        seed: Integer. Makes the split, initialisation, shuffling and dropout repeatable.
    """

    epochs: int = 10
    batch_size: int = 32
    validation_split: float = 0.1
    patience: int = 2
    learning_rate: float = 1e-3
    class_weight: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}.")
        if not 0 <= self.validation_split < 1:
            raise ConfigError(
                "`validation_split` must be in [0, 1). "
                f"Received: validation_split={self.validation_split!r}."
            )
        if not isinstance(self.patience, int | np.integer) or self.patience < 0:
            raise ConfigError(
                f"`patience` must be an integer >= 0. Received: patience={self.patience!r}."
            )
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.number) or not (
                math.isfinite(rate) and rate > 0):
            raise ConfigError(
                "`learning_rate` must be a positive finite number (e.g. 1e-3). "
                f"Received: learning_rate={rate!r}."
            )
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
                0 <= seed <= SEED_MAX):
            raise ConfigError(
                f"`seed` must be an integer from 0 to {SEED_MAX} (2**32 - 1). "
                f"Received: seed={seed!r}. Pass a seed in that range."
            )
        if self.class_weight not in (None, "balanced"):
            raise ConfigError(
                "`class_weight` must be None or 'balanced'. "
                f"Received: class_weight={self.class_weight!r}."
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Phase:
    """A stretch of training with the embedding frozen or not, at a learning rate."""

    epochs: int
    trainable_embedding: bool = True
    learning_rate: float | None = None  # None: the settings' rate
    name: str = "train"


@dataclass
class History:
    """Per-epoch metrics, and where each phase began (epoch index)."""

    epochs: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    monitor: str = "val_loss"
    warnings: list[str] = field(default_factory=list)  # e.g. a run that ended at chance

    def __post_init__(self) -> None:
        self.validation: tuple[np.ndarray, np.ndarray] | None = None  # (targets, outputs)

    def to_dict(self) -> dict:
        return asdict(self)

    def best_validation(self) -> dict:
        """The validation metrics of the kept (best) epoch, without the `val_` prefix; empty
        when there was no validation split."""
        if not self.best_epoch:
            return {}
        best = self.epochs[self.best_epoch - 1]
        return {k[4:]: v for k, v in best.items() if k.startswith("val_")}


def compile_model(model, task: str, learning_rate: float) -> None:
    """Compile with Adam and the task's loss (binary/sparse categorical cross-entropy, MSE)."""
    import keras

    if task == "binary":
        loss, metrics = "binary_crossentropy", [keras.metrics.BinaryAccuracy(name="accuracy")]
    elif task == "multiclass":
        loss = "sparse_categorical_crossentropy"
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        loss, metrics = "mean_squared_error", [keras.metrics.MeanAbsoluteError(name="mae")]
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=metrics
    )


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): a seeded permutation, the last `fraction` held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * fraction)) if fraction > 0 else 0
    if fraction > 0 and (n_val < 1 or n - n_val < 1):
        raise ConfigError(
            f"a validation split of {fraction} leaves no rows to train or to validate on "
            f"{n} rows. Pass more rows or --validation-split 0."
        )
    return np.sort(order[: n - n_val]), np.sort(order[n - n_val :])


def balanced_weights(task: str, y: np.ndarray) -> np.ndarray:
    """Per-row weights n / (k * count of the row's class)."""
    if task == "regression":
        raise ConfigError(
            "`class_weight='balanced'` needs a classification task. Received task='regression'. "
            "Remove --class-weight."
        )
    classes = np.asarray(y).astype("int64").reshape(-1)
    counts = np.bincount(classes)
    present = counts > 0
    weights = np.zeros(len(counts))
    weights[present] = len(classes) / (present.sum() * counts[present])
    return weights[classes].astype("float32")


def train(
    model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    task: str,
    settings: TrainSettings,
    phases: list[Phase] | None = None,
    verbose: int = 0,
    callbacks: list | None = None,
    transform=None,
    batches=None,
    validation: tuple | None = None,
    checkpoint=None,
) -> History:
    """Fit `model` on `(x, y)` through its phases, early stopping on a validation split.

    `x` is an array, or a dict of arrays keyed by input name for a model with several inputs.
    `transform` (see `embedlab.training.batches`) changes each training batch as it is
    served (fresh negatives); validation rows stay as given. A model holding row-sparse
    tables (`SparseEmbedding`) is fitted through a `RowSparseModel` over its layers.
    `batches` (a Keras `PyDataset` with `rows` per epoch, e.g. `StreamBatches`)
    replaces `x` and `y` for data streamed from disk; `validation` is then its held-out
    `(x, y)`, chosen by the caller. `checkpoint` (an `embedlab.training.checkpoint.
    Checkpoint`) is written after every epoch and phase, and resumed from when it says so.

    Returns the history: one dict per epoch (loss, metrics, val_*, phase, learning rate).
    The model ends with the weights of its best validation epoch.
    """
    import keras

    from embedlab.training.callbacks import (
        EpochTimer,
        KeepBestEarlyStopping,
        SaveCheckpoint,
        StopOnNonFinite,
        ValidationAUC,
    )
    from embedlab.training.checkpoint import assign, check_shapes, restore, save_phase_end

    keras.utils.set_random_seed(settings.seed)
    _replicate_outputs_across_processes(model)
    phases = phases or [Phase(settings.epochs)]
    if batches is not None:
        tr, x_tr, y_tr = None, None, None
    elif settings.validation_split > 0:
        tr, va = split_validation(len(y), settings.validation_split, settings.seed)
        x_tr, y_tr, validation = _take(x, tr), y[tr], (_take(x, va), y[va])
    else:
        tr = np.arange(len(y))
        x_tr, y_tr, validation = x, y, None
    sample_weight = (
        balanced_weights(task, y_tr) if settings.class_weight == "balanced" and batches is None
        else None
    )
    fitted = fitting_model(model)
    data = x_tr if batches is None else batches
    if transform is not None and batches is None:
        from embedlab.training.batches import ArrayBatches

        data = ArrayBatches(x_tr, y_tr, tr, batch_size=settings.batch_size,
                            seed=settings.seed, transform=transform,
                            sample_weight=sample_weight)
    history = History()
    monitor, sign = ("val_auc", -1.0) if task == "binary" else ("val_loss", 1.0)
    history.monitor = monitor
    best = np.inf
    best_weights = None
    start = first = 0
    resumed = None if checkpoint is None else checkpoint.load()
    if resumed is not None:
        first, start, best, best_weights = restore(resumed, checkpoint, fitted, history)
    embedding = _find_embedding(model)
    for index, phase in enumerate(phases):
        if phase.epochs <= 0 or index < first:
            continue
        rate = phase.learning_rate or settings.learning_rate
        _prepare(fitted, embedding, task, rate, phase.trainable_embedding)
        here = resumed is not None and index == first and resumed.state["phase_rows"]
        before = {"phase": index, "start": start, "rows_before": list(history.epochs),
                  "phases": list(history.phases), "phase_start_best": float(best),
                  "phase_start_best_epoch": history.best_epoch,
                  "stopped_early": history.stopped_early,
                  "phase_rows": list(resumed.state["phase_rows"]) if here else []}
        history.phases.append(
            {"name": phase.name, "start_epoch": start, "learning_rate": rate,
             "trainable_embedding": phase.trainable_embedding}
        )
        stop = [StopOnNonFinite(rate)]
        stopping = None
        if validation is not None:
            if monitor == "val_auc":
                stop.append(ValidationAUC(*validation, settings.batch_size))
            restored = None
            if here and resumed.state["early_stopping"] is not None:
                restored = {**resumed.state["early_stopping"], "kept": resumed.best}
            stopping = KeepBestEarlyStopping(
                monitor=monitor, mode="max" if sign < 0 else "min",
                patience=settings.patience, min_delta=1e-4, restored=restored,
            )
            stop.append(stopping)
        timer = EpochTimer()

        def row(values: dict, epoch: int, *, phase=phase, rate=rate, timer=timer) -> dict:
            return _epoch_row(values, epoch, phase.name, rate,
                              timer.seconds[-1] if timer.seconds else None)

        if checkpoint is not None:
            stop.append(SaveCheckpoint(checkpoint, before, row, stopping, best_weights))
        if here and resumed.optimizer is not None:
            fitted.optimizer.build(fitted.trainable_variables)
            check_shapes("optimizer variables", checkpoint.path, resumed.optimizer,
                         fitted.optimizer.variables)
            assign(fitted.optimizer.variables, resumed.optimizer)
        done = list(before["phase_rows"])
        finished = here and (resumed.state["phase_stopped"] or len(done) >= phase.epochs)
        if finished:  # every epoch ran before the kill: end the phase as Keras would have
            if stopping is not None:
                stopping.set_model(fitted)
                stopping.on_train_begin()
                stopping.on_train_end()
            new_rows = []
        else:
            new_rows = _fit_phase(fitted, data, validation, phases, phase, batches, transform,
                                  settings, sample_weight, y_tr, verbose,
                                  [timer, *stop, *(callbacks or [])],
                                  start=start + len(done), end=start + phase.epochs)
        improved = False
        for found in [*done, *new_rows]:
            history.epochs.append(found)
            if validation is not None and sign * found[monitor] < best - 1e-4:
                best, history.best_epoch, improved = sign * found[monitor], found["epoch"], True
        if stopping is not None and (stopping.stopped_epoch > 0 or (
                finished and resumed.state["phase_stopped"])):
            history.stopped_early = True
        if validation is not None:
            # EarlyStopping restored this phase's best; keep an earlier phase's if it was better.
            if improved:
                if phase is not phases[-1]:  # a later phase may do worse: keep a copy
                    best_weights = model.get_weights()
            elif best_weights is not None:
                model.set_weights(best_weights)
        start += len(done) + len(new_rows)
        if checkpoint is not None:
            save_phase_end(checkpoint, fitted, history, index + 1, start, best, best_weights)
    if validation is not None:
        # The best model's outputs on the validation rows: what a report's confusion matrix
        # or error plot is drawn from when there is no test set. Not part of to_dict().
        outputs = model.predict(validation[0], batch_size=max(256, settings.batch_size), verbose=0)
        history.validation = (validation[1], np.asarray(outputs))
        warning = chance_warning(task, *history.validation)
        if warning:
            history.warnings.append(warning)
            log.warning("warning: %s", warning)
    return history


def _fit_phase(fitted, data, validation, phases, phase, batches, transform, settings,
               sample_weight, y_tr, verbose, callbacks, *, start: int, end: int) -> list[dict]:
    """One phase's `fit`, from epoch `start` to `end`; the rows of the epochs it ran."""
    from embedlab.training.callbacks import RowsProgress

    # a stream is served in order (it shuffles in its own buffer)
    arrays = {"shuffle": False} if batches is not None else {} if transform is not None else {
        "y": y_tr, "sample_weight": sample_weight, "batch_size": settings.batch_size,
        "shuffle": True}
    shown, keras_verbose = [], verbose
    if batches is not None and verbose:  # rows/s and the time left, not Keras's bar
        total = sum(max(p.epochs, 0) for p in phases)
        shown = [RowsProgress(batches.rows, settings.batch_size, total, live=verbose == 1)]
        keras_verbose = 0
    timer = callbacks[0]
    result = fitted.fit(
        data, validation_data=validation, epochs=end, initial_epoch=start,
        verbose=keras_verbose, callbacks=[*callbacks, *shown], **arrays,
    )
    rate = phase.learning_rate or settings.learning_rate
    return [_epoch_row({k: v[i] for k, v in result.history.items()}, start + i, phase.name,
                       rate, timer.seconds[i] if i < len(timer.seconds) else None)
            for i in range(len(result.history.get("loss", [])))]


def _epoch_row(values: dict, epoch: int, phase: str, rate: float,
               seconds: float | None) -> dict:
    """The history row of epoch `epoch` (0-based): its figures, where it stands, its time."""
    found = {k: float(v) for k, v in values.items()}
    found.update(epoch=epoch + 1, phase=phase, learning_rate=rate)
    if seconds is not None:
        found["seconds"] = round(seconds, 3)
    return found


def chance_warning(task: str, y: np.ndarray, outputs: np.ndarray) -> str | None:
    """A warning when the kept model does no better on its validation rows than chance
    (AUC 0.5, the most common class, the mean), else None."""
    y, outputs = np.asarray(y), np.asarray(outputs, dtype="float64")
    if len(y) < 2 or not np.isfinite(outputs).all():
        return None
    advice = "the model did not learn; try another --learning-rate, more epochs or more data."
    if task == "binary":
        from embedlab.training.metrics import roc_auc

        truth = y.reshape(-1).astype("int64")
        if truth.min() == truth.max():
            return None
        auc = roc_auc(truth, outputs.reshape(-1))
        if auc <= 0.52:
            return f"the validation AUC ended at {auc:.3f}, no better than chance (0.5): {advice}"
    elif task == "multiclass":
        truth = y.reshape(-1).astype("int64")
        accuracy = float(np.mean(outputs.argmax(axis=-1) == truth))
        majority = float(np.bincount(truth).max() / len(truth))
        if accuracy <= majority + 0.005:
            return (f"the validation accuracy ended at {accuracy:.3f}, no better than always "
                    f"answering the most common class ({majority:.3f}): {advice}")
    else:
        truth = y.reshape(-1).astype("float64")
        error = float(np.mean((outputs.reshape(-1) - truth) ** 2))
        spread = float(np.var(truth))
        if spread > 0 and error >= 0.99 * spread:
            return (f"the validation error ended at {error:.4g} (mean squared), no better than "
                    f"predicting the mean ({spread:.4g}): {advice}")
    return None


# What each model was last compiled for, so a call that changes nothing keeps Keras's
# compiled train step (a recompile makes JAX trace and compile the step again).
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _prepare(model, embedding, task: str, rate: float, trainable: bool) -> None:
    """Set the embedding's `trainable` and compile, unless the model is already compiled
    exactly so (Keras needs a recompile after `trainable` changes)."""
    wanted = (task, float(rate), trainable)
    if getattr(model, "compiled", False) and _COMPILED.get(model) == wanted and (
        embedding is None or embedding.trainable == trainable
    ):
        return
    if embedding is not None:
        embedding.trainable = trainable
    compile_model(model, task, rate)
    _COMPILED[model] = wanted


# The model each model is fitted through (itself, or a RowSparseModel over its layers).
_FITTING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fitting_model(model):
    """`model`, or a `RowSparseModel` sharing its layers when it holds row-sparse tables
    (built once per model, so Keras keeps its compiled step)."""
    if model in _FITTING:
        return _FITTING[model]
    from embedlab.training.row_sparse import RowSparseModel, sparse_tables

    fitted = model
    if sparse_tables(model) and not isinstance(model, RowSparseModel):
        fitted = RowSparseModel(model.inputs, model.outputs, name=f"{model.name}_row_sparse")
    _FITTING[model] = fitted
    return fitted


def _replicate_outputs_across_processes(model) -> None:
    """On a mesh over several processes, the model's outputs are kept whole on every
    device (see `Layout.replicate_outputs`); one process keeps today's layout."""
    import keras

    from embedlab.training.processes import process_count

    layout = getattr(keras.distribution.distribution(), "embedlab_layout", None)
    if layout is not None and process_count() > 1:
        layout.replicate_outputs(model)


def _take(x, rows: np.ndarray):
    """Rows of an input: an array, or a dict of arrays (a model with several inputs)."""
    if isinstance(x, dict):
        return {name: value[rows] for name, value in x.items()}
    return x[rows]


def _find_embedding(model):
    try:
        return model.get_layer("embedding")
    except ValueError:
        return None
