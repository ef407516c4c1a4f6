"""Options shared by commands of several groups."""

from __future__ import annotations

import typer

BAD_LINE_OPT = typer.Option(
    "error", "--on-bad-line", help="A malformed line: 'error' stops, 'skip' skips and counts it."
)
