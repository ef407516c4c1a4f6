"""The explorer page of GloVe 6B 50d at 100,000 points: its size, how long it takes to
write, and how soon Chromium can use it.

- Write: `write_explorer("glove-6b-50d", points=100_000)` (PCA, k=10) into an empty cache
  folder (EMBEDLAB_CACHE_DIR in a temporary directory): load, layout, every point's
  neighbor list, the HTML. Then again with that cache (the layout and the lists are read
  back). Wall time of each call, in this process, imports excluded.
- Size: the HTML file's bytes.
- Time to interactive: Debian's Chromium through Playwright (headless, WebGL on
  SwiftShader, the software renderer: no GPU here), a fresh tab per run; from `page.goto`
  to `window.explorer` defined with its first frame drawn. The median of 5 tabs.
- Zoom frames: 60 wheel events, one per animation frame, on the map; the median time
  between frames (software WebGL, so a GPU does better).
- Check: `explorer.select` of 200 keys (`default_rng(0)` picks) against
  `most_similar(key, topn=10, restrict_vocab=100_000)`.

    python -m bench.explore [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._report import md_table, write_section

POINTS, K = 100_000, 10
TARGETS = {"size_mb": 12.0, "write_s": 30.0, "interactive_s": 3.0}
READY = "window.explorer && window.explorer.frames > 0"
ZOOM = """async () => {
  const canvas = document.getElementById("points"), box = canvas.getBoundingClientRect();
  const times = [];
  for (let i = 0; i < 60; i++) {
    canvas.dispatchEvent(new WheelEvent("wheel", { deltaY: i < 30 ? -40 : 40, bubbles: true,
      cancelable: true, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 }));
    times.push(await new Promise((done) => requestAnimationFrame(done)));
  }
  return times.slice(1).map((t, i) => t - times[i]);
}"""


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _browser_figures(path: Path, page, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    rng = np.random.default_rng(0)
    keys = [page.keys[i] for i in rng.choice(page.count, 200, replace=False)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        ready, errors = [], []
        for _ in range(runs):
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
            start = time.perf_counter()
            tab.goto(path.resolve().as_uri())
            tab.wait_for_function(READY, timeout=60_000, polling=10)
            ready.append(time.perf_counter() - start)
            renderer = tab.evaluate("explorer.renderer")
            frames = tab.evaluate(ZOOM)
            got = tab.evaluate("(keys) => keys.map((k) => explorer.select(k))", keys)
            tab.close()
        browser.close()
    expected = [[w for w, _ in page.vectors.most_similar(k, topn=K, restrict_vocab=page.count)]
                for k in keys]
    return {"interactive": statistics.median(ready), "interactive_max": max(ready),
            "frame_ms": statistics.median(frames), "renderer": renderer,
            "agree": sum(g == e for g, e in zip(got, expected, strict=True)), "checked": len(keys),
            "errors": errors}


def run(runs: int = 5) -> dict:
    from embedlab.inspect.explore import write_explorer

    load_before = os.getloadavg()
    saved = os.environ.get("EMBEDLAB_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EMBEDLAB_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            out = Path(tmp) / "glove.html"
            page, first = _timed(lambda: write_explorer("glove-6b-50d", out, points=POINTS,
                                                        k=K))
            again, cached = _timed(lambda: write_explorer("glove-6b-50d", out, points=POINTS,
                                                          k=K))
        finally:
            if saved is None:
                os.environ.pop("EMBEDLAB_CACHE_DIR")
            else:
                os.environ["EMBEDLAB_CACHE_DIR"] = saved
        assert again.cache == {"layout": "reused", "neighbors": "reused"}, again.cache
        size = out.stat().st_size
        figures = _browser_figures(out, page, runs)
    load_after = os.getloadavg()
    result = {"size_mb": size / 1e6, "write_s": first, "cached_s": cached,
              "answered": page.answered, **figures}
    rows = [
        ["file size", f"{size / 1e6:.2f} MB", f"<= {TARGETS['size_mb']:.0f} MB",
         _ok(size / 1e6 <= TARGETS["size_mb"])],
        ["write, empty cache", f"{first:.1f} s", f"<= {TARGETS['write_s']:.0f} s",
         _ok(first <= TARGETS["write_s"])],
        ["write, cached layout and lists", f"{cached:.1f} s", f"<= {TARGETS['write_s']:.0f} s",
         _ok(cached <= TARGETS["write_s"])],
        [f"time to interactive (median of {runs})",
         f"{figures['interactive']:.2f} s (max {figures['interactive_max']:.2f} s)",
         f"<= {TARGETS['interactive_s']:.0f} s",
         _ok(figures["interactive_max"] <= TARGETS["interactive_s"])],
        ["frame while zooming (median)", f"{figures['frame_ms']:.1f} ms", "", ""],
    ]
    body = (
        f"GloVe 6B 50d, the {POINTS:,} most frequent words, PCA, {K} neighbors each; "
        f"Chromium {figures['renderer']} (SwiftShader: software, no GPU).\n\n"
        + md_table(["", "measured", "budget", ""], rows)
        + f"\n\n- `explorer.select` agreed with `most_similar(key, topn={K}, "
        f"restrict_vocab={POINTS:,})` for {figures['agree']} of {figures['checked']} keys; "
        f"{page.answered} of the {POINTS:,} lists were left to `most_similar` itself "
        "(near-ties), the rest settled by the batched exact search."
        + f"\n- Console errors: {len(figures['errors'])}."
        + f"\n- Load average before / after: {load_before[0]:.2f} / {load_after[0]:.2f}."
    )
    write_section("Explorer page", body, command="python -m bench.explore")
    print(body)
    return result


def _ok(passed: bool) -> str:
    return "ok" if passed else "over budget"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    run(parser.parse_args().runs)
