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


def keras_verbosity() -> int:
    """Keras's progress output for this terminal: none with --quiet, a bar on a terminal,
    a line per epoch otherwise."""
    if out.is_quiet():
        return 0
    return 1 if sys.stderr.isatty() else 2
