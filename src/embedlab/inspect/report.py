"""The HTML report of a bundle: one self-contained page (styles inline, images as data URIs,
nothing fetched) with the run's settings, data, coverage, metrics, training curves,
evaluation plots, the 2-D map of the embedding and its nearest neighbors.

Everything is drawn from the bundle, so a report can be made long after training:

    write_report("bundle")                   # bundle/report.html
    embedlab report bundle -o report.html
"""

from __future__ import annotations

import base64
import datetime
import html
import logging
import os
import urllib.parse
from pathlib import Path
from typing import Any

from embedlab import artifacts, atomic
from embedlab.inspect import plots
from embedlab.inspect.explore import EXPLORE_PAGE
from embedlab.inspect.lookup import neighbor_rows, probe_keys
from embedlab.inspect.tables import EmbeddingTable, bundle_tables
from embedlab.version import __version__

log = logging.getLogger(__name__)

SECTIONS = ("settings", "data", "coverage", "metrics", "training", "evaluation", "map",
            "neighbors")


def write_report(
    bundle: str | os.PathLike,
    *,
    output: str | os.PathLike | None = None,
    model: Any = None,
    words: list[str] | None = None,
    k: int = 8,
    title: str | None = None,
) -> Path:
    """Draw the report of a bundle and write it atomically (default: `bundle/report.html`).

    Args:
        bundle: The bundle directory.
        output: Optional path of the HTML file.
        model: Optional loaded model of the bundle (saves loading it again).
        words: Optional list of strings. Entries whose neighbors to show (default: chosen
            from the most frequent, the most telling of the label first).
        k: Integer. Neighbors per entry.
        title: Optional string. The bundle's name on the page (default: `bundle`).
    """
    bundle = Path(bundle)
    manifest = artifacts.read_manifest(bundle)
    target = Path(output) if output is not None else bundle / artifacts.REPORT
    page = render(manifest, bundle_tables(bundle, model=model), title=title or str(bundle),
                  words=words, k=k, explorer=explorer_link(bundle, target))
    atomic.write_text(target, page)
    return target


def explorer_link(bundle: str | os.PathLike, report: str | os.PathLike) -> str | None:
    """The relative address, from the report file, of the explorer page of the bundle's
    main table (`BUNDLE/explore.html`, written by `embedlab explore`), or None when there
    is none."""
    page = Path(bundle) / EXPLORE_PAGE
    if not page.is_file():
        return None
    relative = os.path.relpath(page.resolve(), Path(report).resolve().parent)
    return urllib.parse.quote(Path(relative).as_posix())


def report_after_training(bundle: str | os.PathLike, model: Any, *,
                          title: str | None = None) -> Path | None:
    """Write the report of a bundle just trained (or being committed: `title` names its
    final place); the bundle is saved either way, so a failure to draw is logged (with how
    to retry) rather than raised."""
    try:
        return write_report(bundle, model=model, title=title)
    except Exception as exc:  # the bundle is saved; a failed drawing must not lose it
        log.warning("the bundle is saved, but its report could not be drawn (%s: %s). Run "
                    "`embedlab report %s` to try again.", type(exc).__name__, exc,
                    title or bundle)
        return None


