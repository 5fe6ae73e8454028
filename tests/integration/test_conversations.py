"""Conversations through the engine over the simulator: history kept across turns, long threads fitted into the
window, branches from edits and regenerations surviving a restart, full-text search, export/import, compare and
the pick the router learns from, and the store migration."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from autodevai.compose import open_engine
from autodevai.engine import errors as E
from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Preset
from autodevai.engine.settings import parse_settings
from autodevai.sim.server import SimServer

from .conftest import SIM_KEY, MakeEngine

SMART = "openai/gpt-4o"
SMALL_WINDOW = "openai/gpt-4"  # 8,191 tokens


async def turn(engine: Any, cid: str, content: Any, **kw: Any) -> ChatTurn:
    last = None
    async for item in engine.conversations.send(cid, content, **kw):
        last = item
    assert isinstance(last, ChatTurn)
    return last


async def test_a_thread_keeps_its_history(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create(preset=Preset(model=SMART))
    first = await turn(app.engine, conv.id, "What is 12*12?")
    assert "144" in first.answer.text
    second = await turn(app.engine, conv.id, "multiply that by 2")
    assert "288" in second.answer.text  # the follow-up saw the earlier answer
    thread = await app.engine.conversations.open(conv.id)
    assert [m.role for m in thread.messages] == ["user", "assistant", "user", "assistant"]
    assert thread.conversation.title == "What is 12*12?" and thread.conversation.message_count == 4
    assert thread.conversation.cost_usd == pytest.approx(first.answer.cost_usd + second.answer.cost_usd)


async def test_a_thread_larger_than_the_window_still_answers_and_says_how(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create(preset=Preset(model=SMALL_WINDOW, max_tokens=200))
    facts = " ".join(f"Fact {i}: the blue pump runs at {i * 3} litres per minute." for i in range(120))
    for i in range(6):
        await turn(app.engine, conv.id, f"Note {i}: {facts}")
    last = await turn(app.engine, conv.id, "What is 12*12?")
    assert last.fit.how in ("compressed", "left out", "compressed whole") and last.fit.tokens <= 8191
    assert "of 8.2K" in last.fit.describe() or "of 8191" in last.fit.describe()
    assert last.answer.extra["fit"] == last.fit.describe()  # stored with the answer
    assert "144" in last.answer.text


async def test_branches_survive_a_restart(
    make_engine: MakeEngine, sim: SimServer, tmp_path: Path, memory_keyring: Any
) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create(preset=Preset(model=SMART))
    first = await turn(app.engine, conv.id, "What is 7*8?")
    async for _ in app.engine.conversations.regenerate(conv.id, first.answer.id, model="openai/gpt-4o-mini"):
        pass
    async for _ in app.engine.conversations.edit(conv.id, first.user.id, "What is 9*9?"):
        pass
    await app.aclose()
    data = {"providers": [{"name": "sim", "kind": "openrouter", "base_url": sim.base_url, "attribution": False}]}
    memory_keyring.set_password("autodevai", "sim", SIM_KEY)
    again = await open_engine(
        tmp_path / "config.toml", settings=parse_settings(data), refresh="wait", rng=random.Random(7),
        db_path=tmp_path / "engine.db", trust_env=False,
    )  # fmt: skip
    try:
        thread = await again.engine.conversations.open(conv.id)
        assert "81" in thread.messages[-1].text  # the edit is the current branch
        assert thread.branch_of(thread.messages[0].id) == (2, 2)  # two versions of the first message
        back = await again.engine.conversations.switch(conv.id, first.user.id)
        assert back.branch_of(back.messages[1].id) == (2, 2)  # the regenerated answer is the newest of two
        assert back.messages[1].model == "openai/gpt-4o-mini"
    finally:
        await again.aclose()


async def test_search_finds_a_word_from_an_old_message(make_engine: MakeEngine) -> None:
    app = await make_engine()
    old = await app.engine.conversations.create()
    await turn(app.engine, old.id, "Remember the word zanzibar for later, please.")
    other = await app.engine.conversations.create()
    await turn(app.engine, other.id, "What is the capital of France?")
    hits = await app.engine.conversations.search("zanzib")
    assert [h.conversation_id for h in hits] == [old.id] and "[zanzibar]" in hits[0].snippet
    await app.engine.conversations.delete(old.id)
    assert await app.engine.conversations.search("zanzibar") == []  # deleted conversations are not searched
    await app.engine.conversations.restore(old.id)
    assert len(await app.engine.conversations.search("zanzibar")) == 1


async def test_export_then_import_round_trips(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create(preset=Preset(system="Be brief.", model=SMART))
    await turn(app.engine, conv.id, "What is 12*12?")
    await turn(app.engine, conv.id, "multiply that by 2")
    exported = await app.engine.conversations.export(conv.id, "json")
    copy = await app.engine.conversations.import_json(exported)
    original, imported = await app.engine.conversations.open(conv.id), await app.engine.conversations.open(copy.id)
    assert [(m.role, m.text) for m in imported.messages] == [(m.role, m.text) for m in original.messages]
    assert imported.conversation.preset.system == "Be brief."
    assert (
        json.loads(await app.engine.conversations.export(copy.id, "json"))["messages"]
        == json.loads(exported)["messages"]
    )
    markdown = await app.engine.conversations.export(conv.id, "markdown")
    assert "## You" in markdown and "288" in markdown


async def test_compare_stores_each_answer_and_the_pick_is_learned(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create()
    results = [r async for r in app.engine.conversations.compare(conv.id, "What is 17*23?", [SMART, "cheapest"])]
    turns = {i: r for i, r in results}
    assert sorted(turns) == [0, 1] and all(isinstance(t, ChatTurn) for t in turns.values())
    a, b = turns[0], turns[1]
    assert isinstance(a, ChatTurn) and isinstance(b, ChatTurn)
    assert a.answer.model == SMART and a.answer.parent_id == b.answer.parent_id
    thread = await app.engine.conversations.pick(conv.id, b.answer.id)
    assert thread.messages[-1].id == b.answer.id and thread.branch_of(b.answer.id)[1] == 2
    learned = {(tc, m): (s, f) for tc, m, s, f, _, _ in await app.engine.get_learned_outcomes()}
    assert learned[("chat:simple", b.answer.model)][0] >= 1 and learned[("chat:simple", SMART)][1] >= 1


async def test_summaries_are_made_once_and_reused(make_engine: MakeEngine) -> None:
    app = await make_engine(conversations={"summarize": True})
    conv = await app.engine.conversations.create(preset=Preset(model=SMALL_WINDOW, max_tokens=200))
    facts = " ".join(f"Fact {i}: the red valve opens at {i * 7} bar." for i in range(150))
    for i in range(5):
        await turn(app.engine, conv.id, f"Log {i}: {facts}")
    last = await turn(app.engine, conv.id, "What is 3*3?")
    assert last.fit.how == "summarised"
    messages = await app.engine.get_request_history(50)
    summaries = [r for r in messages if r.task_class == "chat:summary"]
    assert 1 <= len(summaries) <= 5  # one per stretch of turns that aged out, never one per turn
    await turn(app.engine, conv.id, "What is 4*4?")
    again = [r for r in await app.engine.get_request_history(60) if r.task_class == "chat:summary"]
    assert len(again) <= len(summaries) + 1


async def test_bad_input_is_refused(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create()
    with pytest.raises(E.InvalidRequest):
        await turn(app.engine, conv.id, "   ")
    with pytest.raises(E.InvalidRequest):
        await app.engine.conversations.open("nope")
    with pytest.raises(E.InvalidRequest):
        await app.engine.conversations.import_json("{")


async def test_a_v4_database_migrates_and_keeps_every_request(tmp_path: Path) -> None:
    from autodevai.adapters.migrations import MIGRATIONS
    from autodevai.adapters.sqlite_store import SqliteStore

    db = tmp_path / "old.db"
    with sqlite3.connect(db, isolation_level=None) as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for step in MIGRATIONS[:4]:
            for statement in step:
                raw.execute(statement)
        raw.execute("INSERT INTO schema_version VALUES (4)")
        raw.execute(
            "INSERT INTO requests (id, ts, provider, model, preference, status, latency_ms, ttft_ms, prompt_tokens, "
            "completion_tokens, cost_usd, prompt, answer, attempts, task_class, stream) "
            "VALUES ('r1', 1.0, 'sim', 'm', 'cost', 'ok', 1, NULL, 1, 1, 0.5, 'p', 'a', '[]', NULL, 0)"
        )
    raw.close()
    store = await SqliteStore.open(db)
    try:
        assert [r.id for r in await store.recent_requests(5)] == ["r1"]
        assert await store.conversations.listing() == []
    finally:
        await store.close()


async def test_changes_to_an_unknown_conversation_and_bad_options_are_typed_errors(make_engine: MakeEngine) -> None:
    app = await make_engine()
    for call in (
        app.engine.conversations.rename("nope", "x"),
        app.engine.conversations.pin("nope"),
        app.engine.conversations.delete("nope"),
        app.engine.conversations.restore("nope"),
        app.engine.conversations.purge("nope"),
    ):
        with pytest.raises(E.InvalidRequest):
            await call
    conv = await app.engine.conversations.create()
    with pytest.raises(E.InvalidRequest, match="temperature"):
        await turn(app.engine, conv.id, "hi", temperature=5)


async def test_compare_aliases_route_even_when_the_conversation_pins_a_model(make_engine: MakeEngine) -> None:
    app = await make_engine()
    conv = await app.engine.conversations.create(preset=Preset(model=SMART))
    results = dict([r async for r in app.engine.conversations.compare(conv.id, "What is 2+2?", [SMART, "cheapest"])])
    cheapest = results[1]
    assert isinstance(cheapest, ChatTurn) and cheapest.answer.model != SMART


async def test_a_message_after_an_unanswered_one_takes_its_place(make_engine: MakeEngine, sim: SimServer) -> None:
    app = await make_engine(resilience={"retries_per_model": 0})
    conv = await app.engine.conversations.create(preset=Preset(model=SMART))
    await turn(app.engine, conv.id, "What is 2+2?")
    sim.add_fault({"kind": "http_error", "status": 400, "model": SMART})
    with pytest.raises(E.EngineError):
        await turn(app.engine, conv.id, "this one fails", fallbacks=[])
    sim.clear_faults()
    await turn(app.engine, conv.id, "What is 3+3?")
    thread = await app.engine.conversations.open(conv.id)
    assert [m.text for m in thread.messages if m.role == "user"] == ["What is 2+2?", "What is 3+3?"]
    assert thread.branch_of(thread.messages[2].id) == (2, 2)  # the failed message is a branch beside it


async def test_a_stopped_answer_keeps_what_came_and_renaming_does_not_reorder(
    make_engine: MakeEngine, sim: SimServer
) -> None:
    app = await make_engine()
    older = await app.engine.conversations.create()
    conv = await app.engine.conversations.create(preset=Preset(model=SMART, max_tokens=400))
    sim.config.latency_scale = 0.05  # slow enough to stop mid-answer
    stream = app.engine.conversations.send(conv.id, "Explain circuit breakers in distributed systems in detail.")
    got = ""
    async for item in stream:
        if isinstance(item, str):
            got += item
            if len(got.split()) >= 3:
                break
    await stream.aclose()
    sim.config.latency_scale = 0.0
    thread = await app.engine.conversations.open(conv.id)
    last = thread.messages[-1]
    assert last.role == "assistant" and last.extra["stopped"] == "stopped" and last.text.startswith(got.strip()[:5])
    await app.engine.conversations.rename(older.id, "Renamed")
    assert (await app.engine.conversations.listing())[0].id == conv.id  # a rename does not make it the latest
