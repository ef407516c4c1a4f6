"""Many processes (hosts) in one run: joining them, and which one writes.

    initialize("10.0.0.1:1234", num_processes=2, process_id=1)   # before JAX sees a device
    process_count(), process_index(), is_primary()

A run of N processes is N copies of the same command, one per host (or per GPU group), each
given the coordinator's address (process 0 serves it), N and its own id, as options or in the
environment that `keras.distribution.initialize` reads (`KERAS_DISTRIBUTION_JOB_ADDRESSES`,
`KERAS_DISTRIBUTION_NUM_PROCESSES`, `KERAS_DISTRIBUTION_PROCESS_ID`). Whatever is left out
JAX finds from the cluster it runs on (SLURM, Open MPI, a Cloud TPU slice). Then
`jax.devices()` lists the devices of every process and a `--mesh` spans them all.

Keras's `keras.distribution.initialize` calls `jax.distributed.initialize` with JAX's
timeouts (300 s to connect, 100 s before a silent process counts as dead), which it does not
let a caller change; embedlab makes the same call with one `timeout` for both, so an
unreachable coordinator or a dead process stops the run within it. (Keras's call then also
agrees a random seed among the processes; embedlab always seeds its runs, the same seed in
every process, so it needs none.)
"""

from __future__ import annotations

import logging
import os
import socket
import time

from embedlab.errors import ConfigError

log = logging.getLogger(__name__)

ENV_ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
ENV_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
ENV_PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"
TIMEOUT = 45  # seconds to reach the coordinator, and of silence before a process is dead


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, timeout: int = TIMEOUT) -> int:
    """Join this process to a run of many; returns the number of processes (1, doing
    nothing, when neither the arguments nor the environment name more than one).

    Args:
        coordinator: String. `HOST:PORT` of process 0 (a comma-separated list of every
            process's address is also taken: its first is the coordinator).
        num_processes: Integer. The processes of the run.
        process_id: Integer. This process's id, from 0 to `num_processes - 1`.
        timeout: Integer. Seconds to reach the coordinator, and of silence after which a
            process counts as dead and the others stop.

    Raises:
        ConfigError: an id out of range, a malformed address, a coordinator not reached
            within `timeout`, or a call after JAX started on one process.
    """
    coordinator = coordinator or os.environ.get(ENV_ADDRESSES) or None
    num_processes = _integer("--num-processes", num_processes, ENV_PROCESSES)
    process_id = _integer("--process-id", process_id, ENV_PROCESS_ID)
    if coordinator is None and num_processes is None and process_id is None:
        return 1
    if num_processes is not None and num_processes < 1:
        raise ConfigError(f"--num-processes must be at least 1. Received {num_processes}.")
    if process_id is not None and (process_id < 0 or (
            num_processes is not None and process_id >= num_processes)):
        raise ConfigError(
            f"--process-id must be from 0 to --num-processes - 1 ({(num_processes or 1) - 1})."
            f" Received {process_id}. Give each process its own id, 0 to the coordinator."
        )
    if coordinator is not None:
        coordinator = coordinator.split(",")[0].strip()
        host, _, port = coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--coordinator must be HOST:PORT (process 0's address). "
                              f"Received {coordinator!r}. Pass e.g. 10.0.0.1:1234.")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ConfigError(f"--coordinator-timeout must be a whole number of seconds >= 1. "
                          f"Received {timeout!r}.")
    if num_processes == 1:
        return 1
    import jax

    if jax.distributed.is_initialized():
        return jax.process_count()
    if coordinator is not None and process_id != 0:
        # JAX's client aborts the whole process (no Python error) when it cannot connect
        _wait_for(coordinator, timeout, process_id)
    try:
        jax.distributed.initialize(
            coordinator, num_processes, process_id, initialization_timeout=timeout,
            heartbeat_timeout_seconds=timeout, shutdown_timeout_seconds=timeout)
    except (RuntimeError, ValueError) as exc:  # JAX's runtime errors are RuntimeErrors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        where = coordinator or "the coordinator"
        raise ConfigError(
            f"process {process_id} could not join the run at {where} within {timeout} s "
            f"({first}). Start process 0 there, check the address and that the port is "
            "open, or pass --coordinator-timeout."
        ) from None
    count = jax.process_count()
    log.info("process %d of %d joined at %s; %d devices in all", jax.process_index(), count,
             coordinator or "the cluster's coordinator", len(jax.devices()))
    return count


def _wait_for(coordinator: str, timeout: int, process_id: int | None) -> None:
    """Return once the coordinator's port takes a connection; ConfigError after `timeout`."""
    host, _, port = coordinator.rpartition(":")
    host = host.strip("[]")
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host, int(port)), timeout=max(0.1, min(2.0, left))):
                return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            if time.monotonic() + 0.5 >= deadline:
                raise ConfigError(
                    f"process {process_id} could not reach the coordinator at {coordinator} "
                    f"within {timeout} s ({reason}). Start process 0 there, check the "
                    "address and that the port is open, or pass --coordinator-timeout."
                ) from None
            time.sleep(0.5)


def _integer(name: str, value, env: str) -> int | None:
    if value is None:
        value = os.environ.get(env) or None
        if value is None:
            return None
        if not value.strip().lstrip("-").isdigit():
            raise ConfigError(f"{env} must be an integer. Received {value!r}.")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer. Received {value!r}.")
    return value


def _joined() -> bool:
    import jax

    return jax.distributed.is_initialized()


def process_count() -> int:
    """The processes of this run (1 unless `initialize` joined several)."""
    if not _joined():
        return 1
    import jax

    return jax.process_count()


def process_index() -> int:
    """This process's id (0 unless `initialize` joined several)."""
    if not _joined():
        return 0
    import jax

    return jax.process_index()


def is_primary() -> bool:
    """Whether this process writes: process 0 alone checks, locks and cleans the output,
    keeps checkpoints and writes the bundle."""
    return process_index() == 0
