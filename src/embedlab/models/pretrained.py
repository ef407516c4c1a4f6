"""The rows a text model's table starts from when it is given pre-trained vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.errors import ConfigError
from embedlab.vectors.align import CoverageReport, embedding_matrix
from embedlab.vectors.wordvectors import WordVectors


@dataclass
class PretrainedRows:
    """The starting table, the coverage of the vocabulary, and what the vectors were."""

    matrix: np.ndarray
    coverage: CoverageReport
    info: dict


def pretrained_rows(
    vectors: Any,
    encoder,
    *,
    dim: int | None,
    unknown: str,
    vectors_std: float | None,
    seed: int,
    on_bad_line: str = "error",
) -> PretrainedRows:
    """The table for an encoder's ids from pre-trained vectors.

    Args:
        vectors: A WordVectors, a path or a known name (`glove-6b-50d`).
        encoder: TextEncoder. Fitted; its vocabulary's rows come from the vectors and its
            hashed n-gram rows are drawn at random with the vectors' spread.
        dim: Optional integer. Must equal the vectors' dimension when given.
        unknown: String. Rows of words the vectors lack (see `embedding_matrix`).
        vectors_std: Optional float. Rescale the rows to this standard deviation.
        seed: Integer. Seeds the random rows.
        on_bad_line: String. "error" or "skip": a malformed line of a vectors file.
    """
    wv = vectors if isinstance(vectors, WordVectors) else WordVectors.load(
        vectors, on_bad_line=on_bad_line)
    if dim is not None and dim != wv.vector_size:
        raise ConfigError(
            f"`dim` must match the vectors' dimension {wv.vector_size}. Received: "
            f"dim={dim}. Drop --dim; it follows the vectors."
        )
    vocab = encoder.vocabulary
    matrix, report = embedding_matrix(wv, vocab, unknown=unknown, seed=seed)
    scale = 1.0
    if vectors_std is not None:
        spread = float(matrix[2:].std()) if len(matrix) > 2 else 0.0
        scale = vectors_std / spread if spread > 0 else 1.0
        matrix = matrix * np.float32(scale)
    extra = encoder.input_dim - len(vocab)
    if extra:
        rng = np.random.default_rng(seed + 1)
        spread = matrix[2:].std(axis=0, keepdims=True) if len(matrix) > 2 else 0.05
        buckets = rng.normal(0.0, 1.0, (extra, matrix.shape[1])) * spread
        matrix = np.concatenate([matrix, buckets.astype("float32")])
    info = {
        "source": str(getattr(wv, "source", vectors)),
        "format": getattr(wv, "format", None),
        "dim": int(wv.vector_size),
        "count": len(wv),
        "scale": scale,
    }
    return PretrainedRows(matrix, report, info)
