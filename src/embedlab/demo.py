"""The demo: fine-food reviews -> GloVe-initialised text model -> predictions, and what the
embedding learned (neighbours of review words before and after fine-tuning)."""

from __future__ import annotations

from pathlib import Path

from embedlab.cli import _output as out

SAMPLES = [
    "Delicious coffee, rich and smooth. I will buy it again.",
    "Stale crackers, they arrived broken and tasted like cardboard.",
]
PROBE_WORDS = ["delicious", "stale", "disappointed", "cheap"]
VECTORS = "glove-6b-50d"


def run(
    *, output: Path, epochs: int = 10, seed: int = 0, verbose: int = 0, vectors: str = VECTORS,
    freeze_epochs: int = 2,
) -> dict:
    """Train the demo model and print what a user needs to see. Returns the test metrics."""
    from embedlab import jobs
    from embedlab.cli.commands import print_train_report
    from embedlab.data.datasets import fine_food_reviews
    from embedlab.vectors import WordVectors

    train, test = fine_food_reviews()
    out.info(
        f"Amazon fine-food reviews: {train.num_rows} training rows, {test.num_rows} test rows; "
        "label `score`, positive class 'great'"
    )
    wv = WordVectors.load(vectors)
    out.info(f"vectors: {wv.source} ({len(wv)} words x {wv.vector_size}); the table starts from "
             f"them, frozen for {freeze_epochs} epochs, then fine-tuned")
    report, clf = jobs.train_text(
        train, text="review", label="score", output=output, test=test, positive="great",
        arch="cnn", epochs=epochs, seed=seed, verbose=verbose, vectors=wv,
        freeze_epochs=freeze_epochs,
    )
    print_train_report(report)
    show_neighbours(clf, PROBE_WORDS)
    columns = clf.prediction_columns(SAMPLES)
    out.table(
        "predictions",
        ["text", "predicted", "probability of 'great'"],
        [list(row) for row in zip(SAMPLES, columns["predicted"], columns["probability"],
                                  strict=True)],
    )
    out.info(f"try: embedlab predict {output} \"your review here\"")
    if report.report is not None:
        out.success(f"report (open it in a browser): {report.report}")
    return report.test


def show_neighbours(clf, words: list[str], k: int = 5) -> None:
    """Nearest words (cosine, among the model's vocabulary) before and after training."""
    before = clf.embedding_vectors(initial=True)
    after = clf.embedding_vectors()
    rows = []
    for word in words:
        if word not in after:
            continue
        rows.append([
            word,
            ", ".join(w for w, _ in before.most_similar(word, topn=k)),
            ", ".join(w for w, _ in after.most_similar(word, topn=k)),
        ])
    if rows:
        out.table("nearest words in the model's vocabulary", ["word", "before training",
                                                              "after fine-tuning"], rows)
