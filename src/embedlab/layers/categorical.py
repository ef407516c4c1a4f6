"""The Keras table of a categorical column, and the rule that sizes it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embedlab.errors import ConfigError
from embedlab.text.categorical import CategoricalVocabulary

MAX_DIM = 600


def embedding_size(cardinality: int, *, cap: int = MAX_DIM) -> int:
    """The default embedding size of a column: fastai's `min(600, round(1.6 * n ** 0.56))`.

    Args:
        cardinality: Integer >= 1. Rows the column can take (its values plus the unknown and
            missing rows).
        cap: Integer >= 1. The largest size returned.

    Returns:
        An int >= 1.
    """
    if isinstance(cardinality, bool) or not isinstance(cardinality, int | np.integer) or (
        cardinality < 1
    ):
        raise ConfigError(
            f"`cardinality` must be a positive integer. Received: cardinality={cardinality!r}."
        )
    return int(max(1, min(cap, round(1.6 * float(cardinality) ** 0.56))))


def categorical_embedding(
    vocabulary: CategoricalVocabulary,
    *,
    dim: int | None = None,
    name: str = "embedding",
    sparse: bool | None = None,
):
    """The Keras embedding table of one categorical column.

    Args:
        vocabulary: CategoricalVocabulary. A fitted vocabulary; its `input_dim` is the rows.
        dim: Optional integer. Vector size; by default `embedding_size(input_dim - 1)`
            (the values plus the unknown and missing rows).
        name: String. Layer name; later tools find the table by it.
        sparse: Optional boolean. Train it row-sparsely; None: by its size (`use_sparse`).
    """
    from embedlab.layers.embedding import make_embedding, use_sparse

    vocabulary._require_fitted()
    size = embedding_size(vocabulary.input_dim - 1) if dim is None else dim
    return make_embedding(vocabulary.input_dim, size, name=name,
                          sparse=use_sparse(vocabulary.input_dim, sparse))


def check_sizes(sizes: dict[str, int] | None, columns: Sequence[str]) -> dict[str, int]:
    """Check per-column embedding sizes: known columns, positive integers."""
    sizes = dict(sizes or {})
    for column, size in sizes.items():
        if column not in columns:
            raise ConfigError(
                f"embedding sizes name the column {column!r}, which is not a categorical "
                f"column; the categorical columns are {list(columns)}. Fix the column name."
            )
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ConfigError(
                f"the embedding size of {column!r} must be a positive integer. "
                f"Received {size!r}."
            )
    return {k: int(v) for k, v in sizes.items()}


def rule_text() -> str:
    """The size rule in words, for reports."""
    return f"min({MAX_DIM}, round(1.6 * n ** 0.56)), n = values + unknown + missing"



__all__ = ["MAX_DIM", "categorical_embedding", "check_sizes", "embedding_size", "rule_text"]
