"""Whole jobs behind the command line, callable (and tested) without a terminal:
train a text model from a file, predict from a bundle, the demo."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from embedlab import artifacts
from embedlab.data import read_table, require_columns, write_table
from embedlab.errors import BundleError, DataError
from embedlab.training.targets import drop_missing

log = logging.getLogger(__name__)


@dataclass
class TrainReport:
    """What a training job did, for printing."""

    task: str
    task_reason: str
    positive: Any
    classes: list
    vocabulary_size: int
    length: int
    length_reason: str
    train_rows: int
    dropped: int
    test_rows: int = 0
    test_dropped: int = 0
    validation: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int | None = None
    seconds: float = 0.0
    output: Path | None = None
    coverage: Any = None
    vectors: dict | None = None
    report: Path | None = None


def load_labelled(path, text: str, label: str) -> tuple[pa.Table, int]:
    """Read a file, check the two columns, drop rows missing either; (table, dropped)."""
    table = read_table(path, columns=[text, label])
    return _clean(table, text, label, str(path))


def _clean(table: pa.Table, text: str, label: str, where: str) -> tuple[pa.Table, int]:
    require_columns(table, [text, label])
    if not (pa.types.is_string(table[text].type) or pa.types.is_large_string(table[text].type)
            or pa.types.is_null(table[text].type)):
        table = table.set_column(
            table.column_names.index(text), text, table[text].cast(pa.string())
        )
    kept, dropped = drop_missing(table, [text, label])
    if kept.num_rows == 0:
        raise DataError(
            f"no rows of {where} have both {text!r} and {label!r}; all {table.num_rows} miss "
            "one. Check the column names and the file."
        )
    return kept, dropped


def train_text(
    data: str | os.PathLike | pa.Table,
    *,
    text: str,
    label: str,
    output: str | os.PathLike,
    test: str | os.PathLike | pa.Table | None = None,
    verbose: int = 0,
    report: bool = True,
    **options,
) -> tuple[TrainReport, Any]:
    """Train a TextClassifier on a labelled file, evaluate once on `test`, save the bundle
    and (with `report`) its HTML report, `report.html` inside it.

    `options` are TextClassifier's keyword arguments. Returns (report, classifier).
    """
    from embedlab.models.text import TextClassifier

    start = time.perf_counter()
    artifacts.check_output(output)
    if isinstance(data, pa.Table):
        table, dropped = _clean(data, text, label, "the training table")
    else:
        table, dropped = load_labelled(data, text, label)
    test_table, test_dropped = None, 0
    if test is not None:
        if isinstance(test, pa.Table):
            test_table, test_dropped = _clean(test, text, label, "the test table")
        else:
            test_table, test_dropped = load_labelled(test, text, label)
    clf = TextClassifier(verbose=verbose, **options)
    clf.fit(table[text], table[label])
    history = clf.history
    validation = history.best_validation() if history else {}
    test_metrics = {}
    if test_table is not None:
        test_metrics, clf.evaluation = clf.evaluate_with_figures(test_table[text],
                                                                 test_table[label])
    clf.metrics = {"validation": validation, "test": test_metrics}
    length_reason = (
        "set with --max-length" if options.get("max_length")
        else "95th percentile of training lengths, capped at 500"
    )
    draw_report = report
    report = TrainReport(
        task=clf.target.task, task_reason=clf.target.reason, positive=clf.target.positive,
        classes=clf.target.classes, vocabulary_size=len(clf.encoder.vocabulary),
        length=clf.length, length_reason=length_reason, train_rows=table.num_rows,
        dropped=dropped, test_rows=test_table.num_rows if test_table is not None else 0,
        test_dropped=test_dropped, validation=validation, test=test_metrics,
        epochs_run=len(history.epochs) if history else 0,
        best_epoch=history.best_epoch if history else None,
        coverage=clf.coverage, vectors=clf.vectors_info,
    )
    report.output, report.report = save_with_report(
        clf, output, report=draw_report,
        extra={"columns": {"text": text, "label": label},
               "rows": {"train": table.num_rows, "dropped": dropped, "test": report.test_rows,
                        "test_dropped": test_dropped}})
    report.seconds = time.perf_counter() - start
    return report, clf


def save_with_report(
    model, output: str | os.PathLike, *, report: bool, **save_options
) -> tuple[Path, Path | None]:
    """Save a trained model's bundle and, with `report`, draw its report.html from it.
    Returns (bundle path, report path or None)."""
    path = model.save(output, **save_options)
    if not report:
        return path, None
    from embedlab.inspect.report import report_after_training

    return path, report_after_training(path, model)


# Bundle kinds: the class that loads each (module path, class name).
BUNDLE_KINDS: dict[str, tuple[str, str]] = {
    "text": ("embedlab.models.text", "TextClassifier"),
    "tabular": ("embedlab.models.tabular", "TabularModel"),
    "recommender": ("embedlab.models.recommender", "Recommender"),
}


def load_bundle(path: str | os.PathLike):
    """Load any bundle by its kind (see BUNDLE_KINDS)."""
    import importlib

    manifest = artifacts.read_manifest(path)
    kind = manifest.get("kind")
    if kind not in BUNDLE_KINDS:
        raise BundleError(
            f"bundle {str(path)!r} is of kind {kind!r}, which this embedlab cannot load. "
            "Upgrade embedlab."
        )
    module, name = BUNDLE_KINDS[kind]
    return getattr(importlib.import_module(module), name).load(path)


def predict(
    bundle: str | os.PathLike,
    *,
    texts: list[str] | None = None,
    input: str | os.PathLike | pa.Table | None = None,
    text: str | None = None,
    output: str | os.PathLike | None = None,
) -> pa.Table:
    """Predict from raw input with a bundle: `texts` (text models), or the rows of a file.

    Each bundle's model names the columns it reads (`input_columns`); for a text model,
    `text` renames its column. Returns the input rows plus `predicted` and, for classifiers,
    the probability column(s); writes them to `output` (CSV, TSV, JSONL or Parquet, by
    extension) when given.
    """
    model = load_bundle(bundle)
    columns = list(model.input_columns)
    if text is not None:
        if len(columns) != 1:
            raise DataError(
                f"--text names the text column of a text model; this bundle reads the columns "
                f"{columns}. Remove --text."
            )
        columns = [text]
    if input is not None and texts:
        raise DataError("pass texts or --input FILE, not both.")
    if input is not None:
        table = input if isinstance(input, pa.Table) else read_table(input, columns=columns)
        require_columns(table, columns)
    elif texts:
        if len(columns) != 1:
            raise DataError(
                f"this bundle reads the columns {columns}, not a single text. "
                "Pass --input FILE with those columns."
            )
        table = pa.table({columns[0]: list(texts)})
    else:
        raise DataError(
            "nothing to predict: pass texts as arguments, or --input FILE with the columns "
            f"{columns}."
        )
    renamed = table.select(columns).rename_columns(list(model.input_columns))
    for name, values_out in model.predict_table(renamed).items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, pa.array(values_out))
    if output is not None:
        write_table(table, output)
    return table
