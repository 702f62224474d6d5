"""Check that the current code gives byte-identical JSON and text output to another commit on every corpus report.

The other commit (default: 162b534, the commit before the speed work) is checked out as a temporary `git worktree`;
both versions run in a subprocess on every report of ../shared/corpus (and with a few --select/--ignore values), and
any difference is printed. Exit code 1 when something differs.

    python benchmarks/findings_identical.py [--base 162b534]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from base_checkout import base_checkout

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

# runs inside one interpreter per code version: every report, every variant, rendered as json and text
_DUMP = r"""
import json, sys
from pathlib import Path
from feedback.consistency import load_catalog
from feedback.pipeline import Options, check_file
from feedback.render import get
out = {}
catalog = load_catalog(None)
variants = {"all": ((), ()), "ignore-FB5": ((), ("FB5",)), "select-FB5": (("FB5",), ()), "select-FB1": (("FB1",), ())}
for path in sys.argv[2:]:
    for name, (sel, ign) in variants.items():
        options = Options.from_args(sel, ign, None, catalog)
        result = check_file(Path(path), options)
        for fmt in ("json", "text"):
            out[f"{Path(path).name} {name} {fmt}"] = get(fmt)([result])
Path(sys.argv[1]).write_text(json.dumps(out), encoding="utf-8")
"""


def dump(src: Path, reports: list[Path], dest: Path) -> dict[str, str]:
    subprocess.run(
        [sys.executable, "-c", _DUMP, str(dest), *map(str, reports)],
        check=True,
        cwd=src,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )
    data: dict[str, str] = json.loads(dest.read_text(encoding="utf-8"))
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", default="162b534", help="commit to compare with")
    args = ap.parse_args()
    reports = sorted(CORPUS.glob("*.md"))
    if not reports:
        print("no corpus at ../shared/corpus")
        return 0
    with tempfile.TemporaryDirectory() as tmp, base_checkout(args.base, Path(tmp) / "base") as base:
        before = dump(base, reports, Path(tmp) / "before.json")
        after = dump(ROOT, reports, Path(tmp) / "after.json")
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for k in differ[:20]:
        print(f"differs: {k}")
    print(f"{len(before)} outputs compared ({len(reports)} reports); {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
