"""What the inspect tools write and how they draw: the names the command line offers.
Standard library only, so `embedlab --help` stays fast."""

from __future__ import annotations

from embedlab.errors import ConfigError

EXPORT_FORMATS = ("word2vec", "word2vec-binary", "glove", "npy", "projector")
IMAGE_FORMATS = ("png", "svg", "pdf")
METHODS = ("pca", "tsne", "umap")  # 2-D layouts of a map
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def check_export_format(format: str) -> str:
    """Return `format` when `export_vectors` writes it, else raise a ConfigError."""
    if format not in EXPORT_FORMATS:
        hint = ""
        if format == "fasttext-bin":
            hint = " fastText .bin models can be read but not written; use 'word2vec' for .vec."
        raise ConfigError(
            f"`format` must be one of {', '.join(EXPORT_FORMATS)}. Received: "
            f"format={format!r}.{hint}"
        )
    return format
