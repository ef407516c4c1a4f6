"""Training a tabular model from a labelled file: read, fit, evaluate once on the test
set, save the bundle and draw its report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from embedlab.data.readers import read_table
from embedlab.errors import column_error
from embedlab.jobs.common import RunReport, claim_output, finish, run_summary
from embedlab.models.tabular import TabularModel


@dataclass(kw_only=True)
class TabularReport(RunReport):
    """What `train_tabular` did, for printing."""

    task: str
    task_reason: str
    positive: Any
    classes: list
    columns: list[dict]
    train_rows: int
    dropped: int
    test_rows: int = 0
    test_dropped: int = 0
    test: dict = field(default_factory=dict)
    parameters: int = 0


def train_tabular(
    data: str | os.PathLike | pa.Table,
    *,
    label: str,
    output: str | os.PathLike,
    test: str | os.PathLike | pa.Table | None = None,
    verbose: int = 0,
    report: bool = True,
    resume: bool = False,
    **options,
) -> tuple[TabularReport, TabularModel]:
    """Train a TabularModel on a labelled file, evaluate once on `test`, save the bundle
    and (with `report`) its HTML report.

    `options` are TabularModel's keyword arguments; `resume` as `train_text`. Returns
    (report, model).
    """
    start = time.perf_counter()
    model = TabularModel(verbose=verbose, **options)  # options checked before any reading
    run = {"kind": "tabular", "data": data, "test": test, "label": label, "options": options}
    with claim_output(output, model, resume=resume, run=run):
        return _train(model, data, label=label, output=output, test=test, report=report,
                      start=start)


def _train(model: TabularModel, data, *, label, output, test, report, start):
    table = data if isinstance(data, pa.Table) else read_table(data)
    if label not in table.column_names:
        raise column_error(label, table.column_names, what="label column")
    test_table = None
    if test is not None:
        test_table = test if isinstance(test, pa.Table) else read_table(test)
    model.fit(table, label)
    run = run_summary(model)
    test_metrics: dict = {}
    if test_table is not None:
        test_metrics, model.evaluation = model.evaluate_with_figures(test_table, label)
    model.metrics = {"validation": run["validation"], "test": test_metrics}
    summary = TabularReport(
        task=model.target.task, task_reason=model.target.reason,
        positive=model.target.positive, classes=model.target.classes,
        columns=model.describe_columns(), train_rows=model.data_summary["train_rows"],
        dropped=model.data_summary["dropped_missing_label"],
        test_rows=test_metrics.get("rows", 0),
        test_dropped=test_metrics.get("dropped_missing_label", 0),
        test=test_metrics, parameters=model.data_summary["parameters"], **run,
    )
    return finish(summary, model, output, draw_report=report, start=start), model
