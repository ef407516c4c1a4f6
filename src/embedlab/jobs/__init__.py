"""Whole runs behind the command line, callable (and tested) without a terminal: train a
text, tabular or recommender model from a file, predict from a bundle, the demo. Each
returns a report object and prints nothing."""

from embedlab.jobs.common import save_with_report
from embedlab.jobs.predict import predict
from embedlab.jobs.recommender import RecommenderReport, train_recommender
from embedlab.jobs.tabular import TabularReport, train_tabular
from embedlab.jobs.text import TrainReport, train_text
from embedlab.models.registry import load_bundle

__all__ = [
    "RecommenderReport",
    "TabularReport",
    "TrainReport",
    "load_bundle",
    "predict",
    "save_with_report",
    "train_recommender",
    "train_tabular",
    "train_text",
]
