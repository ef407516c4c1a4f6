"""The explorer page in a real browser: Debian's Chromium driven by Playwright.

One browser for the module; each test opens a page, waits for `window.explorer` and the
first frame, and fails on any console error or uncaught exception."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedlab.inspect.explore import write_explorer
from tests.inspect.bundles import text_bundle

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (CI installs Debian's chromium)")

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def bundle_page(tmp_path_factory):
    """A text bundle trained from pre-trained vectors, and its page of 20 points."""
    root = tmp_path_factory.mktemp("explore-browser")
    report, _ = text_bundle(root)
    return write_explorer(report.output, points=20, k=5)


@pytest.fixture(scope="module")
def vectors_page(tmp_path_factory):
    """A vectors file with markup and very long keys, coloured from an items file."""
    root = tmp_path_factory.mktemp("explore-vectors")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    words[7], words[8] = XSS, "z" * 10_000
    matrix = rng.normal(size=(400, 10))
    lines = [" ".join([w, *(f"{v:.5f}" for v in row)]) for w, row in zip(words, matrix,
                                                                       strict=True)]
    (root / "vecs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = ["word\tgroup\tscore"] + [f"{w}\t{'abc'[i % 3]}\t{i / 7:.3f}"
                                      for i, w in enumerate(words)]
    (root / "items.tsv").write_text("\n".join(items) + "\n", encoding="utf-8")
    return write_explorer(root / "vecs.txt", root / "vecs.html", points=300,
                          items=root / "items.tsv", key="word")


class Opened:
    """A page of the browser, with what it said on its console and the dialogs it raised."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.explorer && window.explorer.frames > 0",
                                    timeout=15_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def __call__(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        self.page.close()


@pytest.fixture
def opened(browser):
    pages: list[Opened] = []

    def open_(path: Path) -> Opened:
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def test_page_opens_draws_and_counts_the_points_asked_for(opened, bundle_page, vectors_page):
    for page, asked in ((bundle_page, 20), (vectors_page, 300)):
        tab = opened(page.output)
        assert tab("explorer.count") == asked == page.count
        assert tab("explorer.renderer") == "webgl"
        import matplotlib.image

        shot = matplotlib.image.imread(io.BytesIO(tab.page.locator("#points").screenshot()))
        grey = shot[..., :3].mean(axis=2)
        assert (np.abs(grey - np.median(grey)) > 0.1).sum() > 3 * asked  # points are drawn


def test_search_finds_keys_by_prefix_most_frequent_first(opened, bundle_page):
    tab = opened(bundle_page.output)
    key = bundle_page.keys[3]
    found = tab("(q) => explorer.search(q)", key[:2])
    assert key in found
    assert found == [k for k in bundle_page.keys if k.lower().startswith(key[:2].lower())]
    listed = tab.page.locator("#match-list li .name").all_text_contents()
    assert listed == found[: len(listed)] and listed
    assert tab("explorer.search('no such prefix at all')") == []
    assert "No entry" in tab.page.inner_text("#match-count")


def test_select_lists_the_same_neighbors_as_the_python_api(opened, bundle_page, vectors_page):
    for page in (bundle_page, vectors_page):
        tab = opened(page.output)
        keys = page.keys[:60]
        got = tab("(keys) => keys.map((k) => explorer.select(k))", keys)
        expected = [[w for w, _ in page.vectors.most_similar(k, topn=page.k,
                                                              restrict_vocab=page.count)]
                    for k in keys]
        assert got == expected
        listed = tab.page.locator("#neighbor-list li .name").all_text_contents()
        assert listed == [page.titles[page.keys.index(w)] if page.titles else w
                          for w in expected[-1]][: len(listed)]
        assert tab("explorer.select('not a key on this page')") is None


def test_color_changes_the_legend(opened, vectors_page):
    tab = opened(vectors_page.output)
    first = tab("explorer.legend")
    assert first.startswith("group") and "a" in first and "c" in first
    assert tab("explorer.color('score')") == "score"
    scale = tab("explorer.legend")
    assert scale.startswith("score") and scale != first
    assert tab.page.locator("#legend .ramp").count() == 1
    assert tab("explorer.color(null)") is None and tab("explorer.legend") == ""
    with pytest.raises(Exception, match="No column"):
        tab("explorer.color('genre')")
    tab.errors.clear()  # the uncaught error above was asked for


def test_toggle_moves_between_the_maps_before_and_after_training(opened, bundle_page):
    tab = opened(bundle_page.output)
    key = bundle_page.keys[0]
    assert tab("explorer.layout") == "learned"
    assert np.allclose(tab("(k) => explorer.position(k)", key), bundle_page.layout[0], atol=1e-6)
    assert tab("explorer.toggle()") == "initial"
    tab.page.wait_for_function("!explorer.moving")
    assert np.allclose(tab("(k) => explorer.position(k)", key), bundle_page.initial_layout[0],
                       atol=1e-6)
    assert tab.page.locator("#moved-list li").count() == len(bundle_page.moved)
    assert tab("explorer.toggle()") == "learned"
    tab.page.wait_for_function("!explorer.moving")
    assert np.allclose(tab("(k) => explorer.position(k)", key), bundle_page.layout[0], atol=1e-6)


def test_markup_in_keys_shows_as_text_and_runs_nothing(opened, vectors_page):
    tab = opened(vectors_page.output)
    assert tab("explorer.search('<img')") == [XSS]
    assert tab.page.locator("#match-list li .name").all_text_contents() == [XSS]
    tab(f"explorer.select({XSS!r})")
    assert tab.page.inner_text("#selected-name") == XSS
    long = tab("explorer.select('z'.repeat(10000))")
    assert len(long) == vectors_page.k
    assert len(tab.page.inner_text("#selected-name")) < 300  # shortened for the panel
    tab.page.wait_for_function("!explorer.moving")  # a select glides to its point first
    x, y = tab(f"explorer.screen({XSS!r})")
    tab.page.mouse.move(x, y)  # hover: the tooltip names the point, as text
    tip = tab.page.locator("#tooltip")
    assert tip.is_visible() and tip.locator(".title").inner_text() == XSS
    assert "group: " in tip.inner_text() and "score: " in tip.inner_text()
    other = vectors_page.keys[0]
    tab.page.mouse.click(*tab(f"explorer.screen({other!r})"))  # a click selects the point
    assert tab.page.inner_text("#selected-name") == other
    tab.page.mouse.wheel(0, -400)  # zoom: labels and points drawn again
    tab.page.wait_for_timeout(300)
    assert tab("document.querySelectorAll('img').length") == 0
    assert tab("document.querySelectorAll('#panel script, #stage script').length") == 0
