"""Training a recommender from an interactions file: read, hold out (each user's last
positive, or a test file), fit, evaluate against the most-popular baseline, save the bundle
and draw its report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedlab.data.columns import rating_values
from embedlab.data.readers import read_table
from embedlab.errors import ConfigError, DataError, column_error
from embedlab.jobs.common import RunReport, claim_output, finish, run_summary
from embedlab.models.ranking import leave_last_out
from embedlab.models.recommender import Recommender


@dataclass(kw_only=True)
class RecommenderReport(RunReport):
    """What `train_recommender` did, for printing."""

    mode: str
    mode_reason: str
    rows: int
    dropped: int
    users: int
    items: int
    positives: int
    holdout: str | None = None
    evaluation: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    parameters: int = 0
    tables: dict = field(default_factory=dict)  # users / items: values, rows, hashing
    streamed: dict | None = None  # files, shuffle buffer, rows/s (streamed runs)


def train_recommender(
    data: str | os.PathLike | pa.Table,
    *,
    user: str,
    item: str,
    output: str | os.PathLike,
    rating: str | None = None,
    time_column: str | None = None,
    implicit: bool | None = None,
    test: str | os.PathLike | pa.Table | None = None,
    holdout: str | None = None,
    k: int = 10,
    verbose: int = 0,
    report: bool = True,
    stream: bool | None = None,
    resume: bool = False,
    **options,
) -> tuple[RecommenderReport, Recommender]:
    """Train a Recommender on an interactions file, evaluate, save the bundle and (with
    `report`) its HTML report.

    Args:
        data: A file (CSV, TSV, JSONL, Parquet) or a pyarrow Table of interactions.
        user, item: Strings. The ID columns.
        output: The bundle directory.
        rating: Optional string. The rating column (explicit ratings, or implicit positives
            at >= `min_rating`).
        time_column: Optional string. When each interaction happened (for `holdout="last"`).
        implicit: Optional boolean. Implicit feedback; by default when there is no rating.
        test: Optional file or table. Explicit: RMSE and MAE on its rows; implicit:
            HitRate@k and NDCG@k of its positives, with the most-popular baseline.
        holdout: Optional `"last"` (implicit): hold out each user's last positive (by
            `time_column`, ties by row order), train on the rest, and rank the held-out items.
        k: Integer. The ranking cut-off.
        report: Boolean. Also write the bundle's HTML report (`report.html`).
        stream: Optional boolean. Read `data` in record batches, never whole
            (`Recommender.fit_stream`); None (default): for a directory of Parquet files, or
            a Parquet or CSV file of `STREAM_FROM_BYTES` or more.
        resume: Boolean. Continue an interrupted run of the same command from the
            checkpoint it kept beside `output` (see `train_text`).
        **options: Recommender's keyword arguments.
    """
    start = time.perf_counter()
    wanted = [c for c in (user, item, rating, time_column) if c]
    if len(set(wanted)) != len(wanted):
        raise ConfigError(
            f"the user, item, rating and time columns must differ. Received {wanted}. "
            "Name a different column for each."
        )
    is_implicit, reason = _mode(implicit, rating, options.get("min_rating", 4.0))
    if holdout not in (None, "last"):
        raise ConfigError(f"`holdout` must be 'last' or None. Received: holdout={holdout!r}.")
    if holdout and not is_implicit:
        raise ConfigError(
            "--holdout last is the implicit-feedback protocol. Received explicit ratings; "
            "pass --test FILE to measure their RMSE, or --implicit."
        )
    if holdout and test is not None:
        raise ConfigError("pass --holdout last or --test FILE, not both.")
    streamed = should_stream(data, stream, holdout)
    # options checked before any reading
    model = Recommender(implicit=is_implicit, verbose=verbose, **options)
    run = {"kind": "recommender", "data": data, "columns": wanted, "implicit": is_implicit,
           "test": test, "holdout": holdout, "streamed": streamed, "options": options}
    with claim_output(output, model, resume=resume, run=run):
        if streamed:
            model.fit_stream(data, user=user, item=item, rating=rating)
            return _evaluate_and_save(model, user=user, item=item, rating=rating,
                                      time_column=time_column, test=test, k=k, holdout=None,
                                      held=(None, None), reason=reason + ", streamed",
                                      output=output, report=report, start=start)
        return _train_in_memory(model, data, user=user, item=item, rating=rating,
                                time_column=time_column, test=test, k=k, holdout=holdout,
                                reason=reason, output=output, report=report, start=start)


def _train_in_memory(model: Recommender, data, *, user, item, rating, time_column, test, k,
                     holdout, reason, output, report, start):
    wanted = [c for c in (user, item, rating, time_column) if c]
    table = data if isinstance(data, pa.Table) else read_table(data, columns=wanted)
    for column in wanted:
        if column not in table.column_names:
            raise column_error(column, table.column_names)
    if table.num_rows == 0:
        raise DataError("the interactions table has no rows. Pass a table with rows.")
    ratings = table[rating] if rating else None
    held_users = held_items = None
    if holdout:
        positive = None
        if ratings is not None:
            values = rating_values(ratings, table.num_rows)
            positive = np.nan_to_num(values, nan=-np.inf) >= model.min_rating
        times = table[time_column] if time_column else None
        train_rows, held = leave_last_out(table[user], times, positive=positive)
        held_users, held_items = table[user].take(pa.array(held)), table[item].take(
            pa.array(held))
        table = table.take(pa.array(train_rows))
        ratings = table[rating] if rating else None
    model.fit(table[user], table[item], ratings)
    return _evaluate_and_save(model, user=user, item=item, rating=rating,
                              time_column=time_column, test=test, k=k, holdout=holdout,
                              held=(held_users, held_items), reason=reason, output=output,
                              report=report, start=start)


def _evaluate_and_save(model: Recommender, *, user, item, rating, time_column, test, k,
                       holdout, held, reason, output, report, start):
    is_implicit = model.implicit
    held_users, held_items = held
    model.columns = {"user": user, "item": item, "rating": rating, "time": time_column}
    run = run_summary(model)
    evaluation: dict = {}
    baseline: dict = {}
    if held_users is not None:
        evaluation = model.evaluate_ranking(held_users, held_items, k=k)
        baseline = model.evaluate_ranking(held_users, held_items, k=k, scorer="popular")
    elif test is not None:
        test_table = test if isinstance(test, pa.Table) else read_table(
            test, columns=[c for c in (user, item, rating) if c])
        if is_implicit:
            keep = np.ones(test_table.num_rows, bool)
            if rating and rating in test_table.column_names:
                values = rating_values(test_table[rating], test_table.num_rows)
                keep = np.nan_to_num(values, nan=-np.inf) >= model.min_rating
            rows = pa.array(np.flatnonzero(keep))
            tu, ti = test_table[user].take(rows), test_table[item].take(rows)
            evaluation = model.evaluate_ranking(tu, ti, k=k)
            baseline = model.evaluate_ranking(tu, ti, k=k, scorer="popular")
        else:
            evaluation, model.evaluation = model.evaluate_with_figures(
                test_table[user], test_table[item], test_table[rating])
    model.metrics = {"validation": run["validation"], "test": evaluation, "baseline": baseline}
    data = model.data_summary
    summary = RecommenderReport(
        mode=model.mode, mode_reason=reason, rows=data["rows"], dropped=data["dropped"],
        users=data["users"], items=data["items"], positives=data["positives"],
        holdout=holdout, evaluation=evaluation, baseline=baseline,
        parameters=data["parameters"], tables=data.get("tables", {}),
        streamed=data.get("streamed"), **run,
    )
    return finish(summary, model, output, draw_report=report, start=start), model


def _mode(implicit: bool | None, rating: str | None, min_rating: float) -> tuple[bool, str]:
    """(implicit feedback or not, why), from the options."""
    if implicit is False and rating is None:
        raise ConfigError(
            "explicit ratings need --rating COLUMN. Received none. Pass --rating, or "
            "--implicit."
        )
    is_implicit = implicit if implicit is not None else rating is None
    reason = ("no rating column" if rating is None else
              f"--implicit: ratings >= {min_rating:g} are positives"
              if is_implicit else "explicit ratings in " + repr(rating))
    return is_implicit, reason


STREAM_FROM_BYTES = 1 << 30  # files this big are streamed by default


def should_stream(data, stream: bool | None, holdout: str | None) -> bool:
    """Whether to read `data` in record batches (see `train_recommender`'s `stream`)."""
    if isinstance(data, pa.Table):
        if stream:
            raise ConfigError("streaming reads a file or directory; received a table in "
                              "memory. Pass a path, or stream=False.")
        return False
    path = Path(data)
    if stream and holdout:
        raise ConfigError("--holdout last needs every user's interactions at once, so it "
                          "cannot stream. Pass --test FILE, or --no-stream.")
    if stream is not None:
        return stream
    if holdout or not path.exists():
        return False
    if path.is_dir():
        return True
    return (path.suffix.lower() in (".parquet", ".pq", ".csv", ".tsv")
            and path.stat().st_size >= STREAM_FROM_BYTES)

