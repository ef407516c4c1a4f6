"""The demo: fine-food reviews -> GloVe-initialised text model -> predictions, and what the
embedding learned (neighbors of review words before and after fine-tuning)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.datasets import fine_food_reviews
from embedlab.jobs.text import TrainReport, train_text
from embedlab.models.text import TextClassifier
from embedlab.vectors.wordvectors import WordVectors

SAMPLES = [
    "Delicious coffee, rich and smooth. I will buy it again.",
    "Stale crackers, they arrived broken and tasted like cardboard.",
]
PROBE_WORDS = ["delicious", "stale", "disappointed", "cheap"]
VECTORS = "glove-6b-50d"


@dataclass
class DemoReport:
    """What the demo did, for printing."""

    train_rows: int
    test_rows: int
    vectors: str
    freeze_epochs: int
    training: TrainReport
    baseline: dict = field(default_factory=dict)  # TF-IDF + logistic regression, same split
    neighbors: list[list[str]] = field(default_factory=list)  # word, before, after
    predictions: list[list] = field(default_factory=list)  # text, predicted, probability


def run_demo(
    *, output: Path, epochs: int = 10, seed: int = 0, verbose: int = 0, vectors: str = VECTORS,
    freeze_epochs: int = 0,
) -> DemoReport:
    """Train the demo model on the fine-food reviews, evaluate it on their test split and
    predict two reviews; returns what a user needs to see."""
    train, test = fine_food_reviews()
    wv = WordVectors.load(vectors)
    training, clf = train_text(
        train, text="review", label="score", output=output, test=test, positive="great",
        arch="bag", epochs=epochs, seed=seed, verbose=verbose, vectors=wv,
        freeze_epochs=freeze_epochs,
    )
    columns = clf.prediction_columns(SAMPLES)
    baseline = tfidf_baseline(train, test, text="review", label="score", positive="great",
                              seed=seed)
    return DemoReport(
        train_rows=train.num_rows, test_rows=test.num_rows,
        vectors=f"{wv.source} ({len(wv)} words x {wv.vector_size})",
        freeze_epochs=freeze_epochs, training=training, baseline=baseline,
        neighbors=neighbors_before_and_after(clf, PROBE_WORDS),
        predictions=[list(row) for row in zip(SAMPLES, columns["predicted"],
                                              columns["probability"], strict=True)],
    )


def tfidf_baseline(train, test, *, text: str, label: str, positive, seed: int = 0) -> dict:
    """The strong simple baseline on the same split: TF-IDF of word 1-2 grams and a
    logistic regression whose C is chosen by 5-fold cross-validated AUC on the training
    rows alone. Returns its test AUC and the C chosen (scikit-learn, the demo extra)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import roc_auc_score

    def rows(table):
        texts, labels = table[text].to_pylist(), table[label].to_pylist()
        kept = [(t, y) for t, y in zip(texts, labels, strict=True)
                if t is not None and y is not None]
        return [t for t, _ in kept], [int(y == positive) for _, y in kept]

    x_train, y_train = rows(train)
    x_test, y_test = rows(test)
    features = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegressionCV(Cs=10, cv=5, scoring="roc_auc", max_iter=2000,
                                 random_state=seed)
    model.fit(features.fit_transform(x_train), y_train)
    scores = model.predict_proba(features.transform(x_test))[:, 1]
    return {"auc": float(roc_auc_score(y_test, scores)), "C": float(model.C_[0])}


def neighbors_before_and_after(
    clf: TextClassifier, words: list[str], k: int = 5
) -> list[list[str]]:
    """Rows of (word, nearest before training, nearest after), cosine among the model's
    vocabulary; words the vocabulary lacks are left out."""
    table = clf.embedding_tables()["words"]
    rows = []
    for word in words:
        if word not in table.vectors:
            continue
        rows.append([
            word,
            ", ".join(w for w, _ in table.initial.most_similar(word, topn=k)),
            ", ".join(w for w, _ in table.vectors.most_similar(word, topn=k)),
        ])
    return rows
