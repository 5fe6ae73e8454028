"""The `autodevai` command as a new user meets it: one exit code per class of outcome, global options in any
position, verbs that need no model start no simulator, one-off servers named by host, JSON Lines streaming, and
the footer's news (compression, simulated answers). Real processes against the simulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autodevai.sim import SimConfig, SimThread
from tests.integration.test_cli import cli
from tests.integration.test_cli_chat_api import WEATHER_TOOL, png
from tests.integration.test_engine_context import long_prompt

SIMULATOR_BANNER = "built-in simulator"
HOPELESS = "switchpoint/lyra-1-1b-instruct"  # the simulator's least accurate model: wrong on hard arithmetic
HARD_TASK = "What is 9876*5432*1234*4321*777?"  # so hard that every agent answers a different wrong number


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_budget(tmp_path: Path) -> Path:
    return write(tmp_path / "budget.toml", "[budget]\ntotal_usd = 0.0000001\n")


# ---- 1: exit codes by class --------------------------------------------------------------------------------------


def test_exit_1_when_a_swarm_reaches_no_consensus() -> None:
    args = ["swarm", HARD_TASK, "-t", "star", "-n", "4", "-c", "quorum", "-f", "1", "--rounds", "1", "-m", HOPELESS]
    result = cli(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "consensus  quorum: NOT reached" in result.stdout
    data = json.loads(cli(*args, "--json").stdout)
    assert data["ok"] is False and data["consensus"]["reached"] is False


def test_exit_1_when_the_consensus_asked_for_is_never_checked() -> None:
    """A ring refines drafts and never votes: `--consensus quorum` there checks no agreement, so it is not ok."""
    asked = cli("swarm", "What is 2+2?", "-t", "ring", "-n", "4", "-c", "quorum", "-f", "1")
    assert asked.returncode == 1, asked.stderr
    assert "consensus  quorum: NOT applied — the ring topology does not vote" in asked.stderr
    assert cli("swarm", "What is 2+2?", "-t", "ring", "-n", "4").returncode == 0, "no rule asked for: fine"


def test_exit_1_when_a_workflow_step_fails_its_check(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "wf.toml",
        'name = "checked"\ntask = "What is 3*4?"\n[[steps]]\nid = "solve"\nprompt = "{task}"\ncheck = "^never$"\n',
    )
    result = cli("workflow", str(spec))
    assert result.returncode == 1, result.stderr
    assert "does not match the check" in result.stdout


def test_exit_1_when_a_self_test_check_fails(tmp_path: Path) -> None:
    config = write(
        tmp_path / "down.toml",
        f'[[providers]]\nname = "down"\nkind = "openai"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n',
    )
    result = cli("test", "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout and "some checks failed" in result.stdout


def test_exit_2_for_a_capability_the_model_lacks(tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(png(4, 4))
    result = cli("run", "What is this?", "--image", str(image), "-m", "meta-llama/llama-3.1-8b-instruct")
    assert result.returncode == 2, result.stderr
    assert "image input" in result.stderr and "Traceback" not in result.stderr


def test_exit_2_for_a_prompt_too_long_when_compression_is_off(tmp_path: Path) -> None:
    config = write(tmp_path / "off.toml", '[context]\nstrategy = "off"\n')
    result = cli("--config", str(config), "run", "-", "-m", "openai/gpt-4", "--no-fallbacks", stdin=long_prompt())
    assert result.returncode == 2, result.stderr
    assert "8,191-token window" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_exit_3_when_the_budget_refuses_a_named_model(tiny_budget: Path, where: str) -> None:
    config = ["--config", str(tiny_budget)]
    args = (
        [*config, "run", "hi", "-m", "openai/gpt-4o"]
        if where == "before"
        else ["run", "hi", "-m", "openai/gpt-4o", *config]
    )
    result = cli(*args)
    assert result.returncode == 3, result.stderr  # every fallback was refused by the budget too: still budget
    assert "BudgetExceeded" in result.stderr and "total budget" in result.stderr


def test_exit_3_when_no_routed_model_fits_the_budget(tiny_budget: Path) -> None:
    result = cli("--config", str(tiny_budget), "run", "hi")
    assert result.returncode == 3, result.stderr
    assert "budget" in result.stderr


@pytest.mark.parametrize(("status", "code"), [(400, 2), (402, 4), (500, 4)])
def test_provider_errors_exit_by_class(status: int, code: int) -> None:
    faults = [{"kind": "http_error", "status": status}]
    with SimThread(SimConfig(latency_scale=0, faults=faults)) as sim:  # type: ignore[arg-type]  # validated
        result = cli(
            "run", "hi", "-m", "openai/gpt-4o", "--no-fallbacks",
            "--base-url", sim.base_url, "--kind", "openrouter", "--api-key-env", "SIM_KEY",
            env={"SIM_KEY": "any-key"},
        )  # fmt: skip
    assert result.returncode == code, result.stderr
    assert f"127-0-0-1-{sim.port}" in result.stderr, "the error names the server"


def test_exit_5_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    blocker = write(tmp_path / "a-file", "not a directory")
    result = cli("metrics", env={"AUTODEVAI_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 5, result.stderr
    assert "data directory" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_exit_130_when_cancelled_with_ctrl_c() -> None:
    env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "50"}  # seconds before the first token
    cmd = [sys.executable, "-m", "autodevai", "run", "Write a long essay about ships", "--max-tokens", "2000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        assert SIMULATOR_BANNER in proc.stderr.readline()  # the engine is up; the request is on its way
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err


# ---- 2: global options in any position ----------------------------------------------------------------------------


def test_json_before_and_after_the_verb_give_the_same_document() -> None:
    before, after = cli("--json", "status"), cli("status", "--json")
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout).keys() == json.loads(after.stdout).keys()
    paths = [cli(*argv).stdout for argv in (["--json", "config", "path"], ["config", "path", "--json"])]
    assert json.loads(paths[0]) == json.loads(paths[1])


def test_config_before_and_after_the_verb(tmp_path: Path) -> None:
    config = write(tmp_path / "mine.toml", "[budget]\ndaily_usd = 7.5\n")
    for argv in (["--config", str(config), "config", "show", "--json"], ["config", "show", "--config", str(config)]):
        result = cli(*argv)
        assert result.returncode == 0, result.stderr
        assert "7.5" in result.stdout


# ---- 3: verbs that need no model start no simulator ---------------------------------------------------------------

# A latency scale that is not a number breaks the simulator's start: any verb that starts it fails at once.
NO_SIMULATOR = {"AUTODEVAI_SIM_LATENCY_SCALE": "not-a-number"}


def test_the_simulator_trap_works() -> None:
    assert cli("status", env=NO_SIMULATOR).returncode != 0


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "show"],
        ["config", "path"],
        ["config", "set", "budget.daily_usd", "3"],
        ["gateway", "token"],
        ["metrics"],
        ["models", "--help"],
    ],
)
def test_verbs_that_need_no_model_start_no_simulator(argv: list[str]) -> None:
    result = cli(*argv, env=NO_SIMULATOR)
    assert result.returncode == 0, result.stderr
    assert SIMULATOR_BANNER not in result.stderr


def test_context_starts_no_simulator_yet_knows_the_window(tmp_path: Path) -> None:
    source = write(tmp_path / "notes.txt", long_prompt(60))
    started = time.monotonic()
    result = cli("context", str(source), "--model", "openai/gpt-4o", env=NO_SIMULATOR)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert SIMULATOR_BANNER not in result.stderr and result.stderr == ""
    assert "of a 128K window" in result.stdout and "(exact)" in result.stdout
    fitted = cli("context", str(source), "-m", "openai/gpt-4", "--strategy", "auto", "--json", env=NO_SIMULATOR)
    assert fitted.returncode == 0, fitted.stderr
    report = json.loads(fitted.stdout)["fit"]
    assert report["budget"] == 8_191 - 512 and report["tokens_after"] <= report["budget"]
    assert elapsed < 30  # a generous bound: the point is that nothing waits for a server


# ---- 4: one-off providers are named by host ------------------------------------------------------------------------


def test_a_base_url_that_is_down_is_named_by_its_host() -> None:
    port = closed_port()
    result = cli("run", "hi", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert result.returncode == 4, result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert f"127-0-0-1-{port}" in error and f"http://127.0.0.1:{port}/v1" in error
    assert "cli" not in error.split() and SIMULATOR_BANNER not in result.stderr


# ---- 5: run --stream --json is JSON Lines --------------------------------------------------------------------------


def test_stream_json_is_json_lines_ending_with_the_run_json_object() -> None:
    streamed = cli("run", "Is 91 a prime number?", "--reasoning", "high", "--stream", "--json")
    assert streamed.returncode == 0, streamed.stderr
    events = [json.loads(line) for line in streamed.stdout.splitlines()]  # every line parses on its own
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "response" and kinds.count("response") == 1
    assert {"model", "reasoning", "delta"} <= set(kinds)
    assert kinds.index("model") < kinds.index("delta")
    last = events[-1]
    assert "".join(e["text"] for e in events if e["type"] == "delta") == last["content"]
    assert "".join(e["text"] for e in events if e["type"] == "reasoning") == last["reasoning"]
    whole = cli("run", "Is 91 a prime number?", "--reasoning", "high", "--json")
    assert whole.returncode == 0, whole.stderr
    document = json.loads(whole.stdout)  # plain --json stays one document
    assert set(last) - {"type"} == set(document)
    assert "reasoning:" not in streamed.stderr, "reasoning is in the JSON Lines, not on stderr"


def test_stream_json_carries_tool_call_pieces(tmp_path: Path) -> None:
    tools = write(tmp_path / "tools.json", json.dumps([WEATHER_TOOL]))
    result = cli(
        "run", "What is the weather in Paris?", "--tools", str(tools), "--tool-choice", "required", "--stream", "--json"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    pieces = [e for e in events if e["type"] == "tool_call"]
    final = events[-1]["tool_calls"]
    assert pieces and final
    joined: dict[int, str] = {}
    for piece in pieces:
        joined[piece["index"]] = joined.get(piece["index"], "") + piece["arguments"]
    assert [joined[i] for i in sorted(joined)] == [call["arguments"] for call in final]
    assert any(p.get("name") == "get_weather" for p in pieces)


# ---- 6: the footer says what happened -------------------------------------------------------------------------------


def test_footer_announces_compression_and_simulated_answers() -> None:
    result = cli("run", "-", "-m", "openai/gpt-4", "--no-fallbacks", "--max-tokens", "256", stdin=long_prompt())
    assert result.returncode == 0, result.stderr
    assert "model openai/gpt-4 (simulated) via sim" in result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("prompt compressed"))
    before, after = (int(n.replace(",", "")) for n in line.split()[2:5:2])
    assert before > 8_191 > after, line
    assert "quality" in line


def test_footer_of_a_real_server_is_not_marked_simulated() -> None:
    from tests.fakes.openai_server import OpenAIServer

    with OpenAIServer() as server:
        result = cli("run", "--base-url", server.base_url, "--model", "local-qwen-7b", "hello")
        port = server.base_url.split(":")[2].split("/")[0]
    assert result.returncode == 0, result.stderr
    assert f"model local-qwen-7b via 127-0-0-1-{port}" in result.stderr
    assert "simulated" not in result.stderr
    assert "cost unknown" in result.stderr and "cost $0" not in result.stderr  # it lists no price, reports no cost


# ---- 7: routing scores --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("preference", "unit"), [("cost", "expected cost: "), ("speed", "expected latency: ")])
def test_route_explains_scores_in_their_unit_and_never_as_negative_zero(preference: str, unit: str) -> None:
    result = cli("route", "Summarize this", "-p", preference, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"  top {unit}" in result.stdout
    assert "-0.000" not in result.stdout and " -0" not in result.stdout


def test_free_models_cost_zero_not_negative_zero(tmp_path: Path) -> None:
    config = write(tmp_path / "free.toml", "[routing]\nallow_free = true\n")  # routing negates a $0 cost: -0.0
    text = cli("--config", str(config), "route", "Summarize this", "-p", "cost", "--dry-run")
    assert text.returncode == 0, text.stderr
    assert ":free $0," in text.stdout and "-0" not in text.stdout
    data = cli("--config", str(config), "route", "Summarize this", "-p", "cost", "--dry-run", "--json")
    assert json.loads(data.stdout)["scores"][0][1] == 0 and "-0.0" not in data.stdout


# ---- gateway token without a keyring ----------------------------------------------------------------------------


def _token_file() -> Path:
    return Path(os.environ["AUTODEVAI_CONFIG_DIR"]) / "gateway-token"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_gateway_token_without_a_keyring_is_kept_in_a_private_file() -> None:
    first = cli("gateway", "token")  # the tests' environment has no keyring (keyring.backends.fail)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert len(token) >= 40 and SIMULATOR_BANNER not in first.stderr
    path = _token_file()
    assert path.read_text().strip() == token and (path.stat().st_mode & 0o777) == 0o600
    again = cli("gateway", "token", "--json")
    assert json.loads(again.stdout) == {"token": token}, "reused, not regenerated"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_gateway_token_refuses_a_file_others_can_read_and_the_env_var_wins() -> None:
    path = _token_file()
    path.parent.mkdir(parents=True)
    path.write_text("shared-with-everyone-token\n")
    path.chmod(0o644)
    refused = cli("gateway", "token")
    assert refused.returncode == 2, refused.stderr
    assert f"chmod 600 {path}" in refused.stderr and "shared-with-everyone-token" not in refused.stderr
    chosen = cli("gateway", "token", env={"AUTODEVAI_GATEWAY_TOKEN": "token-from-the-environment"})
    assert chosen.returncode == 0 and chosen.stdout.strip() == "token-from-the-environment"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_serve_works_out_of_the_box_without_a_keyring() -> None:
    import httpx

    env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "0"}
    cmd = [sys.executable, "-m", "autodevai", "serve", "--port", "0", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        token = _token_file().read_text().strip()
        with httpx.Client(base_url=started["base_url"], timeout=10, trust_env=False) as client:
            denied = client.get("models")
            listed = client.get("models", headers={"Authorization": f"Bearer {token}"})
        assert denied.status_code == 401
        assert listed.status_code == 200 and len(listed.json()["data"]) >= 300
        assert cli("gateway", "token").stdout.strip() == token, "the CLI prints the token the gateway uses"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
