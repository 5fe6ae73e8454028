"""Conversations as the command line shows them, shared by ``run -c``, ``chat`` and ``conversations``: finding a
conversation from what a person typed (a full id, a unique prefix of one, or "the most recent"), a turn's stream
turned into what ``chat.stream_answer`` prints, and the views of conversations, threads and turns (text and JSON).

``run`` in a conversation (``run_turn``): the prompt becomes the next turn of the conversation ``-c``/``--continue``
(the most recently updated one), ``--conversation ID`` or ``--new-conversation`` name; the request's options
(model, preference, sampling, tools, schema, files) apply to this turn only, ``--system`` becomes the
conversation's system prompt. The answer prints as ``run`` prints it; the footer adds the conversation and how
much of the model's window the thread took, and ``--json`` adds ``conversation_id``, ``message_id`` (the answer)
and ``user_message_id``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, TextIO

from autodevai.cli import chat, views
from autodevai.cli.render import dump_json, fmt_usd, json_line, table
from autodevai.engine import Engine
from autodevai.engine import errors as E
from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Conversation, Preset, Thread, ThreadMessage
from autodevai.engine.types import ChatRequest, EngineResponse
from autodevai.text import fmt_ms

__all__ = [
    "clip",
    "conversation_json",
    "conversations_table",
    "drain",
    "latest",
    "print_thread",
    "resolve",
    "responses",
    "run_turn",
    "thread_json",
    "turn_footer",
    "turn_ids",
    "wants_conversation",
]

LIST_HINT = "`autodevai conversations list` shows them (`list --deleted` the deleted ones)"
WHO = {"user": "you", "assistant": "assistant", "system": "system", "tool": "tool"}


# ---- finding a conversation --------------------------------------------------------------------------------------


async def resolve(engine: Engine, ref: str, *, deleted_ok: bool = False) -> Conversation:
    """The conversation ``ref`` names: its id, or a prefix of exactly one id (deleted ones included, so ``restore``
    finds them). Raises ``InvalidRequest`` (exit 2) for no match, several matches, or a deleted conversation
    unless ``deleted_ok``."""
    ref = ref.strip()
    if not ref:
        raise E.InvalidRequest("no conversation id given", hint=LIST_HINT)
    try:
        conv = await engine.conversations.get(ref)
    except E.InvalidRequest:
        every = await engine.conversations.listing() + await engine.conversations.listing(deleted=True)
        matches = [c for c in every if c.id.startswith(ref)]
        if not matches:
            raise E.InvalidRequest(f"no conversation {ref!r}", hint=LIST_HINT) from None
        if len(matches) > 1:
            ids = ", ".join(c.id for c in matches[:5])
            hint = "give more of the id"
            raise E.InvalidRequest(f"{ref!r} names {len(matches)} conversations ({ids})", hint=hint) from None
        conv = matches[0]
    if conv.deleted and not deleted_ok:
        raise E.InvalidRequest(
            f"conversation {conv.id} is deleted", hint=f"`autodevai conversations restore {conv.id}` brings it back"
        )
    return conv


async def latest(engine: Engine) -> Conversation | None:
    """The most recently updated conversation that is not deleted (pinned or not), or None."""
    listing = await engine.conversations.listing()
    return max(listing, key=lambda c: c.updated) if listing else None


# ---- a turn's stream ---------------------------------------------------------------------------------------------


async def responses(items: AsyncIterator[Any], turns: list[ChatTurn]) -> AsyncGenerator[Any, None]:
    """A conversation turn's stream as an engine stream (``chat.stream_answer`` prints it): text and pieces as they
    come, then the turn's ``EngineResponse``; the ``ChatTurn`` itself is appended to ``turns``."""
    async for item in items:
        if isinstance(item, ChatTurn):
            turns.append(item)
            yield item.response
        else:
            yield item


async def drain(items: AsyncIterator[Any]) -> ChatTurn:
    """The ``ChatTurn`` at the end of a turn's stream, printing nothing."""
    turn: ChatTurn | None = None
    async for item in items:
        if isinstance(item, ChatTurn):
            turn = item
    if turn is None:
        raise RuntimeError("the conversation's stream ended without a turn")
    return turn


def turn_ids(turn: ChatTurn) -> dict[str, Any]:
    """What ``--json`` adds to an answer in a conversation."""
    return {
        "conversation_id": turn.answer.conversation_id,
        "message_id": turn.answer.id,
        "user_message_id": turn.user.id,
        "thread_fit": turn.fit.describe(),
    }


def turn_footer(turn: ChatTurn, out: TextIO) -> None:
    """One line under an answer: who answered, tokens, cost, latency, and how much of the window the thread took."""
    a = turn.answer
    simulated = " (simulated)" if a.simulated else ""
    cost = "cost unknown" if a.cost_source == "unknown" else fmt_usd(a.cost_usd)
    print(
        f"[{a.model}{simulated} · {a.prompt_tokens} in / {a.completion_tokens} out · {cost} · "
        f"{fmt_ms(a.latency_ms)} · thread {turn.fit.describe()}]",
        file=out,
    )
    if turn.response.hedged:
        print(views.hedge_line(turn.response), file=out)


# ---- run in a conversation ---------------------------------------------------------------------------------------


def wants_conversation(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "continue_latest", False)
        or getattr(args, "conversation", None)
        or getattr(args, "new_conversation", False)
    )


