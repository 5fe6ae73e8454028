"""The issue's bad inputs as a user meets them, through the real engine (and the ``autodevai`` command, which only
maps the engine's typed errors): each is a clear error, nothing is half-saved, and the request is in the history.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autodevai.engine import errors as E
from autodevai.engine.settings import load_settings
from autodevai.engine.types import ChatRequest
from tests.integration.conftest import MINI, MakeEngine


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "0"}
    return subprocess.run(
        [sys.executable, "-m", "autodevai", *args], capture_output=True, text=True, env=env, timeout=60, cwd=cwd
    )


def test_config_set_refuses_inf_and_1e400_and_the_config_stays_usable(tmp_path: Path) -> None:
    assert cli("config", "set", "budget.daily_usd", "2", cwd=tmp_path).returncode == 0
    config = Path(os.environ["AUTODEVAI_CONFIG_DIR"]) / "config.toml"
    before = config.read_bytes()
    for bad in ("inf", "1e400", "nan", "-1"):
        result = cli("config", "set", "budget.daily_usd", bad, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "daily_usd" in result.stderr and "Traceback" not in result.stderr
    assert config.read_bytes() == before
    fixed = cli("config", "set", "budget.daily_usd", "3", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert load_settings(config).budget.daily_usd == 3


def test_invalid_utf8_on_the_command_line_is_a_clear_error_and_is_stored(tmp_path: Path) -> None:
    prompt = b"\xff tell me".decode(sys.getfilesystemencoding(), "surrogateescape")  # what Python makes of argv
    result = cli("run", prompt, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "invalid UTF-8 (the byte 0xff)" in result.stderr and "Traceback" not in result.stderr
    db = Path(os.environ["AUTODEVAI_DATA_DIR"]) / "autodevai.db"
    raw = sqlite3.connect(db)
    try:
        rows = raw.execute("SELECT status, prompt FROM requests").fetchall()
    finally:
        raw.close()
    assert rows == [("InvalidRequest", "\\udcff tell me")]


async def test_a_lone_surrogate_reaching_the_engine_is_refused_and_stored(make_engine: MakeEngine) -> None:
    app = await make_engine()
    with pytest.raises(E.InvalidRequest, match=r"messages\[0\]\.content: a lone UTF-16 surrogate"):
        await app.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is \ud800?", model=MINI))
    history = await app.engine.get_request_history(5)
    assert history[0].status == "InvalidRequest"
    assert history[0].prompt == "What is \\ud800?"
    # A conversation refuses such a message before storing anything.
    conv = await app.engine.conversations.create()
    with pytest.raises(E.InvalidRequest, match="surrogate"):
        async for _ in app.engine.conversations.send(conv.id, "bad \udfff text"):
            pass
    assert (await app.engine.conversations.open(conv.id)).messages == ()


async def test_a_lone_surrogate_in_an_answer_is_stored_escaped(make_engine: MakeEngine, tmp_path: Path) -> None:
    # An upstream may send a JSON escape such as "\\ud800" in its answer; the row is written all the same.
    from autodevai.adapters.sqlite_store import SqliteStore
    from autodevai.engine.ports import RequestRecord

    store = await SqliteStore.open(tmp_path / "answers.db")
    try:
        record = RequestRecord(
            id="r1", ts=1.0, provider="p", model="m", preference="balanced", status="ok", latency_ms=1.0,
            ttft_ms=None, prompt_tokens=1, completion_tokens=1, cost_usd=0.0, answer="broken \ud800 answer",
        )  # fmt: skip
        await store.record_request(record)
        assert (await store.recent_requests(1))[0].answer == "broken \\ud800 answer"
        await store.append_audit("note", {"text": "\udcff"})
        assert await store.verify_audit() == 2
    finally:
        await store.close()
