"""feedback: reads filled-in project reports and says what is wrong with them.

Public API: :func:`check_file` / :func:`check_text` run the offline pipeline (parse, rule checks, consistency),
:class:`Finding` is the one result type every stage produces.
"""

import gc as _gc

# Importing builds classes, tables and patterns that all live on: the cyclic collector would walk them again and
# again while nothing can be freed (3% of a one-report process), so it rests until the imports are done, and what
# exists then is frozen (moved out of the collector's generations; freed by reference counting as before), since
# re-enabling alone only defers one collection that walks all of it (another 3-5%).
_collecting = _gc.isenabled()
_gc.disable()
try:
    from feedback import regex_cache  # noqa: F401  (first: it loads the stored patterns before the others compile)
    from feedback.findings import Category, Finding, Severity, Source, Verdict
    from feedback.pipeline import Result, check_file, check_text
finally:
    if _collecting:
        _gc.freeze()
        _gc.enable()

__version__ = "0.1.0"

__all__ = [
    "Category",
    "Finding",
    "Result",
    "Severity",
    "Source",
    "Verdict",
    "__version__",
    "check_file",
    "check_text",
]
