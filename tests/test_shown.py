"""What a reader is shown (text, Markdown, HTML): a problem repeated on one question or across questions once,
suggestions in the room the other findings leave; JSON keeps every finding."""

from __future__ import annotations

from dataclasses import replace

from feedback.findings import (
    MAX_SHOWN_SUGGESTIONS,
    MIN_SHOWN_SUGGESTIONS,
    SHOWN_BUDGET,
    Category,
    Finding,
    Severity,
    Source,
    shown_findings,
)


def missing_image(question: int, line: int) -> Finding:
    return Finding(
        "FB305",
        "image-file-missing",
        Category.ANSWER,
        Severity.WARNING,
        f"Image file 'figures/{line}.png' not found relative to the report.",
        line=line,
        question=question,
        evidence=(f"![x](figures/{line}.png)",),
    )


def suggestion(question: int, rank: int) -> Finding:
    return Finding(
        "FB603",
        "llm-suggestion",
        Category.ANSWER,
        Severity.INFO,
        f"suggestion {rank}",
        source=Source.LLM,
        line=question * 10,
        question=question,
        evidence=("quote",),
        rank=rank,
    )


def test_a_repeated_problem_is_shown_once_naming_where_else_it_occurs() -> None:
    findings = [missing_image(5, 11), missing_image(5, 12), missing_image(5, 14), missing_image(6, 20)]
    info = replace(missing_image(7, 30), severity=Severity.INFO)  # another severity: another problem
    judged = replace(missing_image(8, 40), checklist_item="Add images", verdict=None)
    shown = shown_findings([*findings, info, judged])
    assert [(f.question, f.line) for f in shown] == [(5, 11), (7, 30), (8, 40)]
    assert shown[0].message == (
        "Image file 'figures/11.png' not found relative to the report. (and 3 more like it: line 12, line 14, "
        "Q6 line 20)"
    )
    assert shown[0].questions == (5, 6)
    assert len(shown[0].evidence) == 4
    assert shown[1:] == [info, judged]  # alone: unchanged
    assert len(findings) == 4  # the input (what JSON writes) is untouched


def test_suggestions_fill_the_room_the_other_findings_leave() -> None:
    sugg = [suggestion(q, rank) for rank, q in enumerate(range(3, 15), start=1)]  # one per question, 12 in all

    def shown_suggestions(others: int) -> list[int]:
        rest = [replace(missing_image(100 + n, n), code=f"FB9{n:02d}") for n in range(others)]  # none merged
        return [f.rank or 0 for f in shown_findings(rest + sugg) if f.code == "FB603"]

    assert shown_suggestions(0) == list(range(1, MAX_SHOWN_SUGGESTIONS + 1))
    assert shown_suggestions(SHOWN_BUDGET - 5) == [1, 2, 3, 4, 5]  # the best ones, up to 20 findings in all
    assert shown_suggestions(SHOWN_BUDGET + 10) == list(range(1, MIN_SHOWN_SUGGESTIONS + 1))
    # a merged repeat counts once
    merged = [missing_image(4, n) for n in range(SHOWN_BUDGET)]
    assert len([f for f in shown_findings(merged + sugg) if f.code == "FB603"]) == MAX_SHOWN_SUGGESTIONS


def test_the_html_view_shows_what_the_text_shows() -> None:
    from feedback.pipeline import check_text
    from feedback.render.json import result_to_dict
    from feedback.render.text import render_one
    from feedback.render.view import build_view

    text = "# Report\n\n## Work\n\n" + "\n\n".join(
        f"### Question {n}\n> **Explain step {n}.**\n>\n> Answer:\n\nStep {n}, three figures." for n in range(3, 7)
    )
    result = check_text(text)
    images = [missing_image(q, 10 * q + n) for q in range(3, 7) for n in range(3)]
    result.findings = [*images, *(suggestion(q, rank) for rank, q in enumerate(range(3, 7), start=1))]
    view = build_view(result_to_dict(result))
    in_view = [f for q in view["questions"] for f in q["rule_findings"] + q["llm_findings"]] + view["general"]
    assert len(in_view) == len(shown_findings(result.findings)) < len(result.findings)
    out = render_one(result)
    assert out.count("FB305") == len([f for f in in_view if f["code"] == "FB305"]) == 1
