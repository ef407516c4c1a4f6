"""Reading a source through the cache: the work behind `WordVectors.load`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.errors import ConfigError, VectorsError
from embedlab.vectors import cache as cache_mod
from embedlab.vectors import formats
from embedlab.vectors.cache_index import source_entry
from embedlab.vectors.parsed import Parsed, Progress, check_policies

if TYPE_CHECKING:
    from embedlab.vectors.fasttext_bin import SubwordTable

logger = logging.getLogger(__name__)


@dataclass
class Loaded:
    """Parsed vectors and where they came from."""

    parsed: Parsed
    display: str
    format: str
    cache_path: Path | None
    cache_state: str


def load_source(
    path: str | os.PathLike,
    *,
    format: str | None,
    limit: int | None,
    cache: bool,
    cache_dir: str | os.PathLike | None,
    on_bad_line: str,
    on_nonfinite: str,
    progress: Progress | None,
    verify: bool = False,
) -> Loaded:
    """Resolve, detect, then serve from the cache or parse (and write the cache)."""
    check_policies(on_bad_line, on_nonfinite)
    formats.check_format(format)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"`limit` must be a positive integer. Received: limit={limit!r}.")
    source = formats.resolve(path)
    fmt = format or formats.detect_format(source.path)
    if fmt == "npy":
        from embedlab.vectors.npy import read_npy

        parsed = read_npy(source.path, limit=limit, on_nonfinite=on_nonfinite)
        return Loaded(parsed, source.display, fmt, None, "not needed (memory-mapped npy)")
    if source.path.is_dir():
        raise VectorsError(
            f"{source.display!r} is a folder, but format {fmt!r} is a single file. Pass the "
            f"file, or format='npy' for a folder with a .npy matrix and a word list."
        )
    entry, state = None, "disabled"
    if cache:
        entry = source_entry(source.path, fmt, limit=limit, on_bad_line=on_bad_line,
                             on_nonfinite=on_nonfinite, cache_dir=cache_dir)
        hit, state = cache_mod.load(entry, verify=verify)
        if hit is not None:
            subwords = _subwords_from_meta(source.path, hit.extra)
            parsed = Parsed(hit.words, hit.matrix, hit.stats, subwords, hit.extra)
            return Loaded(parsed, source.display, fmt, entry.folder, "reused")
    parsed = _read(fmt, source.path, limit, on_bad_line, on_nonfinite, progress)
    if entry is not None:
        try:
            cache_mod.store(entry, parsed.words, parsed.matrix, parsed.stats, parsed.extra)
            state = "rebuilt (the old one was corrupt)" if state == "corrupt" else "created"
        except OSError as exc:
            logger.warning("Could not write the vectors cache %s: %s", entry.folder, exc)
            state = f"not written ({exc.strerror or exc})"
    return Loaded(parsed, source.display, fmt, entry.folder if entry else None, state)


def _read(fmt, path, limit, on_bad_line, on_nonfinite, progress) -> Parsed:
    """Parse a source file (each format's reader is imported when first used)."""
    if fmt in ("glove", "word2vec"):
        from embedlab.vectors.glove import read_text

        return read_text(
            path,
            header=fmt == "word2vec",
            limit=limit,
            on_bad_line=on_bad_line,
            on_nonfinite=on_nonfinite,
            progress=progress,
        )
    if fmt == "word2vec-binary":
        from embedlab.vectors.word2vec_binary import read_binary

        return read_binary(path, limit=limit, on_nonfinite=on_nonfinite, progress=progress)
    from embedlab.vectors.fasttext_bin import read_fasttext

    return read_fasttext(path, limit=limit, on_nonfinite=on_nonfinite)


def _subwords_from_meta(path: Path, extra: dict[str, Any]) -> SubwordTable | None:
    """The n-gram table of a cached fasttext-bin source, memory-mapped from the source."""
    info = extra.get("fasttext")
    if not info:
        return None
    from embedlab.vectors.fasttext_bin import SubwordTable

    dim, bucket = info["dim"], info["bucket"]
    if bucket <= 0:
        return SubwordTable(np.zeros((0, dim), np.float32), info["minn"], info["maxn"], 0)
    offset = info["matrix_offset"] + info["nwords"] * dim * 4
    table = np.memmap(path, dtype="<f4", mode="r", offset=offset, shape=(bucket, dim))
    return SubwordTable(table, info["minn"], info["maxn"], bucket)
