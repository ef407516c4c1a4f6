"""embedlab: embeddings in Keras 3, end to end.

The public names load lazily, so `import embedlab` stays cheap: the text and vectors names
need numpy and pyarrow only, and only the model classes import Keras.
"""

from embedlab._backend import ensure_backend as _ensure_backend

_ensure_backend()

from embedlab.errors import (  # noqa: E402
    BundleError,
    ColumnError,
    ConfigError,
    DataError,
    EmbedlabError,
    LabelError,
    VectorsError,
)
from embedlab.version import __version__  # noqa: E402

_LAZY = {
    "TextEncoder": "embedlab.text.encoder",
    "Vocabulary": "embedlab.text.vocabulary",
    "WordVectors": "embedlab.vectors.wordvectors",
    "TextClassifier": "embedlab.models.text",
    "TabularModel": "embedlab.models.tabular",
    "Recommender": "embedlab.models.recommender",
}

__all__ = [
    "BundleError",
    "ColumnError",
    "ConfigError",
    "DataError",
    "EmbedlabError",
    "LabelError",
    "Recommender",
    "TabularModel",
    "TextClassifier",
    "TextEncoder",
    "VectorsError",
    "Vocabulary",
    "WordVectors",
    "__version__",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'embedlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