def render(
    manifest: dict,
    tables: dict[str, EmbeddingTable],
    *,
    title: str,
    words: list[str] | None = None,
    k: int = 8,
    explorer: str | None = None,
) -> str:
    """The report page as a string (see `write_report`); `explorer` is the address of the
    explorer page of the main table, linked from the map section when given."""
    kind = manifest.get("kind", "?")
    parts = [
        _section("settings", "Settings", _settings(manifest)),
        _section("data", "Data", _data(manifest, tables)),
        _section("coverage", "Pre-trained vectors and coverage", _coverage(manifest)),
        _section("metrics", "Metrics", _metrics(manifest)),
        _section("training", "Training curves", _training(manifest)),
        _section("evaluation", "Evaluation", _evaluation(manifest)),
        _section("map", "Map of the embedding", _explorer_note(explorer) + _maps(tables)),
        _section("neighbors", "Nearest neighbors", _neighbors(tables, words, k)),
    ]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    heading = f"{kind} model: {manifest.get('task', '')}"
    return _PAGE.format(
        title=html.escape(f"embedlab report: {title}"),
        heading=html.escape(heading),
        subtitle=html.escape(f"bundle {title} · embedlab {manifest.get('embedlab_version', '?')}"
                             f" · report drawn {stamp} by embedlab {__version__}"),
        toc="".join(f'<a href="#{s}">{s}</a>' for s in SECTIONS),
        body="\n".join(parts),
        css=_CSS,
    )


# ---------------------------------------------------------------------------- sections
def _settings(manifest: dict) -> str:
    rows: list[tuple[str, Any]] = [("kind", manifest.get("kind")), ("task", manifest.get("task"))]
    target = manifest.get("target") or {}
    if target.get("reason"):
        rows.append(("why this task", target["reason"]))
    recipe = manifest.get("recipe") or {}
    for key in ("arch", "dim", "length"):
        if key in recipe:
            rows.append((key, recipe[key]))
    for key, value in (recipe.get("hyperparameters") or {}).items():
        rows.append((key, value))
    for key, value in (manifest.get("model") or {}).items():
        rows.append((key, value))
    for key, value in (manifest.get("options") or {}).items():  # tabular
        if value not in (None, {}, []) and (manifest.get("text") or not key.startswith("text")):
            rows.append((key.replace("_", " "), value))
    for key, value in (manifest.get("settings") or {}).items():
        rows.append((key.replace("_", " "), value))
    vectors = manifest.get("vectors")
    if vectors:
        rows.append(("pre-trained vectors", f"{vectors.get('source')} ({vectors.get('format')}, "
                     f"dim {vectors.get('dim')}, {vectors.get('count', 0):,} words)"))
        rows.append(("embedding", vectors.get("mode")))
        rows.append(("rescaled by", f"{vectors.get('scale', 1.0):.3g}"))
    return _kv_table(rows)


def _data(manifest: dict, tables: dict[str, EmbeddingTable]) -> str:
    rows: list[tuple[str, Any]] = []
    for key, value in (manifest.get("rows") or {}).items():
        label = {"train": "training rows", "dropped": "training rows dropped (missing value)",
                 "test": "test rows", "test_dropped": "test rows dropped (missing value)"}
        rows.append((label.get(key, key.replace("_", " ")), value))
    columns = manifest.get("columns") or {}
    for key in ("text", "label", "user", "item", "rating"):
        if columns.get(key):
            rows.append((f"{key} column", columns[key]))
    shown = {"train_rows"} if manifest.get("rows") else set()
    for key, value in (manifest.get("data") or {}).items():
        if key in shown or key == "length" or (key == "columns" and isinstance(value, list)):
            continue
        if key == "truncated_share":
            value = f"{value:.1%} of training texts longer than the length (cut)"
        rows.append((key.replace("_", " "), value))
    page = _kv_table(rows)
    described = (manifest.get("data") or {}).get("columns")
    if isinstance(described, list) and described:
        fields = list(described[0].keys())
        page += _table(fields, [[d.get(f) for f in fields] for d in described])
    sizes = [[name, f"{len(t.vectors):,}", t.vectors.vector_size,
              f"{int(t.vectors.counts.sum()):,}" if t.vectors.counts is not None else "",
              ", ".join(t.attributes) or "-"] for name, t in tables.items()]
    page += "<h3>Embedding tables</h3>" + _table(
        ["table", "rows", "dimension", "training occurrences", "attributes"], sizes)
    return page


