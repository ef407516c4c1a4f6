import re
import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from embedlab import artifacts
from embedlab.cli import app
from embedlab.inspect.report import SECTIONS, write_report
from tests.inspect.bundles import recommender_bundle, tabular_bundle, text_bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    return text_bundle(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return recommender_bundle(tmp_path_factory.mktemp("report-rec"))


@pytest.fixture(scope="module")
def tab(tmp_path_factory):
    return tabular_bundle(tmp_path_factory.mktemp("report-tab"))


def _sections(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', page)


def _self_contained(page: str) -> None:
    """No resource is fetched: every src is a data URI, no link or script loads anything."""
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    assert "http://" not in page and "https://" not in page


def test_training_writes_a_self_contained_report_with_every_section(text):
    report, _ = text
    assert report.report == report.output / artifacts.REPORT
    page = report.report.read_text(encoding="utf-8")
    assert _sections(page) == list(SECTIONS)
    _self_contained(page)
    # training curves, confusion matrix + ROC, the map
    assert page.count("data:image/png;base64,") >= 3
    assert "before training (pre-trained rows)" in page and "after training" in page
    assert "words found" in page and "tiny" in page  # coverage and the vectors' source
    assert "frozen from epoch 1" in page and "fine-tune from epoch 2" in page
    assert "80 test rows" in page  # the evaluation figures come from the test set


def test_report_is_drawn_later_from_the_bundle_alone(text, tmp_path):
    report, _ = text
    copy = tmp_path / "copied"
    shutil.copytree(report.output, copy)
    (copy / artifacts.REPORT).unlink()
    result = runner.invoke(app, ["report", str(copy), "--words", "great,stale", "-k", "3"])
    assert result.exit_code == 0, result.output
    page = (copy / artifacts.REPORT).read_text(encoding="utf-8")
    assert _sections(page) == list(SECTIONS)
    rows = re.findall(r"<tr><td>(great|stale)</td>", page)
    assert rows == ["great", "stale"]


def test_report_refuses_a_directory_that_is_not_a_bundle(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not an embedlab bundle" in result.output


def test_recommender_report_shows_rating_errors_and_both_tables(rec):
    report, model = rec
    page = report.report.read_text(encoding="utf-8")
    assert _sections(page) == list(SECTIONS)
    evaluation = model.evaluation
    assert evaluation["split"] == "test" and evaluation["task"] == "regression"
    # predictions grouped per true rating (1..5), ordered, within the rating range
    groups = evaluation["by_true_value"]
    assert [g["true"] for g in groups] == sorted(g["true"] for g in groups)
    assert sum(g["rows"] for g in groups) == evaluation["rows"]
    assert sum(evaluation["errors"]["histogram"]) == evaluation["rows"]
    assert "<h3>items</h3>" in page and "<h3>users</h3>" in page


def test_tabular_report_has_a_confusion_matrix_and_one_map_per_column(tab):
    report, model = tab
    page = report.report.read_text(encoding="utf-8")
    assert _sections(page) == list(SECTIONS)
    matrix = np.array(model.evaluation["confusion"])
    assert matrix.sum() == 120 and model.evaluation["labels"] == ["no", "yes"]
    assert page.count('alt="map of ') == 2  # color, size


def test_report_to_another_path_is_atomic_and_leaves_no_temporary_file(text, tmp_path):
    report, clf = text
    target = tmp_path / "out" / "r.html"
    write_report(report.output, output=target, model=clf)
    assert target.exists()
    assert [p.name for p in target.parent.iterdir()] == ["r.html"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.mark.skipif(_chromium() is None,
                    reason="Chromium is not installed (CI installs Debian's chromium)")
def test_report_renders_in_headless_chromium(text, tmp_path):
    import matplotlib.image

    report, _ = text
    url = report.report.resolve().as_uri()
    flags = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, "--window-size=1280,3000", f"--screenshot={shot}", url],
                   check=True, capture_output=True, timeout=120)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1280)
    grey = pixels.mean(axis=2)
    # not blank: plenty of pixels away from the page's background, and many distinct tones
    background = np.median(grey)
    assert (np.abs(grey - background) > 0.1).mean() > 0.05
    assert len(np.unique((grey * 255).astype(int))) > 50
    dom = subprocess.run([*flags, "--dump-dom", url], check=True, capture_output=True,
                         timeout=120, text=True).stdout
    assert _sections(dom) == list(SECTIONS)
    assert dom.count("<img") >= 3
