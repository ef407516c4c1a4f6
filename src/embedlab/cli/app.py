"""The typer application: global options, error handling, and the command groups.

Each command module defines its commands without knowing the application; this module
puts them together. Command modules import the library inside each command, so
`embedlab --help` loads typer and nothing heavy.
"""

from __future__ import annotations

import logging

import typer
from typer.core import TyperGroup

from embedlab.cli import _output as out
from embedlab.cli import commands, explore, export, inspect, tabular, vectors
from embedlab.errors import EmbedlabError
from embedlab.version import __version__


class _Group(TyperGroup):
    """Turns an EmbedlabError anywhere below into one printed line and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EmbedlabError as exc:
            if out.is_debug():
                raise
            out.failure(str(exc).replace("\n", " "))
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="embedlab",
    help="Embeddings in Keras 3: train, load pre-trained vectors, predict and inspect.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"embedlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print results only, no progress."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print debug logs."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors."),
) -> None:
    out.set_mode(quiet=quiet, debug=debug)
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")


commands.train_app.command("tabular")(tabular.train_tabular)
commands.train_app.command("recommender")(tabular.train_recommender)
app.add_typer(commands.train_app, name="train")
app.command("predict")(commands.predict)
app.command("demo")(commands.demo)
app.add_typer(vectors.vectors_app, name="vectors")
app.command("recommend")(tabular.recommend)
app.command("similar")(tabular.similar)
app.command("export")(export.export)
app.command("map")(export.map_command)
app.command("inspect")(inspect.inspect)
app.command("report")(inspect.report)
app.command("explore")(explore.explore)


def main() -> None:
    """Console-script entry point."""
    app()
