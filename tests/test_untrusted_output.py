"""Report text in the outputs: no terminal escapes reach a terminal, and the Markdown draft shows report text as
typed (no link, image or code span can be formed from it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from feedback.console import clean
from feedback.entry import main
from feedback.pipeline import check_file
from feedback.render import get as renderer

HOSTILE = (
    "# Report \x1b]0;pwned\x07title\n\n## Overall project checklist\n\n"
    "* [x] Use DVC \x1b[2J\x1b[H ALL CHECKS PASSED (M8)\n\n## Project\n\n"
    "### Question 1\n> **Describe your storage.**\n>\n> Answer:\n\n"
    "TODO see [click me](javascript:alert(1)) and [raw](data:text/html;base64,PHNjcmlwdD4=)\n"
    "![pixel](https://tracker.example/p.png) \x9b31m red \rALL CHECKS PASSED \u202eevil\n"
)


def _tokens(markdown: str) -> list[Any]:
    out = []
    for tok in MarkdownIt("commonmark").parse(markdown):
        out.append(tok)
        out.extend(tok.children or ())
    return out


def test_terminal_escapes_and_control_characters_never_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r\x1b[31m.md"
    report.write_text(HOSTILE, encoding="utf-8")
    for fmt in ("text", "concise", "github"):
        main(["check", str(report), "--format", fmt, "--exit-zero"])
        out, err = capsys.readouterr()
        for bad in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
            assert bad not in out + err, (fmt, bad)
        assert "/r.md" in out  # the path is shown, its escape sequence removed
    assert main(["check", str(tmp_path / "missing\x1b]0;x\x07.md")]) == 2
    assert "\x1b" not in capsys.readouterr().err


def test_clean_keeps_text_tabs_and_line_breaks() -> None:
    assert clean("a\tb\r\nc\nd\x1b[1;31me\x1b]8;;http://x\x1b\\f\x00g") == "a\tb\r\nc\ndefg"


def test_the_markdown_draft_forms_no_link_image_or_html_from_report_text(tmp_path: Path) -> None:
    folder = tmp_path / "we`ird` dir"
    folder.mkdir()
    report = folder / "report.md"
    report.write_text(HOSTILE, encoding="utf-8")
    draft = renderer("markdown")([check_file(report)])
    assert "javascript:alert(1)" in draft and "tracker.example" in draft  # shown as text
    tokens = _tokens(draft)
    hrefs = [str(t.attrGet("href")) for t in tokens if t.type == "link_open"]
    assert not [h for h in hrefs if h.startswith(("javascript:", "data:"))]
    assert not [t for t in tokens if t.type == "image"]
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]
    spans = [t.content for t in tokens if t.type == "code_inline"]
    assert str(report) in spans  # the whole path in one code span, its backticks included
    assert "\x1b" not in draft
