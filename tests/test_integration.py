"""The tool as a user installs and runs it: the built wheel in a fresh venv, the pre-commit hook in a git
repository, and the GitHub Action's steps.

These install the package and its dependencies (a minute or more each), so they run in CI (``CI`` set, as
``.ci/run`` is run) or with ``FEEDBACK_INTEGRATION=1``, and skip otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.fault_server import FaultServer, quoting_answer, serve

pytestmark = pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("FEEDBACK_INTEGRATION")),
    reason="installs packages; runs in CI or with FEEDBACK_INTEGRATION=1",
)
EXAMPLE = ROOT / "examples" / "report.md"
KEY = "sk-test-integration-0b7e"
# A report with one error (question 2 unanswered) and, fixed, none.
BROKEN = """\
# Exam report

## Group information

### Question 1
> **Enter the group number.**
>
> Answer:

Group 12

### Question 2
> **Explain how you kept the code tidy.**
>
> Answer:

--- question 2 fill here ---
"""
FIXED = BROKEN.replace("--- question 2 fill here ---", "We ran ruff on every commit and kept functions short.")


def run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment a user has: no developer settings, a config home and a cache of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FEEDBACK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(XDG_CONFIG_HOME=str(tmp / "config"), FEEDBACK_CACHE_DIR=str(tmp / "cache"), **extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel built from this checkout, installed in a fresh venv; yields the venv's ``bin``."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", tmp / "dist", ROOT], cwd=tmp)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp / "dist").glob("feedback-*.whl")
    [sdist] = (tmp / "dist").glob("feedback-*.tar.gz")
    listing = run(["tar", "tzf", sdist], cwd=tmp).stdout
    assert "/prompts/question_review.j2" in listing and "/feedback/consistency/catalog.toml" in listing
    venv.create(tmp / "venv", with_pip=True)
    bin_ = tmp / "venv" / "bin"
    pip = run([bin_ / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel], cwd=tmp)
    assert pip.returncode == 0, pip.stderr[-2000:]
    yield bin_


def test_the_installed_wheel_runs_the_llm_path_from_another_directory(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(EXAMPLE, work / "report.md")
    feedback = installed / "feedback"
    # the prompts come from the installed package, not from a checkout
    where = run(
        [installed / "python", "-c", "from feedback.llm.prompts import prompts_dir; print(prompts_dir())"], work
    )
    assert "site-packages" in where.stdout and (Path(where.stdout.strip()) / "review_system.j2").is_file()

    with serve(FaultServer(default=quoting_answer)) as server:
        env = clean_env(tmp_path, OPENAI_BASE_URL=server.url, OPENAI_API_KEY=KEY)
        check = run([feedback, "check", "report.md"], work, env)
        assert check.returncode == 1 and "Fix first:" in check.stdout, check.stderr

        review = run([feedback, "review", "report.md", "--format", "json", "--exit-zero"], work, env)
        assert review.returncode == 0, review.stderr
        llm = json.loads(review.stdout)["llm"]
        assert llm["status"] == "ok" and llm["calls"] > 0 and llm["endpoint"] == server.url.split("/")[2]

        estimate = run([feedback, "review", "report.md", "--estimate", "--no-cache", "--exit-zero"], work, env)
        assert estimate.returncode == 0 and "nothing was sent" in estimate.stdout, estimate.stderr

        (work / "course" / "g1").mkdir(parents=True)
        shutil.copy(EXAMPLE, work / "course" / "g1" / "report.md")
        batch = run([feedback, "batch", "course", "--out", "out", "--llm", "--jobs", "1"], work, env)
        assert batch.returncode == 0 and batch.stderr == "", batch.stderr
        with (work / "out" / "summary.csv").open(encoding="utf-8-sig") as fh:
            assert [row["llm_status"] for row in csv.DictReader(fh)] == ["ok"]
    explained = run([feedback, "rules", "FB201"], work)  # the pass/fail examples ship in the wheel
    assert explained.returncode == 0 and "fails (" in explained.stdout and "passes (" in explained.stdout
    version = run([installed / "python", "-m", "feedback", "--version"], work)
    assert version.returncode == 0 and version.stdout.startswith("feedback ")


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_pre_commit_hook_fails_a_broken_report_and_passes_a_fixed_one(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["feedback"]
    repo = tmp_path / "student"
    (repo / "reports").mkdir(parents=True)
    git(repo, "init", "-q")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "XDG_CONFIG_HOME": str(tmp_path)}
    report = repo / "reports" / "README.md"
    report.write_text(BROKEN, encoding="utf-8")
    git(repo, "add", "-A")
    # try-repo: the hook as it is in this checkout (uncommitted changes included), on the staged report
    tried = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "feedback", "--files", "reports/README.md"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert tried.returncode == 1 and "FB201" in tried.stdout, tried.stdout[-3000:] + tried.stderr[-2000:]
    # installed as a git hook from a pinned revision: the commit fails, then passes once the report is fixed
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    config = {"repos": [{"repo": str(ROOT), "rev": head, "hooks": [{"id": "feedback"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, "add", "-A")
    hook = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert hook.returncode == 0, hook.stderr
    env_commit = {**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env_commit.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")

    def commit() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "commit", "-q", "-m", "report"], cwd=repo, env=env_commit, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip

    failed = commit()
    assert failed.returncode != 0 and "FB201" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
    report.write_text(FIXED, encoding="utf-8")
    git(repo, "add", "-A")
    passed = commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(repo, "log", "--oneline").stdout.count("\n") == 1


def test_action_steps_run_locally_and_annotate(tmp_path: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    repo = tmp_path / "student"
    (repo / "reports").mkdir(parents=True)
    (repo / "reports" / "README.md").write_text(BROKEN, encoding="utf-8")
    summary = tmp_path / "step-summary.md"
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs["python"] = sys.executable
    base = clean_env(tmp_path, GITHUB_ACTION_PATH=str(ROOT), RUNNER_TEMP=str(tmp_path / "runner"))
    base["GITHUB_STEP_SUMMARY"] = str(summary)
    (tmp_path / "runner").mkdir()
    last = None
    for step in action["runs"]["steps"]:
        assert set(step) <= {"name", "shell", "env", "run"}, "only shell steps, so they can run here"
        env = dict(base)
        for key, value in (step.get("env") or {}).items():
            name = value.removeprefix("${{ inputs.").removesuffix(" }}")
            env[key] = inputs[name]
        last = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
        if step is not action["runs"]["steps"][-1]:
            assert last.returncode == 0, last.stderr[-2000:]
    assert last is not None and last.returncode == 1  # an error in the report fails the job
    assert "::error file=reports/README.md,line=" in last.stdout and "title=FB201 unanswered::" in last.stdout
    assert "### feedback" in summary.read_text()
