"""Choose the Keras backend before Keras is imported.

embedlab runs on JAX by default. A user who picked a backend keeps it: the ``KERAS_BACKEND``
variable always wins; the ``backend`` of ``~/.keras/keras.json`` (or ``$KERAS_HOME``) is kept
when that backend's package is installed. (Keras writes ``"tensorflow"`` into a new
keras.json on its first import whatever backend ran, so a keras.json naming an absent
TensorFlow is Keras's default, not a choice.)
"""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
from pathlib import Path

DEFAULT_BACKEND = "jax"
_PACKAGES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch", "numpy": "numpy",
             "openvino": "openvino"}


def _keras_json_backend() -> str | None:
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    path = Path(home) / "keras.json"
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def _installed(backend: str) -> bool:
    package = _PACKAGES.get(backend)
    return package is not None and find_spec(package) is not None


def ensure_backend() -> str:
    """Set ``KERAS_BACKEND`` to the user's choice, or ``jax``; return the one in force."""
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    configured = _keras_json_backend()
    chosen = configured if configured and _installed(configured) else DEFAULT_BACKEND
    os.environ["KERAS_BACKEND"] = chosen
    return chosen