async def _conversation_for_run(engine: Engine, args: argparse.Namespace) -> tuple[Conversation, bool]:
    """(the conversation ``run`` adds a turn to, whether it was just created)."""
    if args.new_conversation:
        return await engine.conversations.create(preset=Preset(system=args.system or None)), True
    if args.conversation:
        return await resolve(engine, args.conversation), False
    found = await latest(engine)
    if found is None:
        raise E.InvalidRequest(
            "no conversation to continue", hint="start one with `autodevai run --new-conversation PROMPT`"
        )
    return found, False


def _turn_options(request: ChatRequest) -> tuple[Any, dict[str, Any]]:
    """(the user message's content, the request's other options as ``Conversations.send`` takes them)."""
    content = request.messages[-1].model_dump(mode="json", by_alias=True, exclude_none=True)["content"]
    options = request.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"messages", "preference"})
    if "preference" in request.model_fields_set:
        options["preference"] = request.preference
    return content, options


async def run_turn(engine: Engine, args: argparse.Namespace, request: ChatRequest, *, stream: bool) -> int:
    """``autodevai run`` with ``-c``, ``--conversation`` or ``--new-conversation``; returns the exit code."""
    conv, created = await _conversation_for_run(engine, args)
    if args.system and not created and conv.preset.system != args.system:
        await engine.conversations.set_preset(conv.id, conv.preset.model_copy(update={"system": args.system}))
    content, options = _turn_options(request)
    items = engine.conversations.send(conv.id, content, **options)
    turns: list[ChatTurn] = []
    if stream and args.json:
        await chat.stream_json_lines(responses(items, turns))
        print(json_line({**chat.response_line(turns[0].response, request), **turn_ids(turns[0])}), flush=True)
        return chat.answer_code(turns[0].response, request)
    if stream:
        await chat.stream_answer(responses(items, turns), request)
        turn = turns[0]
    else:
        turn = await drain(items)
    response: EngineResponse = turn.response
    if args.json:
        dump_json({**chat.answer_json(response, request), **turn_ids(turn)})
        return chat.answer_code(response, request)
    code = chat.print_answer(response, request, streamed=stream)
    views.response_footer(response, sys.stderr)
    print(f"conversation {conv.id}{' (new)' if created else ''} · thread {turn.fit.describe()}", file=sys.stderr)
    if created:
        print(f"continue it with: autodevai run -c ... (or --conversation {conv.id})", file=sys.stderr)
    return code


# ---- views -------------------------------------------------------------------------------------------------------


def when(epoch: float) -> str:
    """A local date and time, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def conversation_json(conv: Conversation) -> dict[str, Any]:
    return {
        "id": conv.id,
        "title": conv.title,
        "messages": conv.message_count,
        "cost_usd": conv.cost_usd,
        "created": conv.created,
        "updated": conv.updated,
        "pinned": conv.pinned,
        "deleted": conv.deleted,
        "preset": conv.preset.model_dump(mode="json", exclude_none=True),
    }


def conversations_table(convs: Sequence[Conversation], out: TextIO = sys.stdout) -> None:
    rows = [
        (c.id, clip(c.title, 50), c.message_count, fmt_usd(c.cost_usd), when(c.updated), "pinned" if c.pinned else "")
        for c in convs
    ]
    table(["id", "title", "messages", "cost", "updated", "pinned"], rows, out)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message_json(thread: Thread, m: ThreadMessage) -> dict[str, Any]:
    position, count = thread.branch_of(m.id)
    data: dict[str, Any] = {"id": m.id, "role": m.role, "content": m.content, "text": m.text, "created": m.created}
    if m.role == "assistant":
        data.update(model=m.model, provider=m.provider, cost_usd=m.cost_usd, latency_ms=m.latency_ms)
        data.update(prompt_tokens=m.prompt_tokens, completion_tokens=m.completion_tokens)
        if m.extra.get("tool_calls"):
            data["tool_calls"] = m.extra["tool_calls"]
    data["branch"] = [position, count]
    return data


def thread_json(thread: Thread) -> dict[str, Any]:
    """The current branch of a conversation as JSON: the conversation, then its messages root first."""
    messages = [_message_json(thread, m) for m in thread.messages if m.kind == "message"]
    return {"conversation": conversation_json(thread.conversation), "messages": messages}


def print_thread(thread: Thread, out: TextIO = sys.stdout) -> None:
    """The current branch as text: a heading per message naming who wrote it (and, for answers, the model, cost
    and latency), a branch marker where a message has siblings, the text indented."""
    conv = thread.conversation
    pinned = ", pinned" if conv.pinned else ""
    print(f"{conv.title}  ({conv.id}, {conv.message_count} messages, {fmt_usd(conv.cost_usd)}{pinned})", file=out)
    if conv.preset.system:
        print(f"\nsystem:\n{_indent(conv.preset.system)}", file=out)
    for m in thread.messages:
        if m.kind != "message":
            continue
        who = WHO.get(m.role, m.role)
        if m.role == "assistant":
            who += f" · {m.model or '?'} · {fmt_usd(m.cost_usd)} · {fmt_ms(m.latency_ms)}"
        position, count = thread.branch_of(m.id)
        if count > 1:
            who += f" · branch {position}/{count}"
        text = m.text or ("(tool calls)" if m.extra.get("tool_calls") else "(no text)")
        print(f"\n{who}:\n{_indent(text)}", file=out)


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines()) or "  "
