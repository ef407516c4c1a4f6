"""Options and helpers shared by commands of several groups."""

from __future__ import annotations

import sys

import typer

from embedlab.cli import _output as out

BAD_LINE_OPT = typer.Option(
    "error", "--on-bad-line", help="A malformed line: 'error' stops, 'skip' skips and counts it."
)
REPORT_OPT = typer.Option(
    True, "--report/--no-report", help="Also write the bundle's HTML report (report.html)."
)

RESUME_OPT = typer.Option(
    False, "--resume",
    help="Continue an interrupted run of this same command from the checkpoint it kept "
    "beside the output (.NAME.checkpoint, written after every epoch).",
)


def keras_verbosity() -> int:
    """Keras's progress output for this terminal: none with --quiet, a bar on a terminal,
    a line per epoch otherwise."""
    if out.is_quiet():
        return 0
    return 1 if sys.stderr.isatty() else 2


TABLES_OPT = typer.Option(
    "auto", "--table-updates",
    help="How embedding tables train: 'sparse' (only the rows a batch uses, JAX), 'dense' "
    "(Keras's optimizer on every row) or 'auto' (sparse from 50,000 rows).",
)


def table_updates(value: str) -> bool | None:
    """--table-updates as the models' `sparse` option."""
    from embedlab.errors import ConfigError

    choices = {"auto": None, "sparse": True, "dense": False}
    if value not in choices:
        raise ConfigError(
            f"--table-updates takes auto, sparse or dense. Received {value!r}. Pick one."
        )
    return choices[value]


MESH_OPT = typer.Option(
    None, "--mesh",
    help="Train on many devices: AXIS=N[,AXIS=N] with axes data (batches) and model (table "
    "rows), e.g. data=2,model=4 (sizes multiply to the device count), or auto. Left out: "
    "one device.",
)


def mesh_option(value: str | None) -> dict:
    """--mesh as the models' `mesh` keyword (nothing when it is left out)."""
    return {} if value is None else {"mesh": value}


COORDINATOR_OPT = typer.Option(
    None, "--coordinator",
    help="Train over many processes (hosts): HOST:PORT of process 0, the same on every "
    "process (or KERAS_DISTRIBUTION_JOB_ADDRESSES).",
)
NUM_PROCESSES_OPT = typer.Option(
    None, "--num-processes",
    help="The processes of a run over many (or KERAS_DISTRIBUTION_NUM_PROCESSES).",
)
PROCESS_ID_OPT = typer.Option(
    None, "--process-id",
    help="This process's id, 0 to --num-processes - 1; 0 writes the bundle "
    "(or KERAS_DISTRIBUTION_PROCESS_ID).",
)
COORDINATOR_TIMEOUT_OPT = typer.Option(
    45, "--coordinator-timeout",
    help="Seconds to reach the coordinator, and of silence after which a process counts as "
    "dead and the others stop.",
)


def distribution_options(mesh: str | None, coordinator: str | None, num_processes: int | None,
                         process_id: int | None, timeout: int) -> dict:
    """Join the run's other processes, when there are any (before JAX sees a device), and
    return the models' `mesh` keyword: --mesh, or auto over several processes."""
    from embedlab.training.processes import initialize

    processes = initialize(coordinator, num_processes, process_id, timeout=timeout)
    if processes > 1 and mesh is None:
        mesh = "auto"
    return mesh_option(mesh)


def print_written(report) -> None:
    """The closing line of a train command: where the bundle went (process 0), or that
    another process writes it."""
    if report.output is None:
        from embedlab.training.processes import process_count, process_index

        out.success(f"process {process_index()} of {process_count()} trained in "
                    f"{report.seconds:.1f} s; process 0 writes the bundle")
        return
    out.success(f"bundle written to {report.output} in {report.seconds:.1f} s")


def print_layout(model) -> None:
    """The line saying which layout a run trained on, when it ran on a mesh."""
    layout = getattr(model, "layout", None)
    if layout is not None:
        record = layout.record(model.model)
        mesh = ",".join(f"{axis}={size}" for axis, size in record["mesh"].items())
        processes = f", {record['processes']} processes" if record["processes"] > 1 else ""
        out.info(f"distribution: mesh {mesh}{processes}, sharded: "
                 f"{', '.join(record['sharded']) or 'none'}")
