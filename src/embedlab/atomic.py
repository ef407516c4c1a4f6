"""Atomic writes: a file or a directory appears whole under its name, or not at all.

Every file embedlab writes goes through here. A file is written to a temporary sibling,
flushed to disk and renamed over its name in one step (`os.replace`). A directory (a
bundle, a cache entry, an export folder) is built in a temporary sibling and swapped with
the old one in one step (`renameat2(RENAME_EXCHANGE)` on Linux), so there is never a moment
with nothing at the path; the old copy is deleted after. Where the system cannot exchange
two names, the old directory is moved aside, the new one renamed in, and the old one
deleted (a crash between those two renames leaves the old copy under a hidden name).

Temporary siblings are named `.NAME.PID.xxxx.tmp`: one left by a process that died (a kill
-9 in the middle of a write) is removed by the next write beside it.

New files and folders get the permissions the user's umask gives (0644 / 0755 under umask
022); a file that replaces another keeps the mode of the one it replaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from embedlab.errors import ConfigError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}
_umask_lock = threading.Lock()
_umask: int | None = None


def umask() -> int:
    """The process's umask (read once; from /proc on Linux, where reading it is harmless)."""
    global _umask
    if _umask is None:
        with _umask_lock:
            if _umask is None:
                _umask = _read_umask()
    return _umask


def _read_umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current


def file_mode(path: Path) -> int:
    """The mode a file written at `path` gets: the replaced file's, else 0666 less umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode of a new directory: 0777 less umask."""
    return 0o777 & ~umask()


def _fsync(path: Path, *, directory: bool = False) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, flush it to disk and
    rename it onto `path`. On failure the temporary file is removed and `path` untouched."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"{str(path)!r} is a directory; expected the path of a file to write. Pass a "
            "file name (or remove the directory)."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    fd, name = tempfile.mkstemp(prefix=_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode(path))
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent, directory=True)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically (lines end in "\\n" on every system)."""
    path = Path(path)
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return path


def temporary_sibling(path: str | os.PathLike, suffix: str = ".tmp") -> Path:
    """A new empty hidden directory beside `path` (for a directory being built)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    return Path(tempfile.mkdtemp(prefix=_prefix(path), suffix=suffix, dir=path.parent))


def _prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def remove_stale(path: str | os.PathLike, *, locked: bool = False) -> list[Path]:
    """Remove the temporaries beside `path` that a dead process left (`.NAME.PID.*.tmp` and
    `.old` whose PID no longer runs). With `locked` (the caller holds `path`'s lock, so no
    one else writes there), also those of unknown origin, such as an older release's.
    Returns what was removed."""
    path = Path(path)
    start = f".{path.name}."
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(start) or not (name.endswith((".tmp", ".old"))
                                               or ".old-" in name):
            continue
        pid = _pid_in(name[len(start):])
        if pid == os.getpid() or (pid is not None and _running(pid)):
            continue
        if pid is None and not locked:
            continue
        stale = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                stale.unlink()
        removed.append(stale)
    return removed


def _pid_in(rest: str) -> int | None:
    head = rest.split(".", 1)[0]
    if head.startswith("old-"):
        head = head[4:]
    return int(head) if head.isdigit() else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside `path`; when the block succeeds, swap it in.

    Args:
        path: The directory to create or replace.
        keep_existing: Boolean. When `path` exists by the time the block ends (another
            process built the same content meanwhile), keep it and discard ours.

    On failure the temporary directory is removed and `path` is untouched.
    """
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        commit_directory(tmp, path, keep_existing=keep_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def commit_directory(tmp: Path, path: Path, *, keep_existing: bool = False) -> None:
    """Put the finished directory `tmp` at `path` in one step (see the module's doc); the
    directory that was at `path` is deleted."""
    os.chmod(tmp, dir_mode())
    for root, _dirs, files in os.walk(tmp):
        for name in files:
            _fsync(Path(root) / name)
    _fsync(tmp, directory=True)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ConfigError(
            f"{str(path)!r} is a file; expected a directory (or nothing) there to write a "
            "folder into. Pass another output path, or remove the file."
        )
    if path.exists():
        if keep_existing:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # `tmp` now names the old copy
            _fsync(path.parent, directory=True)
            return
        old = temporary_sibling(path, suffix=".old")
        os.replace(path, old / "previous")
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old / "previous", path)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
        _fsync(path.parent, directory=True)
        return
    try:
        os.replace(tmp, path)
    except OSError:
        if keep_existing and path.is_dir():  # created meanwhile by another process
            shutil.rmtree(tmp, ignore_errors=True)
            return
        raise
    _fsync(path.parent, directory=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap the names `a` and `b` in one step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in _UNSUPPORTED:
        return False
    raise OSError(error, os.strerror(error), str(b))
