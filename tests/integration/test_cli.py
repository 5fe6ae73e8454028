"""The `autodevai` command as a user runs it: real processes, the auto-started simulator, exit codes, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import Handler, OpenAIServer


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "0", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "autodevai", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=60,
    )


def test_run_answers_through_the_auto_started_simulator() -> None:
    result = cli("run", "What is 17*23?")
    assert result.returncode == 0, result.stderr
    assert "built-in simulator" in result.stderr
    assert "17 × 23 =" in result.stdout
    footer = result.stderr
    for word in ("model ", "tokens ", "cost ", "latency "):
        assert word in footer, footer


def test_run_json_has_model_tokens_cost_latency() -> None:
    result = cli("run", "What is 6*7?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] and data["usage"]["total_tokens"] > 0
    assert data["latency_ms"] > 0 and "cost_usd" in data
    assert data["route"]["reasons"]


def test_models_json_lists_at_least_300_with_prices_and_context() -> None:
    result = cli("models", "--json")
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)
    assert len(models) >= 300
    gpt = next(m for m in models if m["id"] == "openai/gpt-4o")
    assert gpt["context_length"] == 128_000
    assert gpt["price_in"] == pytest.approx(2.5e-6) and gpt["price_out"] == pytest.approx(1e-5)


def test_metrics_status_and_selftest_after_runs() -> None:
    for i in range(3):
        assert cli("run", f"What is {i}+{i}?", "-p", "cost").returncode == 0
    metrics = cli("metrics", "--json")
    assert metrics.returncode == 0, metrics.stderr
    overall = json.loads(metrics.stdout)["overall"]
    assert overall["count"] == 3
    assert overall["latency_p50_ms"] is not None and overall["latency_p99_ms"] is not None
    table = cli("metrics").stdout
    assert "p50" in table and "p95" in table and "p99" in table
    status = cli("status")
    assert status.returncode == 0 and "breakers" in status.stdout and "budget" in status.stdout
    test = cli("test")
    assert test.returncode == 0, test.stdout + test.stderr
    assert "round trip" in test.stdout and "all checks passed" in test.stdout


def test_route_dry_run_explains_without_sending() -> None:
    result = cli("route", "Summarize this", "-p", "quality", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["preference"] == "quality" and decision["reasons"]


def test_workflow_and_capabilities_and_advise() -> None:
    wf = cli("workflow", "Design and compare two caching strategies for an API gateway, with trade-offs.", "--json")
    assert wf.returncode == 0, wf.stderr
    steps = json.loads(wf.stdout)["steps"]
    assert [s["id"] for s in steps] == ["analyse", "solve", "review"]
    assert all(s["status"] == "ok" for s in steps)
    caps = cli("capabilities", "--json")
    assert json.loads(caps.stdout)["models"] >= 300
    assert cli("advise").returncode == 0


def test_workflow_file(tmp_path: Path) -> None:
    spec = tmp_path / "wf.toml"
    spec.write_text(
        'name = "two-step"\ntask = "What is 3*4?"\n'
        '[[steps]]\nid = "solve"\nprompt = "{task}"\n'
        '[[steps]]\nid = "check"\nprompt = "Check this answer: {steps.solve}"\npreference = "cost"\n'
    )
    result = cli("workflow", str(spec), "--json")
    assert result.returncode == 0, result.stderr
    assert [s["status"] for s in json.loads(result.stdout)["steps"]] == ["ok", "ok"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[steps]]\nid = "a"\nprompt = "{steps.b}"\n')
    result = cli("workflow", str(bad))
    assert result.returncode == 2 and "before that step runs" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", ""], "empty"),
        (["run", "   "], "empty"),
        (["run", "hi", "--max-tokens", "-5"], "max_tokens"),
        (["run", "hi", "--model", "openai/gpt-4o-minii"], "did you mean"),
        (["metrics", "--window", "7d"], "1m"),
        (["run", "hi", "--base-url", "ftp://x"], "base-url"),
    ],
)
def test_bad_input_gets_clear_error_and_nonzero_exit(args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert needle in result.stderr.lower() or needle in result.stderr
    assert "Traceback" not in result.stderr


def test_huge_prompt_is_refused(tmp_path: Path) -> None:
    result = cli("run", "-", stdin="x" * 4_000_001)
    assert result.returncode == 2 and "limit" in result.stderr


def test_config_validation_leaves_file_untouched(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert cli("--config", str(config), "config", "set", "budget.daily_usd", "2.5").returncode == 0
    before = config.read_text()
    assert "daily_usd = 2.5" in before
    for key, value, needle in [
        ("budget.daily_usd", "-1", "greater than or equal to 0"),
        ("budget.daly_usd", "1", "did you mean 'daily_usd'"),
        ("routing.default_preference", "cheap", "cost"),
    ]:
        result = cli("--config", str(config), "config", "set", key, value)
        assert result.returncode == 2, result.stderr
        assert needle in result.stderr
        assert config.read_text() == before, "a refused change must not touch the file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".config-")], "no temp files left"


def test_invalid_config_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[budget]\ndaily_usd = 'lots'\n")
    result = cli("--config", str(config), "run", "hi")
    assert result.returncode == 2
    assert "budget.daily_usd" in result.stderr and "Traceback" not in result.stderr
    config.write_text("[budget\n")
    result = cli("--config", str(config), "status")
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_key_goes_to_keyring_not_to_files(tmp_path: Path) -> None:
    # A subprocess cannot see the test's in-memory keyring; with no OS keyring the CLI must refuse clearly.
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = cli("config", "key", "openrouter", stdin="sk-or-v1-" + "ab" * 32 + "\n", env=env)
    assert result.returncode == 2
    assert "OPENROUTER_API_KEY" in result.stderr
    assert "ab" * 32 not in result.stderr + result.stdout
    data_dirs = [Path(os.environ["AUTODEVAI_CONFIG_DIR"]), Path(os.environ["AUTODEVAI_DATA_DIR"])]
    for root in data_dirs:
        for path in root.rglob("*") if root.exists() else []:
            assert b"ab" * 32 not in path.read_bytes()


def test_external_openai_compatible_server_for_one_call() -> None:
    with OpenAIServer() as server:
        models = cli("models", "--base-url", server.base_url, "--json")
        assert models.returncode == 0, models.stderr
        assert {m["id"] for m in json.loads(models.stdout)} == {"local-llama-3-8b", "local-qwen-7b"}
        result = cli("run", "--base-url", server.base_url, "--model", "local-qwen-7b", "hello there")
        assert result.returncode == 0, result.stderr
        assert "echo: hello there" in result.stdout
        assert "local-qwen-7b" in result.stderr
        assert "simulator" not in result.stderr
        # OpenRouter-only fields never reach a plain OpenAI server (it would answer 400)
        assert all(set(body) <= {"model", "messages", "max_tokens", "stream"} for body in Handler.seen)


def test_external_openai_compatible_server_from_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    with OpenAIServer() as server:
        config.write_text(
            # the server lists no prices: routing picks its models only when unknown prices are allowed
            f'[routing]\nallow_unknown_price = true\n[[providers]]\nname = "local"\nkind = "openai"\n'
            f'base_url = "{server.base_url}"\n'
        )
        result = cli("--config", str(config), "run", "ping", "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["provider"] == "local" and data["content"] == "echo: ping"
        assert "simulator" not in result.stderr


def test_no_arguments_without_a_display_prints_help() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "autodevai"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0 and "usage: autodevai" in result.stdout
    assert "No display" in result.stderr


def test_no_arguments_opens_the_window() -> None:
    result = cli(env={"QT_QPA_PLATFORM": "offscreen", "AUTODEVAI_GUI_SMOKE": "1"})
    assert result.returncode == 0, result.stderr
    assert "window shown" in result.stdout and "engine ready" in result.stdout
