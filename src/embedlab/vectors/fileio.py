"""Opening a file for writing, compressed by its name (.gz, .bz2, .xz) or plain."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path
from typing import IO

_COMPRESSORS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def open_for_write(path: Path, name_for_suffix: Path | None = None) -> IO[bytes]:
    """Open `path` for binary writing, compressed when the target name ends in .gz/.bz2/.xz."""
    suffix = (name_for_suffix or path).suffix.lower()
    opener = _COMPRESSORS.get(suffix)
    if opener is None:
        return open(path, "wb")
    return opener(path, "wb")
