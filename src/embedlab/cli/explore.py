"""`embedlab explore`: the explorer page of an embedding table, one HTML file to open in a
browser. A thin wrapper over `embedlab.inspect.explore.write_explorer`."""

from __future__ import annotations

from pathlib import Path

import typer

from embedlab.cli import _output as out
from embedlab.cli._options import BAD_LINE_OPT
from embedlab.cli.export import INPUT_FORMAT_OPT, KEY_OPT, NO_CACHE_OPT, SOURCE_ARG, TABLE_OPT


def explore(
    source: str = SOURCE_ARG,
    output: Path = typer.Option(
        None, "--output", "-o",
        help="HTML file to write (default: BUNDLE/explore.html for a bundle's first table, "
        "explore.html here for vectors).",
    ),
    table: str | None = TABLE_OPT,
    items: Path | None = typer.Option(
        None, "--items",
        help="A file with one row per entry (e.g. movies): titles, and every other column "
        "to colour by.",
    ),
    key: str | None = KEY_OPT,
    title: str | None = typer.Option(
        None, "--title", help="The column of --items to label entries with."
    ),
    color: str | None = typer.Option(
        None, "--color", "-c",
        help="Colour by this attribute or column when the page opens (default: the first).",
    ),
    points: int = typer.Option(
        20_000, "--points", "-n",
        help="Show the N most frequent entries (file order for a vectors file), 3 to 100,000.",
    ),
    method: str = typer.Option(
        "pca", "--method", "-m",
        help="2-D layout: pca (fast, deterministic), tsne (embedlab[tsne]) or umap "
        "(embedlab[umap]).",
    ),
    k: int = typer.Option(10, "--top-k", "-k", help="Nearest neighbors listed per point."),
    seed: int = typer.Option(0, "--seed", help="Random seed of tsne and umap."),
    input_format: str | None = INPUT_FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    on_bad_line: str = BAD_LINE_OPT,
) -> None:
    """Write an interactive page to walk an embedding table in a browser: a WebGL map with
    search, hover, nearest neighbors on click, colours, and for a bundle trained from
    pre-trained vectors the map before training. One file; works offline.

    Examples:

    \b
      embedlab explore runs/reviews
      embedlab explore glove-6b-50d --points 100000 -o glove.html
      embedlab explore runs/movies --table items --items movies.csv --key movie_id
          --title title --color genre
    """
    from embedlab.inspect.explore import check_options, write_explorer

    check_options(points=points, method=method, k=k)
    page = write_explorer(
        source, output, table=table, items=items, key=key, title=title, color=color,
        points=points, method=method, k=k, seed=seed, format=input_format,
        no_cache=no_cache, on_bad_line=on_bad_line,
    )
    if page.requested > page.count:
        out.info(f"--points {page.requested:,} is more than the {page.count:,} entries of "
                 f"{page.name} with finite vectors; showing them all.")
    if page.left_out:
        out.info(f"{page.left_out:,} entries with NaN or infinite values were left out.")
    shown = (f"the {page.count:,} most frequent of {page.total:,}" if page.count < page.total
             else f"all {page.count:,}")
    coloured = f", coloured by {page.color}" if page.color else ""
    before = ", with the map before training" if page.initial_layout is not None else ""
    out.success(f"Wrote the explorer of {shown} {page.name} ({page.method_name}{coloured}"
                f"{before}) to {page.output}.")
