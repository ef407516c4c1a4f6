"""`embedlab inspect` and `embedlab report`: what a bundle's embedding learned."""

from __future__ import annotations

from pathlib import Path

import typer

from embedlab.cli import _output as out
from embedlab.cli._options import BAD_LINE_OPT


def _split_words(words: str | None) -> list[str] | None:
    if not words:
        return None
    return [w.strip() for w in words.split(",") if w.strip()]


def inspect(
    source: str = typer.Argument(
        ..., help="A bundle written by `embedlab train`, or a vectors file or name."
    ),
    words: str = typer.Option(
        None, "--words", "-w",
        help="Comma-separated entries to look up (default: telling ones among the frequent).",
    ),
    k: int = typer.Option(10, "--top-k", "-k", min=1, help="Neighbors per entry."),
    table: str = typer.Option(
        None, "--table", "-t", help="Which table of the bundle (a column, items, users)."
    ),
    items: Path = typer.Option(
        None, "--items", help="A file with one row per item, for titles (recommenders)."
    ),
    key: str = typer.Option(
        None, "--key", help="The ID column of --items (default: its first column)."
    ),
    title: str = typer.Option(None, "--title", help="The column of --items holding titles."),
    method: str = typer.Option(
        "auto", "--method", help="Neighbor search: auto, exact or approximate (HNSW)."
    ),
    on_bad_line: str = BAD_LINE_OPT,
) -> None:
    """Nearest neighbors (cosine) of entries of an embedding table.

    For a text bundle started from pre-trained vectors, the same words' neighbors among
    the bundle's rows as they were before training are shown beside them.

    Examples:

    \b
      embedlab inspect runs/reviews --words great,stale -k 5
      embedlab inspect runs/movies --table items --items items.csv --key movie_id
          --title movie_title
    """
    from embedlab.inspect.lookup import neighbor_rows, probe_keys
    from embedlab.inspect.tables import load_table

    chosen = load_table(source, table, on_bad_line=on_bad_line, items=items, key=key,
                        title=title)
    keys = _split_words(words) or probe_keys(chosen)
    header, rows = neighbor_rows(chosen, keys, k=k, method=method)
    where = f"{chosen.name} ({len(chosen.vectors):,} rows x {chosen.vectors.vector_size})"
    out.table(f"nearest neighbors in {where}", header, rows)


def report(
    bundle: Path = typer.Argument(..., help="A bundle written by `embedlab train`."),
    output: Path = typer.Option(
        None, "--output", "-o", help="HTML file to write (default: BUNDLE/report.html)."
    ),
    words: str = typer.Option(
        None, "--words", "-w", help="Comma-separated entries whose neighbors to show."
    ),
    k: int = typer.Option(8, "--top-k", "-k", min=1, help="Neighbors per entry."),
) -> None:
    """Write the bundle's report: one self-contained HTML page (settings, data, coverage,
    metrics, training curves, evaluation, the embedding's map and neighbors).

    Example:

    \b
      embedlab report runs/reviews -o reviews.html
    """
    from embedlab.inspect.report import write_report

    path = write_report(bundle, output=output, words=_split_words(words), k=k)
    out.success(f"report written to {path}")
