"""The demo: fine-food reviews -> trained text model -> predictions on new sentences."""

from __future__ import annotations

from pathlib import Path

from embedlab.cli import _output as out

SAMPLES = [
    "Delicious coffee, rich and smooth. I will buy it again.",
    "Stale crackers, they arrived broken and tasted like cardboard.",
]


def run(*, output: Path, epochs: int = 10, seed: int = 0, verbose: int = 0) -> dict:
    """Train the demo model and print what a user needs to see. Returns the test metrics."""
    from embedlab import jobs
    from embedlab.cli.commands import print_train_report
    from embedlab.data.datasets import fine_food_reviews

    train, test = fine_food_reviews()
    out.info(
        f"Amazon fine-food reviews: {train.num_rows} training rows, {test.num_rows} test rows; "
        "label `score`, positive class 'great'"
    )
    report, clf = jobs.train_text(
        train, text="review", label="score", output=output, test=test, positive="great",
        arch="cnn", epochs=epochs, seed=seed, verbose=verbose,
    )
    print_train_report(report)
    columns = clf.prediction_columns(SAMPLES)
    out.table(
        "predictions",
        ["text", "predicted", "probability of 'great'"],
        [[t, p, q] for t, p, q in zip(SAMPLES, columns["predicted"], columns["probability"])],
    )
    out.info(f"try: embedlab predict {output} \"your review here\"")
    return report.test
