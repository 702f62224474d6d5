"""Parsing: report Markdown to the :class:`Report` model."""

from feedback.report.model import Answer, ChecklistItem, Image, Line, Link, Mark, Question, Report
from feedback.report.parse import decode, parse, read_report

__all__ = [
    "Answer",
    "ChecklistItem",
    "Image",
    "Line",
    "Link",
    "Mark",
    "Question",
    "Report",
    "decode",
    "parse",
    "read_report",
]
