"""Choose the Keras backend before Keras is imported.

embedlab runs on JAX by default. A user who picked a backend, through the
``KERAS_BACKEND`` variable or ``~/.keras/keras.json`` (or ``$KERAS_HOME``), keeps it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_BACKEND = "jax"


def _keras_json_backend() -> str | None:
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    path = Path(home) / "keras.json"
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def ensure_backend() -> str:
    """Set ``KERAS_BACKEND=jax`` unless the user chose a backend; return the one in force."""
    chosen = os.environ.get("KERAS_BACKEND") or _keras_json_backend()
    if not chosen:
        os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
        chosen = DEFAULT_BACKEND
    return chosen
