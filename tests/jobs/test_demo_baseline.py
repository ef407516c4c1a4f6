"""The baseline the demo prints beside its model: TF-IDF + logistic regression, C chosen
on the training rows alone."""

import pyarrow as pa

from embedlab.jobs.demo import tfidf_baseline
from tests.conftest import make_reviews


def test_the_baseline_learns_from_the_training_rows_and_scores_the_test_rows():
    texts, labels = make_reviews(300, seed=1)
    t2, l2 = make_reviews(100, seed=2)
    found = tfidf_baseline(pa.table({"review": texts, "score": labels}),
                           pa.table({"review": t2, "score": l2}),
                           text="review", label="score", positive="great")
    assert found["auc"] > 0.9 and found["C"] > 0
    # labels that follow nothing in the text: the baseline is at chance, not above it
    shuffled = labels[150:] + labels[:150]
    chance = tfidf_baseline(pa.table({"review": texts, "score": shuffled}),
                            pa.table({"review": t2, "score": l2[::-1]}),
                            text="review", label="score", positive="great")
    assert chance["auc"] < 0.7
