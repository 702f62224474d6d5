"""Config files and the trust boundary: a project file (the checked repository's) sets report options only; the
endpoint, key, model, limits, cache and log come from flags, the environment and the user's own config."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from feedback.cli import main
from feedback.config import load_config
from feedback.errors import ConfigError
from feedback.settings import Settings, load_settings
from tests.conftest import ROOT, write_user_config

EXAMPLE = ROOT / "examples" / "report.md"
LLM_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FEEDBACK_MODEL", "FEEDBACK_CACHE_DIR")

HOSTILE = """\
[project]
name = "student-project"

[tool.feedback]
base_url = "https://collector.example.net/v1"
model = "the-most-expensive-model"
max_output_tokens = 100000
price_input = 0.0
cache_dir = "/tmp/somewhere-else"
log_file = "/tmp/exfiltrated.jsonl"
concurrency = 256
select = ["FB2"]
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in LLM_ENV:
        monkeypatch.delenv(var, raising=False)


def test_hostile_project_file_cannot_move_the_key_or_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clean_env: None
) -> None:
    repo = tmp_path / "student-repo"
    (repo / "reports").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(HOSTILE, encoding="utf-8")
    (repo / "reports" / "README.md").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(repo / "reports")  # the file is found from the working directory upwards
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-ta-key")
    write_user_config('model = "ta-model"\nbase_url = "http://127.0.0.1:9/v1"\n')
    settings = load_settings()
    assert (settings.base_url, settings.model, settings.max_output_tokens) == (
        "http://127.0.0.1:9/v1",
        "ta-model",
        1200,
    )
    assert settings.log_file is None and "somewhere-else" not in str(settings.cache_dir)
    assert settings.concurrency == 8 and settings.price_input is None
    # the report option in the same file still applies, and the refusal is one warning naming the keys
    code = main(["review", "README.md", "--estimate", "--format", "json", "--exit-zero"])
    out, err = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert {f["code"][:3] for f in data["findings"]} == {"FB2"}
    assert data["llm"]["model"] == "ta-model" and data["llm"]["endpoint"] == "127.0.0.1:9"
    assert "127.0.0.1:9" in data["llm"]["message"]
    [warning] = err.splitlines()
    assert warning.startswith("feedback: warning: ") and "pyproject.toml" in warning
    for key in ("base_url", "model", "max_output_tokens", "cache_dir", "log_file"):
        assert key in warning


