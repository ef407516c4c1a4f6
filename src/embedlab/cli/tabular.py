"""`embedlab train tabular`, `embedlab train recommender`, `embedlab recommend` and
`embedlab similar`: thin wrappers over `embedlab.jobs` and `embedlab.inspect.lookup`."""

from __future__ import annotations

from pathlib import Path

import typer

from embedlab.cli import _output as out
from embedlab.cli._options import (
    COORDINATOR_OPT,
    COORDINATOR_TIMEOUT_OPT,
    MESH_OPT,
    NUM_PROCESSES_OPT,
    PROCESS_ID_OPT,
    REPORT_OPT,
    RESUME_OPT,
    TABLES_OPT,
    distribution_options,
    keras_verbosity,
    print_layout,
    print_written,
    table_updates,
)
from embedlab.errors import ConfigError


def _names(values: list[str] | None) -> list[str]:
    """Column names from repeated and/or comma-separated options."""
    names: list[str] = []
    for value in values or []:
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return names


def _pairs(values: list[str] | None, option: str) -> dict[str, int]:
    """`COL=N` options (repeated or comma-separated) as a dict."""
    pairs: dict[str, int] = {}
    for item in _names(values):
        column, sep, number = item.rpartition("=")
        if not sep or not column:
            raise ConfigError(
                f"{option} takes COLUMN=NUMBER. Received {item!r}. Write e.g. "
                f"{option} occupation=8."
            )
        try:
            pairs[column] = int(number)
        except ValueError:
            raise ConfigError(
                f"{option} takes COLUMN=NUMBER with a whole number. Received {item!r}."
            ) from None
    return pairs


def _buckets(value: str | None) -> int | dict[str, int] | None:
    """--hash-buckets N, or user=N,item=M."""
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    pairs = _pairs([value], "--hash-buckets")
    if set(pairs) - {"user", "item"}:
        raise ConfigError(
            f"--hash-buckets takes N, or user=N,item=M. Received {value!r}. "
            "Write e.g. --hash-buckets user=1000000."
        )
    return pairs


def _metric_rows(*sections: tuple[str, dict]) -> list[list]:
    rows = []
    for split, metrics in sections:
        for name, value in (metrics or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool) and name not in (
                "rows", "dropped", "dropped_missing_label", "users", "candidates",
                "unknown_users", "unknown_items",
            ):
                rows.append([split, name, value])
    return rows


