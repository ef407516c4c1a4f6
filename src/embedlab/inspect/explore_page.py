"""The explorer page itself: one HTML file holding its script, its styles and its data.

The data travel as one JSON block (`<script type="application/json">`) in which every `<`,
`>` and `&` is written as a `\\u` escape, so no key (`</script>`, `<img onerror=...>`) can
end the block or become markup; the page reads it with `JSON.parse` and shows keys only
through `textContent` and canvas text. Numbers travel as base64 typed arrays
(little-endian), a third of the size of JSON numbers and decoded in milliseconds.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections import Counter
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.inspect.maps import OTHER, UNKNOWN, classify_colors

if TYPE_CHECKING:
    from embedlab.inspect.explore import ExplorerPage

PAGE_VERSION = 1
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf")  # matplotlib's tab10 without its grey, as the static maps
UNKNOWN_COLOR = "#c8c8c8"
OTHER_COLOR = "#555555"
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
            "\u2029": "\\u2029"}
SCRIPTS = ("explore_view.js", "explore.js")  # drawing parts, then the page that uses them
_SLOTS = re.compile(r"\{\{(title|css|script|data)\}\}")


def render_page(page: ExplorerPage) -> str:
    """The page as a string: the template with its styles, script and data filled in."""
    data = json.dumps(page_data(page), ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    parts = {
        "title": html.escape(f"{page.name} · {page.source} · embedlab explorer"),
        "css": _asset("explore.css"),
        "script": "\n".join(_asset(name) for name in SCRIPTS),
        "data": re.sub("[<>&\u2028\u2029]", lambda m: _ESCAPES[m.group()], data),
    }
    return _SLOTS.sub(lambda m: parts[m.group(1)], _asset("explore.html"))


def page_data(page: ExplorerPage) -> dict[str, Any]:
    """What the page's script reads (see `render_page`)."""
    n = len(page.keys)
    scores = np.where(np.isfinite(page.scores), np.round(page.scores * 32767), -32768)
    counts = None
    if page.counts is not None:
        wide = page.counts.max(initial=0) >= 2**32
        counts = typed(page.counts, "f8" if wide else "u4")
    return {
        "version": PAGE_VERSION,
        "table": page.name,
        "source": page.source,
        "kind": page.kind,
        "method": page.method_name,
        "axes": list(page.axes),
        "count": n,
        "total": page.total,
        "leftOut": page.left_out,
        "k": page.k,
        "keys": page.keys,
        "titles": page.titles,
        "counts": counts,
        "layouts": {
            "learned": typed(page.layout, "f4"),
            "initial": None if page.initial_layout is None else typed(page.initial_layout, "f4"),
        },
        "neighbors": typed(page.neighbors, "i4"),
        "scores": typed(scores, "i2"),
        "labels": typed(page.labels, "i4"),
        "columns": page.columns,
        "color": page.color,
        "moved": [[i, round(d, 6)] for i, d in page.moved],
    }


def typed(array: np.ndarray, dtype: str) -> dict[str, str]:
    """A numeric array as {"dtype", "b64"}: its little-endian bytes in base64."""
    raw = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return {"dtype": dtype, "b64": base64.b64encode(raw).decode("ascii")}


def color_column(name: str, values: np.ndarray) -> dict[str, Any] | None:
    """How the page colours by one attribute (one value per point), or None when no point
    has a value. Numbers on a continuous scale; categories (as `classify_colors` decides)
    in the static maps' palette, with their real values kept for the tooltip."""
    kind, shown, categories = classify_colors(values)
    if kind == "continuous":
        numbers = np.asarray(shown, dtype=np.float64)
        known = numbers[np.isfinite(numbers)]
        if not len(known):
            return None
        low, centre, high = (float(v) for v in np.quantile(known, [0.0, 0.5, 1.0]))
        return {"name": name, "kind": "continuous", "values": typed(numbers, "f4"),
                "low": low, "centre": centre, "high": high,
                "scale": "diverging" if low < centre < high else "sequential"}
    real = [_value_name(v) for v in values]
    if all(v is None for v in real):
        return None
    named = [c for c in categories if c not in (OTHER, UNKNOWN)]
    rest = Counter(v for v in real if v is not None and v not in set(named))
    distinct = named + [v for v, _ in rest.most_common()]
    code = {v: i for i, v in enumerate(distinct)}
    unknown = len(distinct) if None in real else -1
    if unknown >= 0:
        distinct.append(UNKNOWN)
    codes = np.array([unknown if v is None else code[v] for v in real], dtype=np.int64)
    colours = {OTHER: OTHER_COLOR, UNKNOWN: UNKNOWN_COLOR}
    legend = [{"name": c, "color": colours.get(c) or PALETTE[named.index(c) % len(PALETTE)]}
              for c in categories]
    return {"name": name, "kind": "categorical",
            "codes": typed(codes, "u2" if len(distinct) < 2**16 else "u4"),
            "distinct": distinct, "named": len(named), "unknown": unknown, "legend": legend}


def _value_name(value: object) -> str | None:
    """A value as the legend names it ("true"/"false", str), None when missing."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _asset(name: str) -> str:
    text = (resources.files("embedlab.inspect") / "assets" / name).read_text(encoding="utf-8")
    if name.endswith((".js", ".css")) and re.search(r"</(script|style)", text, re.IGNORECASE):
        raise RuntimeError(f"the asset {name} would end its own <script> or <style> block")
    return text
