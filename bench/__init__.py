"""Benchmarks against peers on real data (see docs/benchmarks.md)."""

import embedlab  # noqa: F401  (chooses the Keras backend before any benchmark imports Keras)
