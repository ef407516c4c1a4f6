"""embedlab: embeddings in Keras 3, end to end."""

from embedlab._backend import ensure_backend as _ensure_backend

_ensure_backend()

__version__ = "0.1.0"

from embedlab.errors import (  # noqa: E402
    BundleError,
    ColumnError,
    ConfigError,
    DataError,
    EmbedlabError,
    LabelError,
    VectorsError,
)
from embedlab.text import TextEncoder, Vocabulary  # noqa: E402

__all__ = [
    "BundleError",
    "ColumnError",
    "ConfigError",
    "DataError",
    "EmbedlabError",
    "LabelError",
    "TextEncoder",
    "VectorsError",
    "Vocabulary",
    "__version__",
]


def __getattr__(name: str):
    # Keras-using names load lazily, so `import embedlab` for text or vectors stays cheap.
    lazy = {
        "TextClassifier": "embedlab.models.text",
        "TabularModel": "embedlab.models.tabular",
        "Recommender": "embedlab.models.recommender",
        "WordVectors": "embedlab.vectors",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'embedlab' has no attribute {name!r}")
