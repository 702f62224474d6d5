"""What reaches a terminal: warnings printed once, and text with control characters and escape sequences removed.

Report text and model text are untrusted: an ``ESC ] 0;...`` sequence would retitle the window, ``ESC [2J`` clear
the screen and print a fake verdict over it. :func:`clean` keeps printable text, tabs and newlines only.
"""

from __future__ import annotations

import re
import sys

# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), other two-character escapes, then any remaining C0/C1 control
# character (tab and newline kept) and the Unicode bidi overrides that reorder what a terminal shows.
_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)
_warned: set[str] = set()


def clean(text: str) -> str:
    """``text`` without terminal escape sequences or control characters (tabs, newlines and CRLF kept)."""
    return _ESCAPE_RE.sub("", text)


def eprint(message: str) -> None:
    """One message on stderr, cleaned: messages carry report paths and text, which may hold escapes."""
    print(clean(message), file=sys.stderr)


def out(text: str, human: bool) -> None:
    """Rendered output on stdout: cleaned when it is meant for a person (text formats) or stdout is a terminal;
    machine formats written to a pipe or a file keep the report's text exactly."""
    sys.stdout.write(clean(text) if human or sys.stdout.isatty() else text)


def warn(message: str) -> None:
    """One ``feedback: warning: ...`` line on stderr; the same message is printed once per process."""
    message = " ".join(clean(message).split())
    if message in _warned:
        return
    _warned.add(message)
    print(f"feedback: warning: {message}", file=sys.stderr)
