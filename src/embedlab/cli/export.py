"""`embedlab export` and `embedlab map`: an embedding table out to vector files, a
TensorBoard Embedding Projector folder, or a 2-D map image.

Thin wrappers over `embedlab.inspect.export`, `.maps` and `.tables`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from embedlab.cli import _output as out
from embedlab.cli._options import BAD_LINE_OPT
from embedlab.errors import ConfigError
from embedlab.inspect.formats import (
    EXPORT_FORMATS,
    IMAGE_FORMATS,
    METHOD_NAMES,
    METHODS,
    check_export_format,
)
from embedlab.vectors.formats import FORMATS

SOURCE_ARG = typer.Argument(
    ...,
    help="A bundle folder (its embedding tables), a vectors file (.txt, .vec, .bin, npy) or "
    "a known name: glove-6b-50d.",
    show_default=False,
)
TABLE_OPT = typer.Option(
    None,
    "--table",
    "-t",
    help="Which table of a bundle: 'words' (text), a categorical column (tabular), 'items' or "
    "'users' (recommender). Default: the first.",
)
INPUT_FORMAT_OPT = typer.Option(
    None,
    "--input-format",
    help=f"Read a vectors file as this format instead of detecting it: {', '.join(FORMATS)}.",
)
NO_CACHE_OPT = typer.Option(
    False, "--no-cache", help="Neither read nor write the binary cache of a vectors file."
)
ITEMS_OPT = typer.Option(
    None, "--items", help="A file with one row per entry (e.g. movies), for titles and colours."
)
KEY_OPT = typer.Option(None, "--key", help="The ID column of --items (default: its first).")
TITLE_OPT = typer.Option(None, "--title", help="The column of --items to label entries with.")
ATTRIBUTE_OPT = typer.Option(
    None, "--attribute", "-a",
    help="A column of --items to add as an attribute (repeatable), e.g. a genre.",
)


def export(
    source: str = SOURCE_ARG,
    to_format: str = typer.Option(
        ...,
        "--format",
        "-f",
        help=f"What to write: {', '.join(EXPORT_FORMATS)} (a folder of vectors.tsv, "
        "metadata.tsv and projector_config.pbtxt for the TensorBoard Embedding Projector).",
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="File to write (a folder for npy and projector); .gz/.bz2/.xz compresses text.",
    ),
    table: str | None = TABLE_OPT,
    top_k: int | None = typer.Option(
        None, "--top-k", "-k", help="Keep only the N most frequent entries (default: all)."
    ),
    input_format: str | None = INPUT_FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    on_bad_line: str = BAD_LINE_OPT,
    items: Path | None = ITEMS_OPT,
    key: str | None = KEY_OPT,
    title: str | None = TITLE_OPT,
    attribute: list[str] | None = ATTRIBUTE_OPT,
) -> None:
    """Write an embedding table as word vectors or a TensorBoard projector folder.

    Rows go most frequent first; a projector folder also holds counts and attributes.

    Examples:

    \b
      embedlab export runs/reviews --format word2vec -o words.vec --top-k 5000
      embedlab export runs/movies --table items --format projector -o projector/
    """
    check_export_format(to_format)
    check_top_k(top_k)
    from embedlab.inspect.export import export_vectors
    from embedlab.inspect.tables import load_table

    loaded = load_table(source, table, format=input_format, no_cache=no_cache,
                        on_bad_line=on_bad_line, items=items,
                        key=key, title=title, attributes=attribute)
    metadata = _projector_metadata(loaded) if to_format == "projector" else None
    written = export_vectors(
        loaded.vectors, output, format=to_format, top_k=top_k, metadata=metadata
    )
    _say_exported(
        loaded.name, len(loaded.vectors), loaded.vectors.vector_size, top_k, written, to_format
    )


def map_command(
    source: str = SOURCE_ARG,
    output: Path = typer.Option(..., "--output", "-o", help="Image to write: .png, .svg or .pdf."),
    table: str | None = TABLE_OPT,
    method: str = typer.Option(
        "pca",
        "--method",
        "-m",
        help="pca (fast, deterministic), tsne (needs embedlab[tsne]) or umap "
        "(needs embedlab[umap]).",
    ),
    points: int = typer.Option(2000, "--points", help="Map the N most frequent entries."),
    labels: int = typer.Option(
        30, "--labels", help="Write the labels of the N most frequent entries (0: none)."
    ),
    color: str | None = typer.Option(
        None,
        "--color",
        "-c",
        help="Colour points by this attribute of the table (default: its first attribute, "
        "if it has any).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of tsne and umap."),
    input_format: str | None = INPUT_FORMAT_OPT,
    no_cache: bool = NO_CACHE_OPT,
    on_bad_line: str = BAD_LINE_OPT,
    items: Path | None = ITEMS_OPT,
    key: str | None = KEY_OPT,
    title: str | None = TITLE_OPT,
    attribute: list[str] | None = ATTRIBUTE_OPT,
) -> None:
    """Draw a 2-D map of an embedding table's most frequent entries.

    Examples:

    \b
      embedlab map runs/reviews -o words.png
      embedlab map runs/movies --table items --items movies.csv --key movie_id
          --title title --attribute Drama --color Drama -o items.svg
    """
    if output.suffix.lower().lstrip(".") not in IMAGE_FORMATS:
        raise ConfigError(
            f"--output must end in .png, .svg or .pdf. Received: {str(output)!r}. "
            f"Pick one of those extensions."
        )
    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}. Received: {method!r}.")
    from embedlab.inspect.maps import embedding_map, save_map
    from embedlab.inspect.tables import load_table

    loaded = load_table(source, table, format=input_format, no_cache=no_cache,
                        on_bad_line=on_bad_line, items=items,
                        key=key, title=title, attributes=attribute)
    attributes = loaded.attributes or {}
    if color is not None and color not in attributes:
        have = ", ".join(repr(a) for a in attributes) or "none"
        raise ConfigError(
            f"--color names an attribute of the table {loaded.name!r}; it has: {have}. "
            f"Received: {color!r}. Pass one of those, or leave --color out."
        )
    if color is None and attributes:
        color = next(iter(attributes))
    m = embedding_map(
        loaded.vectors,
        method=method,
        max_points=points,
        label_top=labels,
        color=None if color is None else attributes[color],
        color_name=color,
        titles=loaded.titles,
        seed=seed,
    )
    shown = (
        f"the {len(m.points):,} most frequent of {m.total:,}"
        if len(m.points) < m.total
        else f"all {m.total:,}"
    )
    name = Path(source).name or str(source)
    where = name if loaded.name == "vectors" else f"{loaded.name} of {name}"
    written = save_map(m, output, title=f"{METHOD_NAMES[method]} map of {where} ({shown})")
    coloured = f", coloured by {color}" if color else ""
    out.success(
        f"Wrote a {METHOD_NAMES[method]} map of {shown} {loaded.name} "
        f"({len(m.labelled)} labelled{coloured}) to {written}."
    )


def check_top_k(top_k: int | None) -> None:
    """--top-k must be 1 or more when given."""
    if top_k is not None and top_k < 1:
        raise ConfigError(
            f"--top-k must be 1 or more (how many of the most frequent entries to keep). "
            f"Received: {top_k}. Leave it out to export every entry."
        )


def _projector_metadata(loaded) -> dict[str, list]:
    """Title and attributes of a table for metadata.tsv (label and count come with it)."""
    fields: dict[str, list] = {}
    if loaded.titles is not None:
        fields["title"] = list(loaded.titles)
    for name, values in (loaded.attributes or {}).items():
        key = name if name not in ("label", "count", "title") else f"{name} (attribute)"
        fields[key] = list(values)
    return fields


def _say_exported(
    name: str, rows: int, dim: int, top_k: int | None, written: Path, fmt: str
) -> None:
    if top_k is not None and top_k > rows:
        out.info(
            f"--top-k {top_k:,} is more than the {rows:,} entries of {name}; exporting them all."
        )
    kept = rows if top_k is None else min(top_k, rows)
    share = f"the {kept:,} most frequent of {rows:,}" if kept < rows else f"all {rows:,}"
    out.success(f"Wrote {share} {name} x {dim} to {written} ({fmt}).")
