"""`autodevai run --hedge` as a user runs it: real processes against a simulator on 127.0.0.1 whose first model
answers late once. The answer's JSON says it was hedged and what the loser cost, the footer says so in words, and
`autodevai metrics` — a later process — counts the hedge from the store."""

from __future__ import annotations

import json
import urllib.request

from autodevai.sim import SimConfig, SimThread
from tests.integration.conftest import CHEAP, MINI
from tests.integration.test_cli import cli

SLOW_S = 3.0


def _late_once(sim: SimThread) -> None:
    """The simulator's first model answers ``SLOW_S`` late, once (its admin route, over HTTP)."""
    rule = {"kind": "slow_first_byte", "model": MINI, "delay_s": SLOW_S, "times": 1}
    request = urllib.request.Request(
        f"{sim.base_url.removesuffix('/api/v1')}/_sim/faults",
        data=json.dumps({"rules": [rule]}).encode(),
        headers={"content-type": "application/json", "x-sim-admin-token": sim.server.admin_token},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert rule in [{k: r[k] for k in rule} for r in json.loads(reply.read())["rules"]]


def test_run_hedge_reports_the_hedge_in_json_footer_and_metrics() -> None:
    with SimThread(SimConfig(latency_scale=0, seed=3)) as sim:
        upstream = ["--base-url", sim.base_url, "--kind", "openrouter", "--api-key-env", "SIM_KEY"]
        env = {"SIM_KEY": "any-key"}
        ask = ["-m", MINI, "--fallback", CHEAP, "--max-tokens", "16", *upstream]
        warm = cli("run", "What is 1+1?", "-m", MINI, "--no-fallbacks", *upstream, env=env)
        assert warm.returncode == 0, warm.stderr  # the model's measured latency: hedging waits for its p95

        _late_once(sim)
        hedged = cli("run", "What is 6*7?", "--hedge", "--json", *ask, env=env)
        assert hedged.returncode == 0, hedged.stderr
        data = json.loads(hedged.stdout)
        assert data["hedged"] is True and data["model"] == CHEAP
        assert data["hedge_cost_usd"] == 0.0  # the late call was cancelled before it was billed
        assert [a["outcome"] for a in data["attempts"]] == ["hedged", "ok"]

        _late_once(sim)
        footer = cli("run", "What is 6*7?", "--hedge", *ask, env=env).stderr
        assert f"hedged: a second model was started because the first token was late; {CHEAP} answered first" in (
            footer
        ), footer
        assert "fallbacks:" not in footer

        plain = cli("run", "What is 2+2?", "--no-hedge", "--json", "-m", CHEAP, *upstream, env=env)
        assert json.loads(plain.stdout)["hedged"] is False

    metrics = cli("metrics", "--json")
    assert metrics.returncode == 0, metrics.stderr
    summary = json.loads(metrics.stdout)
    assert summary["overall"]["count"] == 4 and summary["overall"]["hedged"] == 2
    table = cli("metrics").stdout
    assert "hedged" in table.splitlines()[1], table
