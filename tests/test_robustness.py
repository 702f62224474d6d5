"""Bad input never produces a traceback: unreadable files exit 2 with one line, odd Markdown still gets a report.
Parsing is fuzzed with hypothesis: no exception, and every line number points inside the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.cli import main
from feedback.pipeline import Result, check_file, check_report, check_text
from feedback.report import parse
from tests.conftest import corpus_reports

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "report.md"


def _all_lines(result: Result) -> list[int]:
    r = result.report
    out = [f.line for f in result.findings if f.line is not None]
    out += [i.line for i in r.checklist] + [n.number for i in r.checklist for n in i.notes]
    for q in r.questions:
        out += [q.line, q.end_line] + [ln.number for ln in q.answer.lines] + [ln.number for ln in q.prompt_lines]
        out += [img.line for img in q.answer.images] + [lk.line for lk in q.answer.links]
    return out


def _assert_sane(result: Result) -> None:
    n = len(result.report.lines)
    assert all(1 <= line <= n for line in _all_lines(result))
    for f in result.findings:
        if f.line is not None and f.evidence and f.check not in ("question-missing", "template-changed"):
            # evidence quoted from a line is on that line
            assert any(e in result.report.line_text(f.line) for e in f.evidence), f


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.md", b"", "empty"),
        ("blank.md", b"\n  \n\t\n", "empty"),
        ("binary.md", bytes(range(256)) * 4, "binary"),
        ("png.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "binary"),
    ],
)
def test_unreadable_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_directory_and_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert main(["check", str(tmp_path / "nope.md")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "is a directory" in err[0] and "no such file" in err[1]


def test_one_bad_file_does_not_hide_the_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    assert main(["check", str(tmp_path / "empty.md"), str(EXAMPLE), "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["report"]["path"].endswith("report.md")


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("latin-1", b"")],
)
def test_encodings_and_line_endings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("Bird song", "Fugle-sang på Ærø")
    for newline in ("\n", "\r\n"):
        path = tmp_path / "r.md"
        path.write_bytes(prefix + text.replace("\n", newline).encode(encoding))
        from feedback.pipeline import check_file

        result = check_file(path)
        assert result.report.title is not None and "Ærø" in result.report.title
        assert result.report.crlf == (newline == "\r\n")
        assert len(result.report.questions) == 9
        assert {f.check for f in result.findings} >= {"unanswered", "missing-images", "leftover-note"}


@pytest.mark.parametrize(
    ("text", "checks"),
    [
        ("# Only a title\n\nSome prose and no questions.\n", {"question-missing", "checklist-missing"}),
        ("* [x] Did a thing (M1)\n* [ ] Did not (M2)\n", {"question-missing"}),
        ("### Question 1\n> Answer:\na\n### Question 1\n> Answer:\nb\n", {"question-duplicated"}),
        ("<html><body><h3>Question 1</h3><p>answer</p></body></html>\n", {"question-missing"}),
        (">" * 3000 + " deep\n### Question 1\n> Answer:\n" + "[" * 3000 + "x](y)\n" + "* " * 2000 + "z\n", set()),
    ],
)
def test_odd_markdown_gets_a_report(text: str, checks: set[str]) -> None:
    result = check_report(parse(text))
    assert checks <= {f.check for f in result.findings}
    _assert_sane(result)


def test_ten_megabyte_report() -> None:
    base = EXAMPLE.read_text(encoding="utf-8")
    big = (base * (10_000_000 // len(base) + 1))[:10_000_000]
    result = check_report(parse(big))
    assert result.report.lines and any(f.check == "question-duplicated" for f in result.findings)


MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("#>*-[]()!`~xX \n\t:|<>/\\\"'0123456789aQqAnswer%✅\r")) | st.characters(),
    max_size=600,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
def test_fuzz_arbitrary_text(text: str) -> None:
    _assert_sane(check_report(parse(text)))


_REAL = [p.read_text(encoding="utf-8", errors="replace") for p in corpus_reports()[:12]]


@pytest.mark.skipif(not _REAL, reason="../shared/corpus is not present")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_fuzz_mutated_corpus_reports(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_REAL))
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate"]))
        i = data.draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, data.draw(MARKDOWNISH))
        elif op == "truncate":
            lines = lines[: i + 1]
    _assert_sane(check_report(parse("\n".join(lines))))


def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    fifo = tmp_path / "course" / "g1" / "reports" / "README.md"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    assert main(["check", str(fifo)]) == 2
    assert main(["batch", str(tmp_path / "course"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("not a regular file") and err[1].endswith("not a regular file")
    assert err[1].count(str(fifo)) == 1


def test_cr_crlf_and_lf_all_end_lines(tmp_path: Path) -> None:
    body = ["# Title", "### Question 1", "> **Why?**", "> Answer:", "Because.", "### Question 2", "> Answer:", "No."]
    for newline in ("\r", "\r\n", "\n"):
        result = check_text(newline.join(body) + newline)
        assert result.report.lines == tuple(body), repr(newline)
        assert [(q.number, q.line) for q in result.report.questions] == [(1, 2), (2, 6)]
        assert not any(f.check == "question-missing" for f in result.findings)
    mixed = parse("a\rb\r\nc\nd")  # one file, three kinds of line ending
    assert mixed.lines == ("a", "b", "c", "d") and mixed.crlf


def test_invalid_utf8_replaced_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_bytes(
        "# Café ✅\n\n### Question 1\n> Answer:\nWe used Ærø data ✓.\n\n### Question 2\n> Answer:\n".encode()
        + b"a stray \xff byte and a cut \xe2\x9c sequence\nlast line \xc3\xa9\n"
    )
    result = check_file(path)
    report = result.report
    assert report.title == "Café ✅" and "Ærø" in report.lines[4]  # the rest is not re-decoded as Latin-1
    assert report.lines[8] == "a stray \ufffd byte and a cut \ufffd sequence" and report.lines[9] == "last line é"
    assert report.encoding_errors == (9,)
    found = [(f.code, f.line, f.message) for f in result.findings if f.check == "encoding-error"]
    assert [(c, n) for c, n, _m in found] == [("FB108", 9)]
    assert "Line 9 holds bytes that are not valid UTF-8" in found[0][2]
    # CR line endings are counted the same way in the bytes and in the text
    path.write_bytes(b"# \xc3\xa9\r### Question 1\r> Answer:\rbad \xff\r")
    assert check_file(path).report.encoding_errors == (4,)


def test_a_latin1_file_is_not_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_bytes("# Fugle på Ærø\n### Question 1\n> Answer:\nSå.\n".encode("latin-1"))
    result = check_file(path)
    assert result.report.title == "Fugle på Ærø" and not result.report.encoding_errors
    assert not any(f.check == "encoding-error" for f in result.findings)


@pytest.mark.parametrize("where", ["Quest\u200bion 3", "\u200b### Question 3", "Question\u2060 3", "\u202eQuestion 3"])
def test_invisible_characters_in_a_heading_are_named(where: str) -> None:
    heading = where if where.startswith("\u200b") else f"### {where}"
    text = f"### Question 1\n> Answer:\na\n### Question 2\n> Answer:\nb\n{heading}\n> Answer:\nc\n"
    for tail in ("", "### Question 4\n> Answer:\nd\n"):  # the hidden heading last, or between two others
        missing = [f for f in check_text(text + tail).findings if f.check == "question-missing"]
        assert [(f.line, f.question) for f in missing] == [(7, 3)]
        assert "invisible character (U+" in missing[0].message
    named = next(f for f in check_text(text).findings if f.check == "question-missing").message
    char = next(c for c in where if not c.isprintable() or c in "\u200b\u2060\u202e")
    assert f"U+{ord(char):04X}" in named


def test_parser_is_linear_in_questions_per_section() -> None:
    import gc
    import time

    def cpu(n: int) -> float:
        text = "# Title\n## One section\n" + "".join(f"### Question {i}\n> Answer:\nyes\n" for i in range(1, n + 1))
        gc.collect()
        gc.disable()  # the collector's passes grow with the objects alive, which is not the parser's doing
        try:
            start = time.process_time()
            report = parse(text)
            spent = time.process_time() - start
        finally:
            gc.enable()
        assert len(report.questions) == n and report.questions[-1].section == "One section"
        return spent

    small = min(cpu(4_000) for _ in range(2))
    # linear: about 4x; the quadratic section search took about 16x (40,000 questions: 47 s)
    assert cpu(16_000) < 8 * small + 0.2


def test_links_and_names_that_cannot_be_read_say_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 22: a symbolic-link loop was reported as 'no such file'."""
    loop, dangling = tmp_path / "loop.md", tmp_path / "dangling.md"
    loop.symlink_to(loop)
    dangling.symlink_to(tmp_path / "gone.md")
    long_name = tmp_path / ("x" * 300 + ".md")
    assert main(["check", str(loop), str(dangling), str(long_name)]) == 2
    assert main(["batch", str(loop), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"feedback: error: {loop}: cannot read (Too many levels of symbolic links)",
        f"feedback: error: {dangling}: a symbolic link to a file that does not exist",
        f"feedback: error: {long_name}: cannot read (File name too long)",
        f"feedback: error: {loop}: cannot read (Too many levels of symbolic links)",
    ]
