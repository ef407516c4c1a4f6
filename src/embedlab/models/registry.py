"""The registry of bundle kinds: which class writes and loads each kind of bundle.

    model = load_bundle("runs/reviews")     # a TextClassifier, TabularModel or Recommender

Loading reads the bundle's state at once and its Keras model when first needed (see
`embedlab.models.base`), so reading tables from any bundle stays cheap.
"""

from __future__ import annotations

import os

from embedlab import artifacts
from embedlab.errors import BundleError
from embedlab.models.base import EmbeddingModel
from embedlab.models.recommender import Recommender
from embedlab.models.tabular import TabularModel
from embedlab.models.text import TextClassifier

KINDS: dict[str, type[EmbeddingModel]] = {
    cls.kind: cls for cls in (TextClassifier, TabularModel, Recommender)
}


def model_class(kind: str | None, *, path: str | os.PathLike = "") -> type[EmbeddingModel]:
    """The class of a bundle kind."""
    if kind not in KINDS:
        raise BundleError(
            f"bundle {str(path)!r} is of kind {kind!r}, which this embedlab cannot load "
            f"(it knows {', '.join(KINDS)}). Upgrade embedlab."
        )
    return KINDS[kind]


def load_bundle(path: str | os.PathLike) -> EmbeddingModel:
    """Load any bundle by its kind."""
    manifest = artifacts.read_manifest(path)
    return model_class(manifest.get("kind"), path=path).load(path)


def table_names(path: str | os.PathLike) -> list[str]:
    """The names of a bundle's tables, read from its manifest alone."""
    manifest = artifacts.read_manifest(path)
    return model_class(manifest.get("kind"), path=path).table_names(manifest)
