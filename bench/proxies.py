"""Processes for bench/gateway.py: start and stop servers, pin them to cores, count their CPU, and LiteLLM's proxy
in its own venv (installed on first use; skipped with a reason when it cannot be).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LITELLM_KEY = "sk-bench-litellm-0123456789"  # LiteLLM wants master keys to start with "sk-"
LITELLM_SPEC = "litellm[proxy]>=1.60"
URL_RE = re.compile(r"http://\S+?/(?:api/)?v1")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never via a proxy


def start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start ``cmd`` and return it with the first base URL it prints on stdout."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = URL_RE.search(line)
        if found:
            return proc, found.group(0)
    stop(proc)
    raise SystemExit(f"{cmd[2:4]} did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def pin(pid: int, cores: list[int]) -> None:
    """Keep ``pid`` (and the threads it starts later) on ``cores``; nothing when pinning is unavailable."""
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, set(cores))


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process and all its descendants (Linux /proc; 0 elsewhere or for None)."""
    if pid is None:
        return 0.0
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit() and (fields := _stat(int(entry))):
            parents[int(entry)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(kids)
        frontier += kids
    total = 0
    for member in tree:
        if fields := _stat(member):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def usable_litellm(venv: Path) -> tuple[Path | None, str | None]:
    """The ``litellm`` executable in ``venv``, installing it there first if needed; else None and why."""
    exe = venv / ("Scripts" if os.name == "nt" else "bin") / "litellm"
    if exe.exists():
        return exe, None
    print(f"installing {LITELLM_SPEC} into {venv} (once; takes a minute or two) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        pip = [str(venv / ("Scripts" if os.name == "nt" else "bin") / "python"), "-m", "pip", "install", "-q"]
        done = subprocess.run([*pip, LITELLM_SPEC], capture_output=True, text=True, timeout=1200, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not make a venv for LiteLLM: {exc}"
    if done.returncode != 0 or not exe.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"LiteLLM could not be installed ({last[:200]})"
    return exe, None


def start_litellm(exe: Path, tmp: Path, sim_url: str, key: str, model: str, port: int) -> subprocess.Popen[str]:
    """LiteLLM's proxy, one worker, offline, serving ``model`` from the simulator; ready when this returns."""
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {sim_url}\n"
        f"      api_key: {key}\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price map
        "LITELLM_LOG": "ERROR",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    cmd = [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    log = (tmp / "litellm.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"LiteLLM exited with {proc.returncode}; see {tmp / 'litellm.log'}")
        try:
            with _DIRECT.open(f"http://127.0.0.1:{port}/health/liveliness", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError("LiteLLM did not start within 180 s")