def test_precedence_user_file_then_environment_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.chdir(tmp_path)
    write_user_config('model = "from-user-file"\nconcurrency = 3\nmax-cost = 0.5\ncache_dir = "llm-cache"\n')
    s = load_settings()
    assert (s.model, s.concurrency, s.max_cost) == ("from-user-file", 3, 0.5)
    assert s.cache_dir.parent.name == "feedback" and s.cache_dir.name == "llm-cache"  # relative to the user's file
    monkeypatch.setenv("FEEDBACK_MODEL", "from-env")
    s = load_settings({"concurrency": 5})
    assert (s.model, s.concurrency) == ("from-env", 5)
    assert load_settings({"model": "from-flag"}).model == "from-flag"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('modle = "x"\n', "unknown key 'modle'; did you mean 'model'?"),
        ("exit_zeroo = true\n", "did you mean 'exit-zero'?"),
        ('concurrency = "8"\n', "concurrency"),
        ("model = true\n", "model"),
        ('model = ""\n', "model"),
        ("price_input = -1.0\n", "price_input"),
        ('base_url = "http://[::1/v1"\n', "base_url"),
        ('base_url = "http://localhost:99999/v1"\n', "base_url"),
        ('exit-zero = "yes"\n', "exit-zero must be true or false"),
        ("select = 3\n", "select must be a list"),
        ('use_cache = "yes"\n', "config.toml: invalid use_cache: Input should be a valid boolean (got 'yes')"),
        ("timeout = inf\n", "config.toml: invalid timeout: Input should be a finite number (got inf)"),
        ("max_cost = nan\n", "config.toml: invalid max_cost: Input should be a finite number"),
        ("max_cost = -0.5\n", "config.toml: invalid max_cost: Input should be greater than or equal to 0"),
        ("cache_dir = 3\n", "config.toml: cache_dir must be a path (a non-empty string), not 3"),
    ],
)
def test_user_file_values_are_checked_with_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_user_config(text)
    assert main(["review", str(EXAMPLE), "--estimate"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err


def test_project_file_sets_report_options_and_flags_beat_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feedback.toml").write_text('format = "concise"\nexit-zero = true\nignore = "FB4,FB5"\n')
    assert main(["check", str(EXAMPLE)]) == 0  # exit-zero from the file
    out = capsys.readouterr().out
    assert out.startswith(f"{EXAMPLE}:") and " FB201 " in out and " FB401 " not in out and " FB501 " not in out
    assert main(["check", str(EXAMPLE), "--no-exit-zero", "--format", "json", "--ignore", "FB3"]) == 1
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "FB401" in codes and "FB301" not in codes  # the flag's --ignore replaces the file's


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('selct = ["FB2"]\n', "unknown key 'selct'; did you mean 'select'?"),
        ('format = "sarf"\n', "unknown format 'sarf'"),
        ('select = ["FB9"]\n', "unknown check or code 'FB9'"),
        ('template = "no-such-blank.md"\n', "no-such-blank.md"),
        ("[tool.feedback\n", "cannot read config"),
    ],
)
def test_project_file_errors_name_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feedback.toml").write_text(text)
    assert main(["check", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_pyproject_without_a_feedback_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "sub").mkdir()
    assert load_config(tmp_path / "sub").report.source is None


def test_xdg_config_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "feedback").mkdir(parents=True)
    (tmp_path / "xdg" / "feedback" / "config.toml").write_text('model = "mine"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings().model == "mine"
    with pytest.raises(ConfigError, match="did you mean 'model'"):
        (tmp_path / "xdg" / "feedback" / "config.toml").write_text('Model = "mine"\n')
        load_settings()


def test_an_llm_setup_error_degrades_like_an_endpoint_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clean_env: None
) -> None:
    """A missing prompt file: the deterministic findings are still printed, the reason shown; batch says it too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACK_PROMPTS_DIR", str(tmp_path / "no-prompts"))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FEEDBACK_CACHE_DIR", str(tmp_path / "cache"))
    for args in (["review", str(EXAMPLE), "--format", "json"], ["review", str(EXAMPLE), "--estimate", "-f", "json"]):
        assert main(args) == 1  # the example's errors decide the exit code, as after an endpoint failure
        out, err = capsys.readouterr()
        data = json.loads(out)
        assert any(f["code"] == "FB201" for f in data["findings"])
        assert data["llm"]["status"] == "failed" and "cannot read prompt file" in data["llm"]["message"]
        assert err.startswith("feedback: warning: LLM review not run: ") and err.count("\n") == 1
    (tmp_path / "course" / "g1").mkdir(parents=True)
    (tmp_path / "course" / "g1" / "report.md").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["batch", "course", "--out", "out", "--llm", "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "feedback: warning: LLM review failed: " in err and "cannot read prompt file" in err


def test_user_file_use_cache_is_not_overridden_by_the_flag_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    """`review` passed use_cache=True whenever --no-cache was absent, so the user's `use_cache = false` was lost."""
    monkeypatch.chdir(tmp_path)
    write_user_config("use_cache = false\n")
    seen: list[bool] = []
    from feedback import cli

    def stage(results: Iterable[object], settings: Settings, *_args: object) -> list[object]:
        seen.append(settings.use_cache)
        return list(results)  # the reports, checked as the LLM stage would ask for them

    monkeypatch.setattr(cli, "_llm_stage", stage)
    assert main(["review", str(EXAMPLE), "--exit-zero", "--format", "json"]) == 0
    assert main(["review", str(EXAMPLE), "--exit-zero", "--format", "json", "--no-cache"]) == 0
    write_user_config("use_cache = true\n")
    assert main(["review", str(EXAMPLE), "--exit-zero", "--format", "json"]) == 0
    assert seen == [False, False, True]


def test_an_environment_value_is_not_blamed_on_the_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clean_env: None
) -> None:
    monkeypatch.chdir(tmp_path)
    write_user_config('model = "fine-model"\n')
    monkeypatch.setenv("FEEDBACK_MODEL", "two words")
    assert main(["review", str(EXAMPLE), "--estimate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("feedback: error: invalid model: must be a model name") and "config.toml" not in err
