"""Conversation values: the branch tree, export to Markdown and OpenAI JSON and import back, and fitting a long
thread into a window with recent turns verbatim and older ones compressed or summarised."""

from __future__ import annotations

import json

import pytest

from autodevai.adapters.tokenizer import TiktokenCounter
from autodevai.engine.conversations import (
    Conversation,
    Preset,
    ThreadMessage,
    build_thread,
    children,
    export_json,
    export_markdown,
    leaf_of,
    parse_import,
    title_from,
)
from autodevai.engine.errors import InvalidRequest
from autodevai.engine.thread_fit import fit_thread
from autodevai.engine.types import ChatMessage

COUNTER = TiktokenCounter()


def msg(mid: str, parent: str | None, role: str, text: str, t: float, **kw: object) -> ThreadMessage:
    return ThreadMessage(mid, "c1", parent, role, text, t, **kw)  # type: ignore[arg-type]


def tree() -> list[ThreadMessage]:
    # u1 -> a1 -> u2 -> a2 ; u2 regenerated as a2b ; u1 edited as u1b -> a3
    return [
        msg("u1", None, "user", "What is 12*12?", 1),
        msg("a1", "u1", "assistant", "12 × 12 = 144.", 2, model="m1"),
        msg("u2", "a1", "user", "multiply that by 2", 3),
        msg("a2", "u2", "assistant", "288.", 4, model="m1"),
        msg("a2b", "u2", "assistant", "It is 288.", 5, model="m2"),
        msg("u1b", None, "user", "What is 13*13?", 6),
        msg("a3", "u1b", "assistant", "169.", 7, model="m1"),
    ]


def test_the_thread_is_the_path_to_the_head_and_knows_its_branches() -> None:
    conv = Conversation("c1", "t", 0, 0, head_id="a2b")
    thread = build_thread(conv, tree())
    assert [m.id for m in thread.messages] == ["u1", "a1", "u2", "a2b"]
    assert thread.branch_of("a2b") == (2, 2) and thread.branch_of("u1") == (1, 2)
    kids = children(tree())
    assert leaf_of("u1", kids) == "a2b" and leaf_of("u1b", kids) == "a3"


def test_export_and_import_round_trip() -> None:
    conv = Conversation("c1", "Squares", 0, 0, preset=Preset(system="Be brief."), head_id="a2")
    thread = build_thread(conv, tree())
    doc = json.loads(export_json(thread))
    assert doc["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in doc["messages"][1:]] == ["user", "assistant", "user", "assistant"]
    title, system, messages = parse_import(export_json(thread))
    assert (title, system) == ("Squares", "Be brief.")
    assert [m.text for m, _ in messages] == ["What is 12*12?", "12 × 12 = 144.", "multiply that by 2", "288."]
    assert [model for _, model in messages] == ["", "m1", "", "m1"]
    md = export_markdown(thread)
    assert md.startswith("# Squares") and "## Assistant · m1" in md and "multiply that by 2" in md


@pytest.mark.parametrize(
    ("text", "needle"),
    [("{", "not JSON"), ('{"messages": []}', "messages"), ('[{"role": "wizard", "content": "x"}]', "role")],
)
def test_a_bad_import_says_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(InvalidRequest, match=needle):
        parse_import(text)


def test_title_from_the_first_line() -> None:
    assert title_from("  Plan a trip\nto Rome ") == "Plan a trip"
    assert len(title_from("x" * 200)) == 60


def long_thread(turns: int) -> list[ChatMessage]:
    out = [ChatMessage(role="system", content="You are helpful.")]
    for i in range(turns):
        out.append(ChatMessage(role="user", content=f"Question {i}: tell me about topic {i} in detail. " * 20))
        out.append(ChatMessage(role="assistant", content=f"Answer {i}: topic {i} involves many things. " * 40))
    out.append(ChatMessage(role="user", content="Remind me what topic 3 involved?"))
    return out


def test_a_thread_that_fits_goes_whole() -> None:
    history = long_thread(2)
    fit = fit_thread(history, 100_000, COUNTER, window=128_000)
    assert fit.messages == tuple(history) and fit.how == "" and fit.describe().endswith("of 128K")


def test_a_long_thread_keeps_recent_turns_and_compresses_older_ones() -> None:
    history = long_thread(40)
    total = COUNTER.count_messages(history)
    fit = fit_thread(history, total // 4, COUNTER, window=32_000)
    assert fit.tokens <= total // 4 and fit.how == "compressed" and fit.older > 0
    assert fit.messages[0] == history[0] and fit.messages[-1] == history[-1]  # system and the new message
    assert fit.messages[-3:-1] == tuple(history[-3:-1])  # the latest turn verbatim
    assert "older messages compressed, quality" in fit.describe()


def test_a_stored_summary_replaces_the_turns_it_covers() -> None:
    history = long_thread(10)
    summary = ChatMessage(role="system", content="Summary of the earlier conversation: topics 0-7 were covered.")
    fit = fit_thread(history, 100_000, COUNTER, summary=summary, summarized=16)
    assert fit.messages[1] == summary and fit.how == "summarised" and fit.older == 16
    assert len(fit.messages) == 1 + 1 + (len(history) - 2 - 16) + 1
