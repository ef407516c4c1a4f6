"""An exclusive lock on an output path, so that two runs never write one bundle.

The lock is `NAME.lock` beside the output `NAME`, held with `fcntl.flock` from start-up
(before any data is read) until the bundle is committed. The operating system releases it
when its holder exits, however it exits, so a killed run never blocks the next one; the file
itself stays (it holds the last holder's PID, for the message a second run gets).

A process may take the same lock again while it holds it (a training job holds it and
`save` takes it too).
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from embedlab.errors import BundleError

try:
    import fcntl
except ImportError:  # not POSIX: no lock, the atomic swap still keeps bundles whole
    fcntl = None

_held: dict[str, int] = {}  # lock file -> how many times this process holds it
_held_lock = threading.Lock()


def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of an output path: `NAME.lock` beside it."""
    output = Path(output).absolute()
    return output.parent / f"{output.name}.lock"


@contextlib.contextmanager
def output_lock(output: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive lock of `output` for the block; raise a `BundleError` at once,
    naming the holder's PID, when another process holds it."""
    path = lock_path(output)
    key = os.fspath(path)
    with _held_lock:
        if key in _held:
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _held_lock:
                _held[key] -= 1
        return
    fd = _acquire(path)
    with _held_lock:
        _held[key] = 1
    try:
        yield path
    finally:
        with _held_lock:
            del _held[key]
        os.close(fd)  # closing the file releases the lock


def _acquire(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise BundleError(
            f"cannot write in {str(path.parent)!r} ({exc.strerror or exc}). Expected a "
            "directory this user may write to; pass an --output in a writable place."
        ) from None
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            os.close(fd)
            raise
        holder = _holder(fd)
        os.close(fd)
        output = path.with_name(path.name[: -len(".lock")])
        raise BundleError(
            f"another embedlab run{holder} is writing {str(output)!r} (lock {path.name}). "
            "Wait for it to finish, or pass another --output."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return fd


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        if text:
            return f" (PID {int(text)})"
    return ""
