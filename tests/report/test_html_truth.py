"""The HTML report in a real headless Chromium: long remote words do not push columns off
screen, a malformed ``#q=`` still runs the page, and waivers (expired or standing) are on
the page where the filter finds them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from fleetaudit.model import HostStatus, RunResult
from fleetaudit.report import OutputFormat
from tests.factories import finding, run_result, snapshot, sock
from tests.report.test_formats_tell_the_truth import waiver_run
from tests.report.test_html import chromium

LONG = "x" * 400
PROBE = """<script>
(function () {
  const root = document.documentElement;
  const message = document.getElementById("findings").tBodies[0].rows[0].cells[5];
  document.body.dataset.probe = JSON.stringify({
    viewport: root.clientWidth,
    page: root.scrollWidth,
    message_right: message.getBoundingClientRect().right,
  });
})();
</script></body>"""


def dom(path: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran, in a 1280-pixel-wide window."""
    done = subprocess.run(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
         "--dump-dom", path.as_uri() + fragment],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


def write(tmp_path: Path, run: RunResult, probe: bool = False) -> Path:
    page = OutputFormat.HTML.formatter().render(run)
    if probe:
        page = page.replace("</body>", PROBE, 1)
    path = tmp_path / "report.html"
    path.write_text(page)
    return path


def shown(page: str) -> int:
    found = re.search(r'id="shown">(\d+)<', page)
    assert found, "the page lost its counter"
    return int(found.group(1))


def test_a_400_character_name_wraps_inside_the_viewport(tmp_path: Path) -> None:
    long = sock("0.0.0.0", 23, LONG)
    hosts = (
        snapshot("web1", long),
        snapshot("down1", status=HostStatus.TIMEOUT, error=LONG, tool=None, privilege=None),
    )
    path = write(tmp_path, run_result(hosts, (finding("web1", long),)), probe=True)
    probe = re.search(r'data-probe="([^"]*)"', dom(path))
    assert probe, "the probe did not run"
    sizes = json.loads(probe.group(1).replace("&quot;", '"'))
    assert sizes["message_right"] <= sizes["viewport"], sizes
    assert sizes["page"] <= sizes["viewport"], sizes  # nothing scrolls sideways


def test_a_malformed_fragment_filters_by_its_raw_text(tmp_path: Path) -> None:
    path = write(tmp_path, run_result((snapshot("db1"),), (finding("db1", sock()),)))
    assert shown(dom(path, "#q=%")) == 0  # no row holds "%": the filter ran
    assert shown(dom(path, "#q=%25")) == 0
    assert shown(dom(path, "#q=db%31")) == 1  # well-formed escapes are still decoded


def test_expired_and_standing_waivers_are_on_the_page(tmp_path: Path) -> None:
    path = write(tmp_path, waiver_run(tmp_path))
    filtered = dom(path, "#q=expired")
    assert shown(filtered) == 1
    rows = [row for row in filtered.split("<tr")[1:] if "data-severity" in row]
    visible = [row for row in rows if "hidden" not in row.split(">")[0]]
    assert len(visible) == 1 and "legacy1" in visible[0]
    assert "waiver expired 2026-01-31: telnet kept for the old switch console" in visible[0]
    standing = next(row for row in rows if "legacy2" in row)
    text = re.sub(r"<[^>]+>", "", standing)
    assert "2999-12-31" in text and "SEC-22" in text and "vendor appliance" in text