def _coverage(manifest: dict) -> str:
    coverage = manifest.get("coverage")
    if not coverage:
        return ("<p>The embedding started from random values: no pre-trained vectors were "
                "used, so there is no coverage to report.</p>")
    rows = [
        ("words found", f"{coverage['words_found']:,} of {coverage['words_total']:,} "
                        f"({coverage['words_share']:.1%})"),
    ]
    if coverage.get("tokens_share") is not None:
        rows.append(("training tokens covered", f"{coverage['tokens_found']:,} of "
                     f"{coverage['tokens_total']:,} ({coverage['tokens_share']:.1%})"))
    rows.append(("found through another case", f"{coverage.get('case_fallback', 0):,}"))
    rows.append(("missing words filled by", coverage.get("unknown")))
    missing = ", ".join(f"{w} ({c:,})" for w, c in (coverage.get("missing_top") or [])[:25])
    if missing:
        rows.append(("most frequent missing words", missing))
    return _kv_table(rows)


def _metrics(manifest: dict) -> str:
    metrics = manifest.get("metrics") or {}
    blocks = []
    for split in ("validation", "test", "baseline"):
        values = {k: v for k, v in (metrics.get(split) or {}).items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if values:
            blocks.append((split, values))
    if not blocks:
        return "<p>No metrics were recorded for this bundle.</p>"
    names = sorted({k for _, values in blocks for k in values})
    rows = [[split] + [_fmt(values.get(n, "")) for n in names] for split, values in blocks]
    note = ""
    if "baseline" in metrics and metrics["baseline"]:
        note = "<p class=note>baseline: the most-popular items, ranked the same way.</p>"
    history = manifest.get("history") or {}
    if history.get("best_epoch"):
        note += (f"<p class=note>validation figures are those of epoch {history['best_epoch']}, "
                 f"the best by {history.get('monitor', 'val_loss')}, whose weights were kept.</p>")
    return _table(["split", *names], rows) + note


def _training(manifest: dict) -> str:
    history = manifest.get("history") or {}
    if not history.get("epochs"):
        return "<p>No training history was recorded.</p>"
    phases = history.get("phases") or []
    lines = "".join(
        f"<li>{html.escape(str(p.get('name')))} from epoch {p.get('start_epoch', 0) + 1}: "
        f"learning rate {p.get('learning_rate'):.3g}, embedding "
        f"{'trainable' if p.get('trainable_embedding', True) else 'frozen'}</li>"
        for p in phases)
    stopped = "stopped early" if history.get("stopped_early") else "ran every epoch"
    return (_image(plots.training_curves(history), "training curves")
            + f"<ul>{lines}<li>{len(history['epochs'])} epochs, {stopped}</li></ul>")


def _evaluation(manifest: dict) -> str:
    evaluation = manifest.get("evaluation")
    metrics = manifest.get("metrics") or {}
    if manifest.get("task") == "implicit":
        test, base = metrics.get("test") or {}, metrics.get("baseline") or {}
        if not test:
            return ("<p>No ranking evaluation was run (train with --holdout last or --test to "
                    "measure HitRate and NDCG).</p>")
        names = [k for k in test if "@" in k]
        rows = [["model", *[_fmt(test[n]) for n in names]],
                ["most popular", *[_fmt(base.get(n, "")) for n in names]]]
        return "<p>Ranking of held-out items against the whole catalogue.</p>" + _table(
            ["scorer", *names], rows)
    if not evaluation:
        return "<p>No evaluation figures were recorded (no validation split or test set).</p>"
    held = "" if evaluation.get("split") == "test" else " (held out of training for early stopping)"
    note = f"<p class=note>{evaluation.get('rows', 0):,} {evaluation.get('split')} rows{held}.</p>"
    if "confusion" in evaluation:
        return _image(plots.confusion_figure(evaluation), "confusion matrix") + note
    unit = "rating" if manifest.get("kind") == "recommender" else "label"
    return _image(plots.error_figure(evaluation, unit=unit), "errors") + note


def _maps(tables: dict[str, EmbeddingTable], *, limit: int = 3) -> str:
    from embedlab.errors import EmbedlabError
    from embedlab.inspect.maps import embedding_map, plot_map

    parts = []
    for name, table in list(tables.items())[:limit]:
        if len(table.vectors) < 3:
            parts.append(f"<p>{html.escape(name)}: too few rows to map.</p>")
            continue
        color_name = next(iter(table.attributes), None)
        try:
            m = embedding_map(table.vectors, color=table.attributes.get(color_name),
                              color_name=color_name, titles=table.titles, max_points=1500,
                              label_top=40)
        except EmbedlabError as exc:
            parts.append(f"<p>{html.escape(name)}: {html.escape(str(exc))}</p>")
            continue
        shown = (f"the {len(m.points):,} most frequent of {len(table.vectors):,} rows"
                 if len(m.points) < len(table.vectors) else f"all {len(table.vectors):,} rows")
        fig = plot_map(m, title=f"{name}: {shown} (PCA)")
        parts.append(_image(fig, f"map of {name}"))
    if len(tables) > limit:
        parts.append(f"<p class=note>{len(tables) - limit} more tables: draw them with "
                     "<code>embedlab map BUNDLE --table NAME</code>.</p>")
    parts.append("<p class=note>Labelled: the most frequent entries that tell something "
                 "(stop words and special tokens are skipped). Colour: the first attribute of "
                 "the table (what its training examples said).</p>")
    return "".join(parts)


def _explorer_note(explorer: str | None) -> str:
    if explorer is None:
        return ("<p class=note>Walk the map in a browser (search, neighbors, colours): "
                "<code>embedlab explore BUNDLE</code>, then draw this report again.</p>")
    return (f'<p class=explorer><a href="{html.escape(explorer)}">Open the interactive '
            "explorer</a> of the main table: search, nearest neighbors, colours.</p>")


def _neighbors(tables: dict[str, EmbeddingTable], words: list[str] | None, k: int) -> str:
    parts = []
    for name, table in list(tables.items())[:3]:
        keys = [w for w in words if w in table.vectors] if words else probe_keys(table)
        if not keys:
            continue
        header, rows = neighbor_rows(table, keys, k=k, scores=True)
        parts.append(f"<h3>{html.escape(name)}</h3>" + _table(header, rows))
    if not parts:
        return "<p>No entries to show.</p>"
    return ("<p class=note>Cosine similarity among the table's own rows. "
            "Redraw with <code>embedlab inspect BUNDLE --words a,b</code>.</p>" + "".join(parts))


# ---------------------------------------------------------------------------- html bits
def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _image(fig, alt: str) -> str:
    data = base64.b64encode(plots.png_bytes(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _kv_table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                   for k, v in rows if v is not None and v != "")
    return f'<table class="kv">{body}</table>'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return "" if value is None else str(value)


_CSS = """
:root { --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #f6f7f9; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 0 10px; }
main, header > div { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 12px; color: var(--accent); }
h3 { font-size: 15px; margin: 16px 0 6px; }
.subtitle { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
nav a { margin-right: 14px; font-size: 13px; color: var(--accent); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  margin: 18px 0; padding: 16px 20px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13.5px; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line);
  vertical-align: top; }
thead th { border-bottom: 2px solid var(--line); }
table.kv th { color: var(--muted); font-weight: 500; white-space: nowrap; }
img { max-width: 100%; height: auto; display: block; margin: 6px 0; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
code { background: #eef1f5; padding: 1px 4px; border-radius: 3px; font-size: 12.5px; }
@media print {
  body { background: #fff; font-size: 12px; }
  nav { display: none; }
  section { border: none; padding: 0; margin: 0 0 14px; break-inside: avoid; }
  img { max-width: 16cm; }
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header><div>
<h1>{heading}</h1>
<p class="subtitle">{subtitle}</p>
<nav>{toc}</nav>
</div></header>
<main>
{body}
</main>
</body>
</html>
"""
