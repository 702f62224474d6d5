"""Known checklist item wordings, kept as fingerprints, to spot a remark a group appended to an item's own text.

`checklist_wordings.txt` holds one short hash per item wording of every known blank template (normalised: lower
case, module tags such as ``(M8)`` and backslashes removed, whitespace collapsed), never the wording itself. An item
whose text is not a known wording but starts (or ends) with one carries a remark: "Use DVC ... (M8) - not useful".
With ``--template`` the blank template's own items count as known wordings too.

Regenerate the file from blank templates (e.g. ../shared/templates):

    python -m feedback.checks.wordings ../shared/templates/*.md
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from feedback.hashing import blake2b

DATA = Path(__file__).with_name("checklist_wordings.txt")
TAG_RE = re.compile(r"\(\s*M\d+(?:\s*[+,/&]\s*M\d+)*\s*\)", re.I)
FILLER_RE = re.compile(r"[\s.,;:*_~\-–—]+")
MIN_WORDS = 3  # a known wording shorter than this is not trusted as a prefix
MAX_WORDS = 80  # words in the longest item wording of any template


def _norm(tokens: Sequence[str]) -> str:
    return " ".join(tokens).lower().replace("\\", "").rstrip(" .:")


def _fp(words: Sequence[str]) -> str:
    return blake2b(_norm(words).encode("utf-8"), digest_size=8).hexdigest()


def fingerprint(text: str) -> str:
    """The stored form of one wording."""
    return _fp(tokens(text))


def tokens(text: str) -> list[str]:
    """The item's words without module tags, in their original case."""
    return TAG_RE.sub(" ", text).split()


@lru_cache(maxsize=1)
def known() -> frozenset[str]:
    try:
        lines = DATA.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def appended_remark(text: str, extra: Iterable[str] = ()) -> str | None:
    """The words added to a known wording (after it, or before it), or to any wording after its module tag; None
    when the text is a known wording, is unknown and untagged, or the addition is only punctuation."""
    fps = known() | {fingerprint(t) for t in extra}
    words = tokens(text)

    def hit(part: Sequence[str]) -> bool:
        return len(part) >= MIN_WORDS and _fp(part) in fps

    if not words or hit(words):
        return None
    longest = min(len(words) - 1, MAX_WORDS)  # no known wording is longer: a 100 KB item costs no more than a line
    for k in range(longest, MIN_WORDS - 1, -1):
        if hit(words[:k]):
            remark = " ".join(words[k:])
            return remark if FILLER_RE.sub("", remark) else None
    for k in range(max(1, len(words) - MAX_WORDS), len(words) - MIN_WORDS + 1):
        if hit(words[k:]):
            remark = " ".join(words[:k])
            return remark if FILLER_RE.sub("", remark) else None
    # an unknown wording: the templates that tag items end them with the module tag, so words after it are added
    tags = list(TAG_RE.finditer(text))
    if tags:
        remark = " ".join(text[tags[-1].end() :].split())
        return remark if FILLER_RE.sub("", remark) else None
    return None


def main(argv: list[str] | None = None) -> int:
    from feedback.report import read_report

    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m feedback.checks.wordings BLANK_TEMPLATE.md...", file=sys.stderr)
        return 2
    fps: set[str] = set()
    for path in paths:
        fps |= {fingerprint(item.text) for item in read_report(path).checklist}
    header = "# fingerprints of known checklist item wordings (see feedback/checks/wordings.py); do not edit\n"
    DATA.write_text(header + "".join(f"{fp}\n" for fp in sorted(fps)), encoding="utf-8")
    print(f"{len(fps)} wordings from {len(paths)} templates written to {DATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
