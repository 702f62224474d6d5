"""Image and link rules: screenshots required by the prompt, images given as links, broken or external paths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedback.checks.registry import Context, Hit, rule
from feedback.findings import Category, Severity
from feedback.report.model import Report

IMAGE_EXT_RE = re.compile(r"\.(png|jpe?g|gif|svg|webp|bmp)$", re.I)
EXTERNAL_RE = re.compile(r"^(?:https?:)?//", re.I)
NOTE_LINK_RE = re.compile(r"!!|\?\?|\b(?:todo|tbd|fixme|need|insert|add|fill|missing|here)\b", re.I)


def _is_image_path(href: str) -> bool:
    return bool(IMAGE_EXT_RE.search(urlsplit(href.strip("<>")).path))


@rule(
    "FB301",
    "missing-images",
    Category.ANSWER,
    Severity.ERROR,
    "The prompt asks for images and the answer has fewer.",
)
def missing_images(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        n = len(q.answer.images)
        if q.answered and q.min_images and n < q.min_images:
            linked = sum(1 for lk in q.answer.links if _is_image_path(lk.href))
            files = "1 image file given as a plain link" if linked == 1 else f"{linked} image files given as links"
            hint = f" ({files}: add '!' in front)" if linked else ""
            if q.max_images is None:
                want = f"at least {q.min_images} image{'s' if q.min_images > 1 else ''}"
            elif q.min_images == q.max_images:
                want = f"{q.min_images} image{'s' if q.min_images > 1 else ''}"
            else:
                want = f"{q.min_images}-{q.max_images} images"
            yield Hit(
                f"Question {q.number} asks for {want}; the answer has {n}{hint}.",
                line=q.answer.first_line,
                question=q.number,
            )


@rule("FB302", "too-many-images", Category.ANSWER, Severity.WARNING, "More images than the prompt asks for.")
def too_many_images(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        n = len(q.answer.images)
        if q.max_images is not None and n > q.max_images:
            yield Hit(
                f"Question {q.number} asks for at most {q.max_images} image{'s' if q.max_images != 1 else ''}; "
                f"the answer has {n}.",
                line=q.answer.images[q.max_images].line,
                question=q.number,
            )


@rule("FB303", "image-as-link", Category.ANSWER, Severity.WARNING, "An image file is given as a plain link.")
def image_as_link(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        for lk in q.answer.links:
            if _is_image_path(lk.href):
                target = lk.written
                yield Hit(
                    f"'{target}' is linked, not shown: write ![{lk.text}]({target}) to embed the image.",
                    line=lk.line,
                    question=q.number,
                    evidence=(target,),
                )


@rule("FB304", "external-image", Category.ANSWER, Severity.INFO, "An image is loaded from an external URL.")
def external_image(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        for img in q.answer.images:
            if EXTERNAL_RE.match(img.src):
                yield Hit(
                    f"Image loaded from {img.written}: it breaks if that page moves or is private; "
                    "prefer a file in the report's figures folder.",
                    line=img.line,
                    question=q.number,
                    evidence=(img.written,),
                )


def is_local(src: str) -> bool:
    """An image source that names a file beside the report (not a URL or inline data)."""
    return bool(src) and not EXTERNAL_RE.match(src) and not src.startswith("data:")


def looked_up(report: Report, base: Path) -> list[Path]:
    """Every path the image checks look at for ``report`` in folder ``base`` (the page shows the same files): a
    batch rerun compares their state, so a figure added beside a report invalidates that report alone."""
    return [
        p for q in report.questions for img in q.answer.images if is_local(img.src) for p in _candidates(base, img.src)
    ]


def _candidates(base: Path, src: str) -> list[Path]:
    path = unquote(urlsplit(src.strip().strip("<>")).path)
    if path.startswith("/"):
        # repository-absolute: the repository root is some ancestor of the report's folder
        rel = path.lstrip("/")
        return [p / rel for p in [base, *list(base.parents)[:3]]]
    return [base / path]


@rule(
    "FB305",
    "image-file-missing",
    Category.ANSWER,
    Severity.WARNING,
    "An image's relative path does not exist beside the report.",
)
def image_file_missing(ctx: Context) -> Iterator[Hit]:
    if ctx.base_dir is None:
        return
    for q in ctx.report.questions:
        for img in q.answer.images:
            if not is_local(img.src):
                continue
            if not any(p.exists() for p in _candidates(ctx.base_dir, img.src)):
                yield Hit(
                    f"Image file '{img.written}' not found relative to the report; check the path and file name case.",
                    line=img.line,
                    question=q.number,
                    evidence=(img.written,),
                )


@rule("FB306", "empty-link", Category.ANSWER, Severity.WARNING, "A link has no target.")
def empty_link(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        for lk in q.answer.links:
            if lk.href.strip() in ("", "#") and not NOTE_LINK_RE.search(lk.text):
                yield Hit(
                    f"The link '{lk.text}' points nowhere: add the URL.",
                    line=lk.line,
                    question=q.number,
                    evidence=(f"[{lk.text}]",),
                )


@rule("FB307", "image-in-code", Category.ANSWER, Severity.WARNING, "Image syntax inside a code block shows as code.")
def image_in_code(ctx: Context) -> Iterator[Hit]:
    for q in ctx.report.questions:
        for img in q.answer.code_images:
            yield Hit(
                f"The image '{img.src}' is inside a code block, so readers see the code, not the image; "
                "move it out of the ``` block.",
                line=img.line,
                question=q.number,
                evidence=(ctx.report.line_text(img.line).strip(),),
            )
