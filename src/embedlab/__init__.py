"""embedlab: embeddings in Keras 3, end to end.

The public names load lazily, so `import embedlab` stays cheap: the text and vectors names
need numpy and pyarrow only, and only the model classes import Keras.
"""

from embedlab._backend import ensure_backend as _ensure_backend

_ensure_backend()

from embedlab._lazy import lazy_names  # noqa: E402
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

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
