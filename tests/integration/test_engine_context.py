"""Context fitting through the whole engine, against the simulator (which answers 400 to a prompt that does not
fit the model's window, as OpenRouter does): compress into a small window, route to a larger one, or refuse."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken

from autodevai.adapters.migrations import MIGRATIONS
from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.engine import errors as E
from autodevai.engine.types import ChatRequest
from autodevai.sim.server import SimServer

from .conftest import MakeEngine

SMALL = "openai/gpt-4"  # an 8,191-token window, and its exact tokenizer (cl100k_base) is shipped
TOPICS = ["harbor logistics", "orchard irrigation", "railway signalling", "glacier surveys", "opera staging"]


def long_prompt(paragraphs: int = 180) -> str:
    """~100 tokens per paragraph, one planted fact, and the question about it last."""
    parts = []
    for i in range(paragraphs):
        topic = TOPICS[i % len(TOPICS)]
        parts.append(
            f"Section {i} covers {topic}. The team reviewed schedules, budgets and staffing for the quarter, "
            f"compared notes with partner sites, and agreed to revisit the {topic} plan after the next audit. "
            "Minutes were circulated to everyone who attended, and the open questions were assigned owners."
        )
    parts.insert(57, "The access code for the Orion archive is 7341.")
    parts.append("Question: what is the access code for the Orion archive?")
    return "\n\n".join(parts)


async def test_a_prompt_too_long_for_the_model_is_compressed_into_its_window(
    sim: SimServer, make_engine: MakeEngine
) -> None:
    app = await make_engine(context={"overflow": "compress", "strategy": "auto"})
    prompt = long_prompt()
    assert len(tiktoken.get_encoding("cl100k_base").encode_ordinary(prompt)) > 9_000
    response = await app.engine.execute_enhanced_ai_request(
        ChatRequest.from_prompt(prompt, model=SMALL, fallbacks=[], max_tokens=256)
    )
    report = response.compression
    assert report is not None and report.tokens_before > 9_000
    assert report.tokens_after <= 8_191 - 256
    assert 0 < report.ratio < 1 and report.quality > 0.9
    assert response.model == SMALL  # the simulator accepted it: it fits the window
    rows = await app.engine.get_request_history(1)
    assert rows[0].compression and rows[0].compression["tokens_after"] == report.tokens_after
    assert rows[0].prompt == prompt, "history keeps the prompt as the user wrote it"


async def test_routing_prefers_a_larger_window_over_compressing(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()  # overflow = "larger-model" by default
    response = await app.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(long_prompt(), max_tokens=256))
    assert response.compression is None
    info = app.engine.find_model(response.model)
    assert info is not None and info.context_length > 10_000


async def test_compression_off_refuses_before_sending(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine(context={"strategy": "off"})
    before = sim.stats.total
    with pytest.raises(E.ContextTooLong) as info:
        await app.engine.execute_enhanced_ai_request(
            ChatRequest.from_prompt(long_prompt(), model=SMALL, fallbacks=[], max_tokens=256)
        )
    assert sim.stats.total == before
    assert "8,191" in str(info.value)


async def test_exact_counts_and_fit_through_the_engine(make_engine: MakeEngine) -> None:
    app = await make_engine()
    prompt = long_prompt(40)
    request = ChatRequest.from_prompt(prompt)
    count = await app.engine.count_tokens(request.messages, "openai/gpt-4o")
    assert count.exact and count.encoding == "o200k_base"
    assert count.per_message[0] == len(tiktoken.get_encoding("o200k_base").encode_ordinary(prompt))
    assert count.window_share is not None and 0 < count.window_share < 1
    fitted, report = await app.engine.fit_context(request.messages, model="openai/gpt-4o", budget=1_000)
    assert report.tokens_after <= 1_000 and "7341" in fitted[-1].content + "".join(m.content for m in fitted)
    with pytest.raises(E.InvalidRequest):
        await app.engine.fit_context(request.messages, budget=500, strategy="shrink-ray")


async def test_a_v1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute("INSERT INTO schema_version VALUES (1)")
    raw.execute(
        "INSERT INTO requests VALUES ('old', 1.0, 'sim', 'm', 'balanced', 'ok', 1, NULL, 1, 1, 0, 'p', 'a', '[]', "
        "NULL, 0)"
    )
    raw.close()
    store = await SqliteStore.open(path)
    try:
        [row] = await store.recent_requests(5)
        assert row.id == "old" and row.compression is None
    finally:
        await store.close()


def test_cli_context_counts_and_fits(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text(long_prompt(60), encoding="utf-8")
    out = tmp_path / "fitted.txt"
    env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "autodevai", "context", str(source), "--model", "openai/gpt-4o", "--fit", "2000",
         "--query", "Orion archive access code", "-o", str(out), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    expected = len(tiktoken.get_encoding("o200k_base").encode_ordinary(source.read_text()))
    assert data["count"]["per_message"] == [expected]
    assert data["fit"]["tokens_after"] <= 2000 and data["fit"]["quality"] > 0.5
    assert "7341" in out.read_text()
    table = subprocess.run(
        [sys.executable, "-m", "autodevai", "context", str(source), "--model", "openai/gpt-4o"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert table.returncode == 0 and "exact" in table.stdout and "window" in table.stdout
