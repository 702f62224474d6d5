"""The HTML report and the batch index opened in headless Chromium, as a person would open them.

Skipped when ``chromium`` is not installed; ``.ci/run`` installs Debian's package so CI always runs these.
Screenshots go to ``artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from feedback.cli import main
from feedback.course.runner import Runner, discover
from feedback.pipeline import Options, Result
from tests.conftest import ROOT
from tests.test_render import SCRIPT, llm_finding, make_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Skipped locally without Chromium; in CI (CI set) a missing browser is a failure, so these always run there.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed (.ci/run installs it)"
)
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
    assert CHROMIUM is not None, "chromium is required in CI (.ci/run installs it)"
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


def screenshot(page: Path, tmp_path: Path, name: str, size: str = "1280,1800") -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    chromium(page, tmp_path, f"--screenshot={shot}", f"--window-size={size}")
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
    order = re.findall(r'<tr class="ok" data-report="(g\d)/reports/README.md"', dom)
    assert order == ["g2", "g4", "g3", "g1"]
    assert 'aria-sort="descending"' in dom
    for href in re.findall(r'<a href="([^"]+)"', dom):
        assert (out / href).is_file()
    screenshot(sorted_index, tmp_path, "index.png")


# a real 2x2 PNG, so the browser can decode it and report its natural size
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73000000164944415478da63f8cfc0f09f81e13f03"
    "c37f0606060018f403fd9ec1c2b90000000049454e44ae426082"
)
COPIED = (
    "Our training pipeline pulls the raw sensor files from the shared bucket every night, removes broken rows, "
    "resamples every series to one reading per minute, stores cleaned parquet tables, trains the boosted model on "
    "the last ninety days and promotes it only when the validation error beats the current model by two percent."
)


def _course(tmp_path: Path) -> Path:
    """Four invented groups: one with a screenshot on disk, two sharing an answer, one leaving a question open."""
    root = tmp_path / "course"
    for group in ("g1", "g2", "g3", "g4"):
        (root / group / "reports" / "figures").mkdir(parents=True)
    (root / "g1" / "reports" / "figures" / "board.png").write_bytes(PNG)
    texts = {
        "g1": make_report(q2="We used uv. ![our board](figures/board.png) ![gone](figures/missing.png)"),
        "g2": make_report(q2=COPIED),
        "g3": make_report(q2=COPIED.replace("every night", "each night")),
        "g4": make_report(),
    }
    for group, text in texts.items():
        (root / group / "reports" / "README.md").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    Runner(out, Options()).run(discover(str(root)))
    return out


def test_course_pages_in_a_browser(tmp_path: Path) -> None:
    out = _course(tmp_path)

    # index: the filter by code hides every report without that code, and the page fits a 1366 px screen
    pick = (
        "<script>const f = document.getElementById('filters'); f.elements.code.value = 'FB801';"
        "f.dispatchEvent(new Event('change'));"
        "const shown = Array.from(document.querySelectorAll('#reports tbody tr')).filter((r) => !r.hidden)"
        ".map((r) => r.dataset.report.split('/')[0]);"
        "document.documentElement.setAttribute('data-shown', shown.join(' '));"
        "document.documentElement.setAttribute('data-width', document.documentElement.scrollWidth);</script>"
    )
    dom = chromium(instrument(out / "index.html", at_end=pick), tmp_path, "--window-size=1366,900", "--dump-dom").stdout
    assert html_attribute(dom, "data-js-errors") is None
    assert html_attribute(dom, "data-shown") == "g2 g3"
    assert int(html_attribute(dom, "data-width") or 0) <= 1366
    screenshot(instrument(out / "index.html"), tmp_path, "course-index.png", "1366,900")

    # checklist matrix: every cell links to an item row that exists on the group's page
    matrix = (out / "checklist.html").read_text(encoding="utf-8")
    links = re.findall(r'<td class="c (\w+)"[^>]*><a href="([^"#]+)#([^"]+)">', matrix)
    assert len(links) == 4 * 3  # four groups, three items each
    for _state, page, anchor in links:
        assert f'id="{anchor}"' in (out / page).read_text(encoding="utf-8")
    assert {state for state, _p, _a in links} >= {"ticked", "unticked"}
    dom, console = dump_dom(instrument(out / "checklist.html"), tmp_path)
    assert console == [] and html_attribute(dom, "data-js-errors") is None
    screenshot(instrument(out / "checklist.html"), tmp_path, "course-checklist.png", "1366,900")

    # a report page: back link, the screenshot displayed (decoded by the browser), the missing one named
    g1 = next((out / "reports").glob("g1*.html"))
    measure = (
        "<script>window.addEventListener('load', () => {"
        "const img = document.querySelector('.images img');"
        "document.documentElement.setAttribute('data-img', img ? img.naturalWidth + 'x' + img.naturalHeight : 'none');"
        "});</script>"
    )
    page = instrument(g1, at_end=measure)
    dom, console = dump_dom(page, tmp_path)
    assert console == [] and html_attribute(dom, "data-js-errors") is None
    assert html_attribute(dom, "data-img") == "2x2"
    assert 'href="../index.html"' in dom and "file not found" in dom
    screenshot(page, tmp_path, "course-report.png", "1366,1800")
