"""The vectors cache's entries and their meta.json: keys, checksums and verification.
Standard library only, so `vectors info` on a cached file answers without numpy.

See `embedlab.vectors.cache` for what an entry holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_VERSION = 1
MATRIX_FILE = "vectors.npy"
WORDS_FILE = "words.arrow"
META_FILE = "meta.json"
_SAMPLE = 16 << 10
_SAMPLES = 64


def cache_root() -> Path:
    """Where embedlab caches go: $EMBEDLAB_CACHE_DIR, else $XDG_CACHE_HOME/embedlab,
    else ~/.cache/embedlab."""
    explicit = os.environ.get("EMBEDLAB_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "embedlab"


@dataclass
class CacheEntry:
    """One cache folder and the key it must match."""

    folder: Path
    key: dict[str, Any]
    digest: str


def entry_for(
    source: Path,
    *,
    format: str,
    limit: int | None,
    options: dict[str, Any],
    root: str | os.PathLike | None = None,
) -> CacheEntry:
    """The cache entry of a source file read with the given format, limit and options."""
    source = source.resolve()
    stat = source.stat()
    key = {
        "version": CACHE_VERSION,
        "source": str(source),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "format": format,
        "limit": limit,
        **options,
    }
    digest = digest_of(key)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[:60] or "vectors"
    folder = Path(root) if root is not None else cache_root() / "vectors"
    name = f"{slug}-{digest_of(str(source))[:10]}-{digest[:16]}"
    return CacheEntry(folder=folder / name, key=key, digest=digest)


def verified_meta(entry: CacheEntry) -> dict[str, Any]:
    """The entry's meta.json, once its checksum, key, file sizes, the words' CRC-32 and
    the CRC-32 of sampled pieces of the matrix all match; ValueError (or OSError) if not."""
    folder = entry.folder
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    claimed = meta.pop("meta_crc32")
    if claimed != meta_crc(meta):
        raise ValueError("meta.json does not match its checksum")
    if meta["key"] != entry.key or meta["digest"] != entry.digest:
        raise ValueError("the entry was written for another source or options")
    matrix_path, words_path = folder / MATRIX_FILE, folder / WORDS_FILE
    if matrix_path.stat().st_size != meta["matrix_bytes"]:
        raise ValueError("vectors.npy has the wrong size")
    if words_path.stat().st_size != meta["words_bytes"]:
        raise ValueError("words.arrow has the wrong size")
    if sample_crc(matrix_path) != meta["matrix_sample_crc32"]:
        raise ValueError("vectors.npy does not match its checksum")
    if crc_file(words_path) != meta["words_crc32"]:
        raise ValueError("words.arrow does not match its checksum")
    return meta


def digest_of(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_crc(meta: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(meta, sort_keys=True).encode("utf-8"))


def crc_file(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            crc = zlib.crc32(piece, crc)
    return crc


def sample_crc(path: Path) -> int:
    """CRC-32 of the head, the tail and evenly spaced pieces of a file (plus its size)."""
    size = path.stat().st_size
    offsets = {0, max(0, size - _SAMPLE)}
    offsets.update(k * size // _SAMPLES for k in range(1, _SAMPLES))
    crc = zlib.crc32(str(size).encode())
    with open(path, "rb") as handle:
        for offset in sorted(offsets):
            handle.seek(offset)
            crc = zlib.crc32(handle.read(_SAMPLE), crc)
    return crc


def source_entry(
    source: Path,
    fmt: str,
    *,
    limit: int | None,
    on_bad_line: str,
    on_nonfinite: str,
    cache_dir: str | os.PathLike | None = None,
) -> CacheEntry:
    """The cache entry of a vectors file read with these options (the loader's key)."""
    root = Path(cache_dir) / "vectors" if cache_dir is not None else None
    options = {"on_bad_line": on_bad_line, "on_nonfinite": on_nonfinite}
    return entry_for(source, format=fmt, limit=limit, options=options, root=root)


def cached_description(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    limit: int | None = None,
    on_bad_line: str = "error",
    on_nonfinite: str = "error",
) -> dict[str, Any] | None:
    """What `WordVectors.describe()` says of a vectors file, from its cache entry's
    meta.json alone (verified as a load verifies it), without reading the matrix; None
    when the file has no sound entry with a summary (then load it)."""
    from embedlab.errors import EmbedlabError
    from embedlab.vectors import formats

    try:
        source = formats.resolve(path)
        fmt = format or formats.detect_format(source.path)
    except (EmbedlabError, OSError):
        return None
    if fmt == "npy" or source.path.is_dir():
        return None
    try:
        entry = source_entry(source.path, fmt, limit=limit, on_bad_line=on_bad_line,
                             on_nonfinite=on_nonfinite)
        meta = verified_meta(entry)
        summary = meta["summary"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fasttext = (meta.get("extra") or {}).get("fasttext") or {}
    return {
        "source": source.display,
        "format": fmt,
        "words": meta["rows"],
        "dimension": meta["dim"],
        **summary,
        "subwords": bool(fasttext.get("bucket", 0) > 0 and fasttext.get("maxn", 0) > 0),
        "cache_state": "reused",
        "cache_path": str(entry.folder),
        "load_stats": meta["stats"],
    }
