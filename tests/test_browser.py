"""The HTML report and the batch index opened in headless Chromium, as a person would open them.

Skipped when ``chromium`` is not installed; ``.ci/run`` installs Debian's package so CI always runs these.
Screenshots go to ``artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from feedback.batch import Runner, discover
from feedback.cli import main
from feedback.pipeline import Options, Result
from tests.conftest import ROOT
from tests.test_render import SCRIPT, llm_finding, make_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
ARTIFACTS = ROOT / "artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
# Test-only instrumentation inserted first in <head>: every uncaught error or console.error lands in the DOM.
HOOK = """<script>
window.__errors = [];
function __record(m) {
  window.__errors.push(String(m));
  document.documentElement.setAttribute("data-js-errors", JSON.stringify(window.__errors));
}
window.addEventListener("error", (e) => __record(e.message));
window.addEventListener("unhandledrejection", (e) => __record(e.reason));
const __consoleError = console.error;
console.error = (...a) => { __record(a.join(" ")); __consoleError(...a); };
</script>"""


def instrument(page: Path, at_end: str = "") -> Path:
    """A copy of ``page`` beside it (so relative links still work) with the error hook and optional actions."""
    html = page.read_text(encoding="utf-8")
    assert html.count("<head>") == 1 and html.count("</body>") == 1
    html = html.replace("<head>", "<head>" + HOOK, 1).replace("</body>", at_end + "</body>", 1)
    copy = page.with_name(page.stem + ".test.html")
    copy.write_text(html, encoding="utf-8")
    return copy


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh profile per run
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def html_attribute(dom: str, name: str) -> str | None:
    """An attribute of the <html> element in a DOM dump (where the hook and the injected script write)."""
    m = re.search(r"<html\b[^>]*", dom)
    assert m is not None
    found = re.search(rf'\s{name}="([^"]*)"', m.group(0))
    return found.group(1) if found else None


def dump_dom(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message the page logged (our pages log nothing)."""
    run = chromium(page, tmp_path, "--dump-dom")
    return run.stdout, re.findall(r":CONSOLE[^\]]*\] (.*)", run.stderr)


def screenshot(page: Path, tmp_path: Path, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,1800")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000  # a real rendering, not a blank image
    return shot


def test_the_error_hook_catches_errors(tmp_path: Path) -> None:
    """The harness itself: a broken script is reported, so "no errors" below means something."""
    page = tmp_path / "broken.html"
    page.write_text("<html><head></head><body><script>notDefined()</script></body></html>", encoding="utf-8")
    dom, console = dump_dom(instrument(page), tmp_path)
    assert "notDefined is not defined" in (html_attribute(dom, "data-js-errors") or "")
    assert any("notDefined" in line for line in console)


def test_report_page_in_a_browser(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    text = make_report(q2=f"We pinned everything. {SCRIPT}").replace("Invented test project", f"Demo {SCRIPT}")
    report.write_text(text, encoding="utf-8")
    page = tmp_path / "report.html"
    assert main(["check", str(report), "--format", "html", "--output", str(page), "--exit-zero"]) == 0
    dom, console = dump_dom(instrument(page), tmp_path)
    assert console == []
    assert html_attribute(dom, "data-js-errors") is None
    assert html_attribute(dom, "data-xss") is None  # the injected script never ran
    # ... and is shown as text: in the heading and inside the answer
    assert dom.count("&lt;script&gt;document.documentElement.setAttribute") >= 3
    for section in ("r1-summary", "r1-checklist", "r1-questions", "r1-q1", "r1-q4"):
        assert f'id="{section}"' in dom
    assert '<section class="question unanswered" id="r1-q4">' in dom
    screenshot(page, tmp_path, "report.png")


def test_index_in_a_browser_sorts_by_contradictions(tmp_path: Path) -> None:
    root = tmp_path / "course"
    contradictions = {"g1": 0, "g2": 3, "g3": 1, "g4": 2}
    for group in contradictions:
        (root / group / "reports").mkdir(parents=True)
        (root / group / "reports" / "README.md").write_text(make_report(), encoding="utf-8")

    def review(results: list[Result]) -> list[Result]:
        for r in results:
            n = contradictions[Path(r.source).parts[-3]]
            r.findings.extend(llm_finding(line=i + 1, checklist_item=f"Invented item {i}") for i in range(n))
            r.llm.status = "ok"
        return results

    out = tmp_path / "out"
    Runner(out, Options(), review=review, llm_key="fake").run(discover(str(root)))
    index = out / "index.html"
    click = '<script>document.querySelector("#sort-contradictions button").click();</script>'
    sorted_index = instrument(index, at_end=click)
    dom, console = dump_dom(sorted_index, tmp_path)
    assert console == []
    assert html_attribute(dom, "data-js-errors") is None
    order = re.findall(r'<tr class="ok" data-report="(g\d)/reports/README.md">', dom)
    assert order == ["g2", "g4", "g3", "g1"]
    assert 'aria-sort="descending"' in dom
    for href in re.findall(r'<a href="([^"]+)"', dom):
        assert (out / href).is_file()
    screenshot(sorted_index, tmp_path, "index.png")
