"""Training: targets from labels, the trainer, metrics."""

from embedlab.training.targets import Target
from embedlab.training.trainer import Phase, TrainSettings, compile_model, train

__all__ = ["Phase", "Target", "TrainSettings", "compile_model", "train"]
