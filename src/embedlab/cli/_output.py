"""One printer for the command line: results on stdout, errors and progress on stderr.

rich is imported on the first line printed, so a command that prints nothing (or
`--help`) never pays for it.
"""

from __future__ import annotations

from functools import cache

_state = {"quiet": False, "debug": False}


@cache
def console():
    """The console of results (stdout)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def err_console():
    """The console of progress and errors (stderr)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def set_mode(*, quiet: bool | None = None, debug: bool | None = None) -> None:
    if quiet is not None:
        _state["quiet"] = quiet
    if debug is not None:
        _state["debug"] = debug


def is_quiet() -> bool:
    return _state["quiet"]


def is_debug() -> bool:
    return _state["debug"]


def info(message: str) -> None:
    """A line of progress or context; silenced by --quiet."""
    if not _state["quiet"]:
        err_console().print(message)


def success(message: str) -> None:
    """The closing line of a command that worked."""
    if not _state["quiet"]:
        err_console().print(f"[green]✔[/green] {message}")


def failure(message: str) -> None:
    """The one line a failed command prints."""
    err_console().print(f"[red]error:[/red] {message}", markup=True, highlight=False)


def line(text: str) -> None:
    """One plain line of results on stdout (no markup, nothing wrapped), even under --quiet."""
    import typer

    typer.echo(text)


def table(title: str | None, columns: list[str], rows: list[list[object]]) -> None:
    """A result table on stdout (printed even under --quiet: it is the output)."""
    from rich.table import Table

    t = Table(title=title, show_edge=False, header_style="bold")
    for col in columns:
        t.add_column(str(col))
    for row in rows:
        t.add_row(*[_fmt(v) for v in row])
    console().print(t)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
