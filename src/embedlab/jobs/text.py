"""Training a text model from a labelled file: read and clean (data/), fit (models/),
evaluate once on the test set, save the bundle and draw its report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from embedlab.data.columns import labelled_text
from embedlab.jobs.common import RunReport, claim_output, finish, run_summary
from embedlab.models.text import TextClassifier


@dataclass(kw_only=True)
class TrainReport(RunReport):
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
    test: dict = field(default_factory=dict)
    coverage: Any = None
    vectors: dict | None = None


def train_text(
    data: str | os.PathLike | pa.Table,
    *,
    text: str,
    label: str,
    output: str | os.PathLike,
    test: str | os.PathLike | pa.Table | None = None,
    verbose: int = 0,
    report: bool = True,
    resume: bool = False,
    **options,
) -> tuple[TrainReport, Any]:
    """Train a TextClassifier on a labelled file, evaluate once on `test`, save the bundle
    and (with `report`) its HTML report, `report.html` inside it.

    `options` are TextClassifier's keyword arguments. A checkpoint is kept beside the
    output after every epoch; `resume` continues an interrupted run of the same command
    from it. Returns (report, classifier).
    """
    start = time.perf_counter()
    clf = TextClassifier(verbose=verbose, **options)  # options checked before any reading
    run = {"kind": "text", "data": data, "test": test, "text": text, "label": label,
           "options": options}
    with claim_output(output, clf, resume=resume, run=run):
        return _train(clf, data, text=text, label=label, output=output, test=test,
                      report=report, start=start, options=options)


def _train(clf: TextClassifier, data, *, text, label, output, test, report, start, options):
    table, dropped = labelled_text(data, text, label, what="the training table")
    test_table, test_dropped = None, 0
    if test is not None:
        test_table, test_dropped = labelled_text(test, text, label, what="the test table")
    clf.fit(table[text], table[label])
    run = run_summary(clf)
    test_metrics = {}
    if test_table is not None:
        test_metrics, clf.evaluation = clf.evaluate_with_figures(test_table[text],
                                                                 test_table[label])
    clf.metrics = {"validation": run["validation"], "test": test_metrics}
    length_reason = (
        "set with --max-length" if options.get("max_length")
        else "95th percentile of training lengths, capped at 500"
    )
    summary = TrainReport(
        task=clf.target.task, task_reason=clf.target.reason, positive=clf.target.positive,
        classes=clf.target.classes, vocabulary_size=len(clf.encoder.vocabulary),
        length=clf.length, length_reason=length_reason, train_rows=table.num_rows,
        dropped=dropped, test_rows=test_table.num_rows if test_table is not None else 0,
        test_dropped=test_dropped, test=test_metrics, coverage=clf.coverage,
        vectors=clf.vectors_info, **run,
    )
    rows = {"train": table.num_rows, "dropped": dropped, "test": summary.test_rows,
            "test_dropped": test_dropped}
    finish(summary, clf, output, draw_report=report, start=start,
           extra={"columns": {"text": text, "label": label}, "rows": rows})
    return summary, clf