def train_tabular(
    data: Path = typer.Argument(..., help="Labelled table: CSV, TSV, JSONL or Parquet."),
    label: str = typer.Option(..., "--label", help="Column holding the label."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory to write the bundle to."),
    categorical: list[str] = typer.Option(
        None, "--categorical", help="Columns to treat as categories (comma-separated or "
        "repeated); forces an integer column too."
    ),
    numeric: list[str] = typer.Option(
        None, "--numeric", help="Columns to treat as numbers (comma-separated or repeated)."
    ),
    text: str = typer.Option(None, "--text", help="A text column to encode beside the others."),
    ignore: list[str] = typer.Option(None, "--ignore", help="Columns to leave out."),
    task: str = typer.Option(
        None, "--task", help="binary, multiclass or regression (default: from the label)."
    ),
    positive: str = typer.Option(None, "--positive", help="The positive class of a binary label."),
    test: Path = typer.Option(None, "--test", help="Labelled file evaluated once at the end."),
    embedding_size: list[str] = typer.Option(
        None, "--embedding-size", help="COLUMN=N: vector size of a column (default: "
        "min(600, round(1.6 * n ** 0.56)))."
    ),
    hash_buckets: list[str] = typer.Option(
        None, "--hash-buckets", "--hash",
        help="COLUMN=N: hash a very large column into N buckets (a stable hash).",
    ),
    min_count: int = typer.Option(
        None, "--min-count",
        help="Rarer values share the unknown row (default: 20, fewer under 4,000 rows)."),
    missing_values: str = typer.Option(
        "?", "--missing-values", help="Comma-separated text that means missing ('' for none)."
    ),
    numeric_scaling: str = typer.Option(
        "ple", "--numeric-scaling",
        help="ple (each number encoded over label-aware bins and embedded), quantile (the "
        "number's place among the training quantiles) or standard.",
    ),
    numeric_dim: int = typer.Option(
        16, "--numeric-dim", help="Vector size of each numeric column under ple."),
    hidden: str = typer.Option("200,100", "--hidden", help="Units of the hidden layers."),
    dropout: float = typer.Option(0.1, "--dropout", help="Dropout after each hidden layer."),
    epochs: int = typer.Option(20, "--epochs", help="Most epochs (early stopping may end sooner)."),
    batch_size: int = typer.Option(256, "--batch-size", help="Rows per training step."),
    validation_split: float = typer.Option(
        0.1, "--validation-split", help="Share of training rows held out for early stopping."
    ),
    patience: int = typer.Option(
        3, "--patience", help="Epochs without improvement before stopping."
    ),
    learning_rate: float = typer.Option(1e-3, "--learning-rate", help="Adam's learning rate."),
    class_weight: str = typer.Option(
        None, "--class-weight", help="'balanced' to weight rare classes up."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for a repeatable run."),
    tables: str = TABLES_OPT,
    mesh: str = MESH_OPT,
    coordinator: str = COORDINATOR_OPT,
    num_processes: int = NUM_PROCESSES_OPT,
    process_id: int = PROCESS_ID_OPT,
    coordinator_timeout: int = COORDINATOR_TIMEOUT_OPT,
    report: bool = REPORT_OPT,
    resume: bool = RESUME_OPT,
) -> None:
    """Train a model on a table: entity embeddings for categorical columns.

    Column types are inferred when not given (text and booleans categorical, numbers
    numeric) and printed.

    Examples:

    \b
      embedlab train tabular adult.csv --label income --positive ">50K" -o runs/adult
      embedlab train tabular reviews.parquet --label "Recommended IND"
          --text "Review Text" --categorical "Clothing ID" -o runs/reviews
    """
    from embedlab.jobs.tabular import train_tabular as job

    try:
        units = tuple(int(u) for u in hidden.split(",") if u.strip())
    except ValueError:
        raise ConfigError(
            f"--hidden takes comma-separated whole numbers. Received {hidden!r}."
        ) from None
    out.info(f"reading {data}")
    distributed = distribution_options(mesh, coordinator, num_processes, process_id,
                                       coordinator_timeout)
    report, model = job(
        data, label=label, output=output, test=test, categorical=_names(categorical),
        numeric=_names(numeric), text=text, ignore=_names(ignore), task=task, positive=positive,
        embedding_sizes=_pairs(embedding_size, "--embedding-size"),
        hash_buckets=_pairs(hash_buckets, "--hash"), min_count=min_count,
        missing_values=[v for v in missing_values.split(",") if v], numeric_scaling=numeric_scaling,
        numeric_dim=numeric_dim,
        hidden=units, dropout=dropout, epochs=epochs, batch_size=batch_size,
        validation_split=validation_split, patience=patience, learning_rate=learning_rate,
        class_weight=class_weight, seed=seed, verbose=keras_verbosity(), report=report,
        resume=resume,
        sparse=table_updates(tables), **distributed,
    )
    print_layout(model)
    out.info(f"task: {report.task} ({report.task_reason})")
    out.info(
        f"rows: {report.train_rows} for training, {report.dropped} dropped (missing label)"
        + (f"; test {report.test_rows}, {report.test_dropped} dropped" if report.test_rows else "")
    )
    rows = []
    for c in report.columns:
        if c["kind"] == "categorical":
            size = (f"{c['values']} values hashed into {c['hashed']} buckets "
                    f"({c.get('collisions', 0)} sharing one)" if c["hashed"]
                    else f"{c['values']} values")
            detail = ", ".join([f"{size} -> {c['dim']}-d"]
                               + [f"{c[k]} {k}" for k in ("missing", "rare") if c[k]])
        elif c["kind"] == "numeric":
            how = (f"{c['bins']} label-aware bins, embedded" if c["scaling"] == "ple"
                   else f"{c['scaling']} scaling")
            detail = ", ".join([how] + [f"{c['missing']} missing"] * bool(c["missing"]))
        elif c["kind"] == "text":
            detail = f"{c['vocabulary']} words, length {c['length']}, {c['dim']}-d"
        else:
            detail = ""
        rows.append([c["column"], c["kind"], c["reason"], detail])
    out.table("columns", ["column", "type", "why", "details"], rows)
    unknown = report.test.get("unknown_values") if report.test else None
    if unknown:
        shown = ", ".join(f"{c} {n}" for c, n in unknown.items())
        out.info("test values without a row of their own (unseen or rare in training: the "
                 f"unknown row): {shown}")
    out.info(f"epochs: {report.epochs_run} run, best {report.best_epoch} (restored); "
             f"{report.parameters:,} parameters")
    metric_rows = _metric_rows(("validation", report.validation), ("test", report.test))
    if metric_rows:
        out.table("metrics", ["split", "metric", "value"], metric_rows)
    if report.report is not None:
        out.info(f"report: {report.report}")
    print_written(report)


def train_recommender(
    data: Path = typer.Argument(
        ..., help="Interactions: CSV, TSV, JSONL or Parquet, or a directory of Parquet files."),
    user: str = typer.Option(..., "--user", help="Column holding the user IDs."),
    item: str = typer.Option(..., "--item", help="Column holding the item IDs."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory to write the bundle to."),
    rating: str = typer.Option(None, "--rating", help="Column holding the ratings."),
    time_column: str = typer.Option(
        None, "--time", help="Column holding when each interaction happened (--holdout last)."
    ),
    implicit: bool = typer.Option(
        False, "--implicit", help="Implicit feedback (the default without --rating)."
    ),
    min_rating: float = typer.Option(
        4.0, "--min-rating", help="With --implicit and --rating: ratings >= this are positive."
    ),
    test: Path = typer.Option(
        None, "--test", help="Held-out interactions: RMSE (explicit) or HitRate/NDCG (implicit)."
    ),
    holdout: str = typer.Option(
        None, "--holdout", help="'last': hold out each user's last positive and rank it."
    ),
    k: int = typer.Option(10, "-k", "--top-k", help="Ranking cut-off for HitRate and NDCG."),
    dim: int = typer.Option(None, "--dim", help="Vector size (default 32 explicit, 64 implicit)."),
    l2: float = typer.Option(
        None, "--l2", help="L2 penalty per looked-up vector (default 0.2 explicit, 0.01 implicit)."
    ),
    negatives: int = typer.Option(4, "--negatives", help="Implicit: negatives per positive."),
    epochs: int = typer.Option(None, "--epochs", help="Most epochs (default 30)."),
    batch_size: int = typer.Option(
        None, "--batch-size", help="Rows per step (default 256 explicit, 1024 implicit)."
    ),
    learning_rate: float = typer.Option(
        None, "--learning-rate", help="Adam's rate (default 1e-3 explicit, 3e-3 implicit)."
    ),
    validation_split: float = typer.Option(
        0.1, "--validation-split", help="Share of training rows held out for early stopping."
    ),
    patience: int = typer.Option(
        3, "--patience", help="Epochs without improvement before stopping."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for a repeatable run."),
    min_count: int = typer.Option(
        1, "--min-count", help="IDs with fewer interactions share the unknown row."
    ),
    hash_buckets: str = typer.Option(
        None, "--hash-buckets",
        help="N, or user=N,item=M: hash the IDs into N rows (a stable hash), for ID spaces "
        "too large to list. IDs never seen in training map to the unknown row.",
    ),
    tables: str = TABLES_OPT,
    mesh: str = MESH_OPT,
    coordinator: str = COORDINATOR_OPT,
    num_processes: int = NUM_PROCESSES_OPT,
    process_id: int = PROCESS_ID_OPT,
    coordinator_timeout: int = COORDINATOR_TIMEOUT_OPT,
    stream: bool = typer.Option(
        None, "--stream/--no-stream",
        help="Read the data in record batches, never whole (default: for a directory of "
        "Parquet files, or a Parquet or CSV file of 1 GiB or more).",
    ),
    report: bool = REPORT_OPT,
    resume: bool = RESUME_OPT,
) -> None:
    """Train user and item embeddings from ratings or implicit feedback.

    Explicit ratings train a biased matrix factorisation; implicit feedback (no --rating,
    or --implicit) a two-tower dot-product model with sampled negatives.

    Examples:

    \b
      embedlab train recommender ratings.csv --user user_id --item movie_id
          --rating rating --test test.csv -o runs/movies
      embedlab train recommender ratings.csv --user user_id --item movie_id
          --rating rating --time timestamp --implicit --holdout last -o runs/implicit
    """
    from embedlab.jobs.recommender import train_recommender as job

    out.info(f"reading {data}")
    distributed = distribution_options(mesh, coordinator, num_processes, process_id,
                                       coordinator_timeout)
    report, model = job(
        data, user=user, item=item, output=output, rating=rating, time_column=time_column,
        implicit=True if implicit else None, test=test, holdout=holdout, k=k,
        min_rating=min_rating, dim=dim, l2=l2, negatives=negatives, epochs=epochs,
        batch_size=batch_size, learning_rate=learning_rate, validation_split=validation_split,
        patience=patience, seed=seed, verbose=keras_verbosity(), report=report,
        resume=resume,
        min_count=min_count, hash_buckets=_buckets(hash_buckets), sparse=table_updates(tables),
        stream=stream, **distributed,
    )
    print_layout(model)
    out.info(f"mode: {report.mode} ({report.mode_reason})")
    if report.streamed:
        st = report.streamed
        out.info(f"streamed from {st['files']} file(s): {st['training_rows']:,} training rows, "
                 f"{st['validation_rows']:,} validation rows (by key hash), a shuffle buffer "
                 f"of {st['shuffle_buffer']:,} rows, {st['rows_per_second'] or 0:,} rows/s")
    out.info(
        f"rows: {report.rows} for training, {report.dropped} dropped (missing user, item or "
        f"rating); {report.users} users, {report.items} items, {report.positives} positives"
    )
    for name, table in report.tables.items():
        notes = []
        if table.get("hashed"):
            notes.append(f"hashed into {table['hashed']:,} buckets, {table['collisions']:,} "
                         "sharing one with another")
        if table.get("rare"):
            notes.append(f"{table['rare']:,} interactions of rare {name} share the unknown row")
        if notes:
            out.info(f"{name}: " + "; ".join(notes))
    out.info(f"epochs: {report.epochs_run} run, best {report.best_epoch} (restored); "
             f"{report.parameters:,} parameters")
    if report.evaluation:
        ev = report.evaluation
        unseen = ev.get("unknown_users", 0), ev.get("unknown_items", 0)
        if any(unseen):
            out.info(f"evaluation: {unseen[0]} users and {unseen[1]} items never seen in "
                     "training")
    held = "held-out last" if report.holdout else "test"
    rows = _metric_rows(("validation", report.validation), (held, report.evaluation),
                        ("most popular", report.baseline))
    if rows:
        out.table("metrics", ["split", "metric", "value"], rows)
    if report.report is not None:
        out.info(f"report: {report.report}")
    print_written(report)


def recommend(
    bundle: Path = typer.Argument(..., help="A bundle written by `embedlab train recommender`."),
    user: str = typer.Option(..., "--user", help="The user's ID."),
    k: int = typer.Option(10, "-k", "--top-k", help="How many items to list."),
    include_seen: bool = typer.Option(
        False, "--include-seen", help="Also list items the user has already seen."
    ),
) -> None:
    """List the best items for a user, items already seen left out.

    A user never seen in training gets the most popular items, and the output says so.

    Example:

    \b
      embedlab recommend runs/movies --user 196 -k 5
    """
    from embedlab.models.recommender import Recommender

    rec = Recommender.load(bundle)
    result = rec.recommend(user, k=k, exclude_seen=not include_seen)
    if not result.known_user:
        out.info(f"user {result.user!r} was not seen in training; showing the {len(result.items)} "
                 "most popular items instead")
    score = "interactions" if result.basis == "popularity" else (
        "score" if rec.implicit else "predicted rating")
    rows = result.rows()
    if result.basis == "popularity":
        rows = [[rank, item, int(count)] for rank, item, count in rows]
    out.table(None, ["rank", "item", score], rows)


def similar(
    bundle: Path = typer.Argument(..., help="A recommender or tabular bundle."),
    item: str = typer.Option(None, "--item", help="An item ID (recommender bundles)."),
    column: str = typer.Option(None, "--column", help="A categorical column (tabular bundles)."),
    value: str = typer.Option(None, "--value", help="A value of --column (tabular bundles)."),
    k: int = typer.Option(10, "-k", "--top-k", help="How many neighbors to list."),
) -> None:
    """List the nearest neighbors in a learned embedding space, by cosine.

    Examples:

    \b
      embedlab similar runs/movies --item 50 -k 5
      embedlab similar runs/adult --column occupation --value Sales
    """
    from embedlab.inspect.lookup import similar_entries

    neighbors = similar_entries(bundle, item=item, column=column, value=value, k=k)
    out.table(None, ["rank", "neighbor", "cosine"],
              [[i + 1, key, score] for i, (key, score) in enumerate(neighbors)])
