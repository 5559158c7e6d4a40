"""The HTML report, rendered by a real headless Chromium: the page's script runs, filters,
and hostile text stays text. A screenshot is saved as a test artifact."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetaudit.model.enums import HostStatus
from fleetaudit.report import OutputFormat
from tests.factories import finding, run_result, snapshot, sock

HOSTILE = '<img src=x onerror="document.title=1">\x1b[2J'
ARTIFACTS = Path(
    os.environ.get("FLEETAUDIT_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI installs chromium for the HTML report tests")
    pytest.skip("needs a headless Chromium (apt-get install chromium)")


def page(tmp_path: Path) -> Path:
    db = sock("0.0.0.0", 3306, "mysqld")
    evil = sock("0.0.0.0", 23, HOSTILE)
    hosts = (
        snapshot("db1", db),
        snapshot("web1", evil),
        snapshot(
            "down1", status=HostStatus.UNREACHABLE, error="refused", tool=None, privilege=None
        ),
    )
    run = run_result(hosts, (finding("db1", db), finding("web1", evil)))
    path = tmp_path / "report.html"
    path.write_text(OutputFormat.HTML.formatter().render(run))
    return path


def dom(browser: str, url: str) -> str:
    done = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


def test_the_file_is_self_contained_and_escaped(tmp_path: Path) -> None:
    text = page(tmp_path).read_text()
    assert "<img" not in text and "\x1b" not in text
    assert (
        "http://" not in text and "https://" not in text and "src=" not in text.replace("src=x", "")
    )


def test_chromium_runs_the_page_filters_and_keeps_hostile_text_inert(tmp_path: Path) -> None:
    browser = chromium()
    path = page(tmp_path)
    everything = dom(browser, path.as_uri())
    assert 'id="shown">2<' in everything
    assert "<img" not in everything, "hostile process name became markup"
    filtered = dom(browser, path.as_uri() + "#q=db1")
    assert 'id="shown">1<' in filtered
    rows = [line for line in filtered.split("<tr") if "data-severity" in line]
    assert sum("hidden" not in row.split(">")[0] for row in rows) == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "html-report.png"
    subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400",
         f"--screenshot={shot}", path.as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000
