"""The simulator's command line (a real subprocess) and ``SimThread`` for synchronous callers."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx
import pytest

from autodevai.sim import SimConfig, SimThread
from autodevai.sim.__main__ import main

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is 3*4?"}]}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_its_url_serves_and_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    cmd = [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0", "--seed", "5",
           "--fault", "http_error;status=503;times=1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("AutoDevAI simulator listening on http://127.0.0.1:") and line.endswith("/api/v1")
        base_url = line.rsplit(" ", 1)[1]
        with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer k"}, timeout=10) as c:
            first = c.post("/chat/completions", json=BODY)
            second = c.post("/chat/completions", json=BODY)
            models = c.get("/models")
        assert first.status_code == 503 and second.status_code == 200
        assert "3 × 4 = " in second.json()["choices"][0]["message"]["content"]
        assert len(models.json()["data"]) >= 300
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_cli_rejects_a_bad_fault_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--fault", "explode"]) == 2
    assert "bad fault spec" in capsys.readouterr().err


def test_sim_thread_serves_synchronous_callers_and_stops() -> None:
    with SimThread(SimConfig(latency_scale=0)) as sim:
        assert sim.start() == sim.base_url  # starting twice is harmless
        sim.add_fault({"kind": "http_error", "status": 502, "times": 1})
        with httpx.Client(base_url=sim.base_url, headers={"Authorization": "Bearer k"}) as c:
            codes = [c.post("/chat/completions", json=BODY).status_code for _ in range(2)]
            sim.add_fault({"kind": "rate_limit", "retry_after": 1})
            limited = c.post("/chat/completions", json=BODY)
            sim.clear_faults()
            healed = c.post("/chat/completions", json=BODY)
        stats = sim.stats
        port = sim.port
    assert codes == [502, 200] and limited.status_code == 429 and healed.status_code == 200
    assert stats.total == 4 and stats.by_outcome == {"http_error": 1, "ok": 2, "rate_limit": 1}
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_sim_thread_reports_a_port_it_cannot_bind() -> None:
    with SimThread(SimConfig(latency_scale=0)) as first:
        second = SimThread(SimConfig(latency_scale=0), port=first.port)
        with pytest.raises(RuntimeError, match="could not start"):
            second.start()
        second.stop()
