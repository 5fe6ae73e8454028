"""Conversations, as the faces use them (``Engine.conversations``): create, list, open, rename, pin, delete and
restore, search, export and import; send a message, regenerate an answer, edit a message (a new branch), switch
branches; compare models on one message and pick the answer that continues the thread.

Each turn sends the thread as it stands on the current branch, fitted to the chosen model's window: when the
whole thread fits some model, routing picks among those; when it fits none, the preferred model is chosen and the
history is fitted into its window (``thread_fit``: recent turns verbatim, older ones compressed by the new
message, or summarised once by a cheap model and the summary stored when ``conversations.summarize`` is on). What
fitting did is stored with the answer and shown ("41K of 128K; 12 older messages compressed, quality 0.93").
Every turn is an ordinary engine request (routing, budgets, breakers, metrics, the request store).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from autodevai.engine import errors as E
from autodevai.engine.complexity import complexity
from autodevai.engine.conversations import (
    Conversation,
    Preset,
    SearchHit,
    Thread,
    ThreadMessage,
    build_thread,
    children,
    export_json,
    export_markdown,
    leaf_of,
    parse_import,
    path_to,
    title_from,
)
from autodevai.engine.fitting import SAFETY, off_loop_if_long, tool_tokens
from autodevai.engine.input_limits import user_message
from autodevai.engine.messages import ChatMessage
from autodevai.engine.ports import ConversationStore
from autodevai.engine.runtime import Components
from autodevai.engine.thread_fit import ThreadFit, fit_thread
from autodevai.engine.thread_messages import answer_message, content_of, extra_of, new_id
from autodevai.engine.types import ChatRequest, EngineResponse, Preference, RouteDecision
from autodevai.text import validation_text

__all__ = ["COMPARE_ALIASES", "SUMMARY_PROMPT", "ChatTurn", "Conversations", "Execute", "Record", "Route", "Stream"]

# What "compare" understands besides model ids: a routing preference that picks the model.
COMPARE_ALIASES: dict[str, Preference] = {
    "cheapest": Preference.COST,
    "best": Preference.QUALITY,
    "fastest": Preference.SPEED,
    "balanced": Preference.BALANCED,
}
SUMMARY_PROMPT = (
    "Summarize the conversation so far for someone who will continue it: keep every fact, number, name, decision "
    "and open question; drop greetings and repetition. At most 200 words."
)

Stream = Callable[[ChatRequest, Preference | None], AsyncGenerator[Any, None]]
Execute = Callable[[ChatRequest, Preference | None], Awaitable[EngineResponse]]
Record = Callable[[str, str, bool, float], Awaitable[None]]
Route = Callable[[ChatRequest, Preference | None, int], RouteDecision]


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One answered turn: the user's message, the stored answer, the engine's response and what fitting did."""

    user: ThreadMessage
    answer: ThreadMessage
    response: EngineResponse
    fit: ThreadFit


class Conversations:
    """The conversation API over the engine's parts; the engine's request path does every call."""

    def __init__(
        self, parts: Components, *, stream: Stream, execute: Execute, route: Route, record_outcome: Record
    ) -> None:
        self._parts = parts
        self._stream = stream
        self._execute = execute
        self._route = route
        self._record = record_outcome

    @property
    def _store(self) -> ConversationStore:
        return self._parts.store.conversations

    def _now(self) -> float:
        return self._parts.clock.wall()

    # ---- the list ----------------------------------------------------------------------------------------

    async def create(self, title: str | None = None, preset: Preset | None = None) -> Conversation:
        """A new, empty conversation ("New conversation" until its first message names it)."""
        now = self._now()
        conv = Conversation(new_id(), title or "New conversation", now, now, preset=preset or Preset())
        await self._store.create(conv)
        return conv

    async def listing(self, *, deleted: bool = False) -> list[Conversation]:
        """Pinned first, then the most recent; ``deleted`` lists the ones that can still be restored."""
        result: list[Conversation] = await self._store.listing(deleted=deleted)
        return result

    async def get(self, conversation_id: str) -> Conversation:
        """The conversation; raises ``InvalidRequest`` for an unknown id."""
        conv: Conversation | None = await self._store.get(conversation_id)
        if conv is None:
            raise E.InvalidRequest(f"no conversation {conversation_id!r}")
        return conv

    async def open(self, conversation_id: str) -> Thread:
        """The conversation with its current branch and, per message, its siblings."""
        conv = await self.get(conversation_id)
        return build_thread(conv, await self._store.messages(conversation_id))

    async def rename(self, conversation_id: str, title: str) -> None:
        await self.get(conversation_id)  # an unknown id is an error, not a silent no-op
        title = " ".join(title.split())
        if not title:
            raise E.InvalidRequest("a conversation title cannot be empty")
        await self._store.update(conversation_id, None, title=title[:200])

    async def pin(self, conversation_id: str, pinned: bool = True) -> None:
        await self.get(conversation_id)
        await self._store.update(conversation_id, None, pinned=pinned)

    async def set_preset(self, conversation_id: str, preset: Preset) -> None:
        await self.get(conversation_id)
        await self._store.update(conversation_id, None, preset=preset)

    async def delete(self, conversation_id: str) -> None:
        """Move to the deleted list (``restore`` undoes it; ``purge`` removes it for good)."""
        await self.get(conversation_id)
        await self._store.update(conversation_id, self._now(), deleted_at=self._now())

    async def restore(self, conversation_id: str) -> None:
        await self.get(conversation_id)
        await self._store.update(conversation_id, None, deleted_at=None)

    async def purge(self, conversation_id: str) -> None:
        await self.get(conversation_id)
        await self._store.purge(conversation_id)

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of ``text`` (the last as a prefix), best first."""
        hits: list[SearchHit] = await self._store.search(text, limit)
        return hits

    async def export(self, conversation_id: str, fmt: str = "markdown") -> str:
        """The current branch as Markdown or as JSON in OpenAI's messages format."""
        if fmt not in ("markdown", "json"):
            raise E.InvalidRequest(f"unknown export format {fmt!r}; use markdown or json")
        thread = await self.open(conversation_id)
        return export_markdown(thread) if fmt == "markdown" else export_json(thread)

    async def import_json(self, text: str) -> Conversation:
        """A new conversation from an exported JSON document (or a bare list of messages)."""
        title, system, messages = parse_import(text)
        conv = await self.create(title, Preset(system=system))
        parent: str | None = None
        for i, (m, model) in enumerate(messages):
            stored = ThreadMessage(
                new_id(), conv.id, parent, m.role, content_of(m), self._now() + i * 1e-6,
                model=model, extra=extra_of(m),
            )  # fmt: skip
            await self._store.add_message(stored)
            parent = stored.id
        return await self.get(conv.id)

    # ---- turns ---------------------------------------------------------------------------------------------

    async def send(self, conversation_id: str, content: Any, **options: Any) -> AsyncGenerator[Any, None]:
        """Add a user message after the current head (or ``parent_id``) and stream the answer: text deltas,
        ``StreamDelta`` pieces, then one ``ChatTurn``. ``options``: model, preference, max_tokens and any
        ``ChatRequest`` field."""
        conv = await self.get(conversation_id)
        parent = await self._reply_point(conversation_id, options.pop("parent_id", None) or conv.head_id)
        user = await self._add_user(conv, parent, content)
        async with contextlib.aclosing(self._answer(conv, user, options)) as items:  # a Stop reaches the answer
            async for item in items:
                yield item

    async def edit(
        self, conversation_id: str, message_id: str, content: Any, **options: Any
    ) -> AsyncGenerator[Any, None]:
        """A new version of a user message (a branch beside it), answered like ``send``."""
        conv = await self.get(conversation_id)
        old = await self._message(conversation_id, message_id)
        if old.role != "user":
            raise E.InvalidRequest("only your own messages can be edited")
        user = await self._add_user(conv, old.parent_id, content)
        async with contextlib.aclosing(self._answer(conv, user, options)) as items:  # a Stop reaches the answer
            async for item in items:
                yield item

    async def regenerate(self, conversation_id: str, message_id: str, **options: Any) -> AsyncGenerator[Any, None]:
        """Another answer to the user message before ``message_id`` (an answer) or to ``message_id`` itself (a
        user message), as a new branch; ``options`` may name another model."""
        conv = await self.get(conversation_id)
        target = await self._message(conversation_id, message_id)
        user = target if target.role == "user" else await self._message(conversation_id, target.parent_id or "")
        async with contextlib.aclosing(self._answer(conv, user, options)) as items:  # a Stop reaches the answer
            async for item in items:
                yield item

    async def switch(self, conversation_id: str, message_id: str) -> Thread:
        """Make the branch through ``message_id`` current (its newest leaf becomes the head)."""
        messages = await self._store.messages(conversation_id)
        if not any(m.id == message_id for m in messages):
            raise E.InvalidRequest(f"no message {message_id!r} in this conversation")
        await self._store.update(conversation_id, self._now(), head_id=leaf_of(message_id, children(messages)))
        return await self.open(conversation_id)

    async def compare(
        self, conversation_id: str, content: Any, targets: Sequence[str], **options: Any
    ) -> AsyncIterator[tuple[int, ChatTurn | E.EngineError]]:
        """Send one message to 2-4 models at once (ids, or "cheapest", "best", "fastest", "balanced"); yield
        ``(index, ChatTurn or the error)`` as each finishes. Every answer is stored as a branch; the head stays on
        the user message until ``pick``."""
        if not 2 <= len(targets) <= 4:
            raise E.InvalidRequest("compare takes 2 to 4 models")
        conv = await self.get(conversation_id)
        user = await self._add_user(conv, options.pop("parent_id", None) or conv.head_id, content)

        async def one(i: int, target: str) -> tuple[int, ChatTurn | E.EngineError]:
            alias = COMPARE_ALIASES.get(target)
            # An alias routes even when the conversation pins a model ("" = no model, routed).
            opts = {**options, "preference": alias, "model": ""} if alias else {**options, "model": target}
            try:
                turn = None
                async for item in self._answer(conv, user, opts, stream=False, head=False):
                    turn = item
                assert isinstance(turn, ChatTurn)
                return i, turn
            except E.EngineError as exc:
                return i, exc

        for done in asyncio.as_completed([one(i, t) for i, t in enumerate(targets)]):
            yield await done

    async def pick(self, conversation_id: str, message_id: str) -> Thread:
        """Continue the thread with the answer ``message_id`` of a comparison; the models compared learn from the
        choice (the picked one a success, its siblings a failure, under the task's class)."""
        picked = await self._message(conversation_id, message_id)
        messages = await self._store.messages(conversation_id)
        siblings = [m for m in messages if m.parent_id == picked.parent_id and m.role == "assistant"]
        user = next((m for m in messages if m.id == picked.parent_id), None)
        task_class = "chat:" + _level(complexity(user.text if user else ""))
        for m in siblings:
            if m.model:
                await self._record(task_class, m.model, m.id == message_id, m.cost_usd)
        return await self.switch(conversation_id, message_id)

    # ---- inside a turn --------------------------------------------------------------------------------------

    async def _reply_point(self, conversation_id: str, head: str | None) -> str | None:
        """Where a new message goes: after ``head``, unless ``head`` is a message of yours that never got an
        answer (the turn failed or was stopped) — then the new one takes its place, as a branch beside it."""
        if head is None:
            return None
        last = await self._message(conversation_id, head)
        return last.parent_id if last.role == "user" else head

    async def _message(self, conversation_id: str, message_id: str) -> ThreadMessage:
        found = next((m for m in await self._store.messages(conversation_id) if m.id == message_id), None)
        if found is None:
            raise E.InvalidRequest(f"no message {message_id!r} in this conversation")
        return found

    async def _add_user(self, conv: Conversation, parent: str | None, content: Any) -> ThreadMessage:
        checked = user_message(content)  # refuses an empty message and text that is not valid Unicode
        user = ThreadMessage(new_id(), conv.id, parent, "user", content_of(checked), self._now())
        await self._store.add_message(user)
        if conv.message_count == 0 and conv.title == "New conversation":
            await self._store.update(conv.id, self._now(), title=title_from(checked.text or "Image"))
        return user

    async def _answer(
        self, conv: Conversation, user: ThreadMessage, options: dict[str, Any], *, stream: bool = True,
        head: bool = True,
    ) -> AsyncGenerator[Any, None]:  # fmt: skip
        p = self._parts
        messages = await self._store.messages(conv.id)
        path = [m for m in path_to(user.id, {m.id: m for m in messages}) if m.kind == "message"]
        history = ([ChatMessage(role="system", content=conv.preset.system)] if conv.preset.system else []) + [
            _answered(m, path[i + 1] if i + 1 < len(path) else None) for i, m in enumerate(path)
        ]
        request, preference, fit = await self._fitted(conv, history, options, messages, path)
        if stream:
            response: EngineResponse | None = None
            partial: list[str] = []
            try:
                async for item in self._stream(request, preference):
                    if isinstance(item, EngineResponse):
                        response = item
                    else:
                        if isinstance(item, str):
                            partial.append(item)
                        yield item
            except (GeneratorExit, asyncio.CancelledError, E.StreamInterrupted) as exc:
                # Stopped (or cut) after it began: keep what came, so the thread shows it and continues after it.
                if partial:
                    why = "interrupted" if isinstance(exc, E.StreamInterrupted) else "stopped"
                    kept = ThreadMessage(new_id(), conv.id, user.id, "assistant", "".join(partial), p.clock.wall(),
                                         extra={"stopped": why})  # fmt: skip
                    await asyncio.shield(self._store.add_message(kept, head=head))
                raise
            assert response is not None
        else:
            response = await self._execute(request, preference)
        answer = answer_message(conv.id, user.id, response, fit, p.clock.wall())
        await self._store.add_message(answer, head=head)
        yield ChatTurn(user, answer, response, fit)

    async def _fitted(
        self,
        conv: Conversation,
        history: list[ChatMessage],
        options: dict[str, Any],
        messages: Sequence[ThreadMessage],
        path: Sequence[ThreadMessage],
    ) -> tuple[ChatRequest, Preference | None, ThreadFit]:
        """The request for this turn: the whole thread if some allowed model takes it, else the thread fitted to
        the preferred model's window (pinned to it, its fallbacks kept)."""
        p = self._parts
        preset = conv.preset
        model = options.pop("model", None)
        fields: dict[str, Any] = {
            "model": (model or None) if model is not None else preset.model,
            "max_tokens": options.pop("max_tokens", None) or preset.max_tokens or 1024,
            "tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in preset.tools or ()] or None,
            "task_class": "chat",
            **options,
        }
        preference = fields.pop("preference", None) or preset.preference
        try:
            request = ChatRequest.model_validate({**fields, "messages": history})
        except ValidationError as exc:
            raise E.InvalidRequest(validation_text(exc)[0]) from None
        tokens = await off_loop_if_long(history, lambda: p.counter.count_messages(history, None))
        tokens += tool_tokens(p.counter, request)
        try:
            decision = self._route(request, preference, tokens)
            info = p.catalog.get(decision.chosen)
            window = info.context_length if info is not None and info.context_known else None
            return request, preference, ThreadFit(tuple(history), tokens, window)
        except E.ContextTooLong:
            pass
        smallest = history[:1] + history[-1:] if len(history) > 1 else history
        decision = self._route(request, preference, p.counter.count_messages(smallest, None))
        info = p.catalog.get(decision.chosen)
        if info is None or not info.context_known:
            return request, preference, ThreadFit(tuple(history), tokens, None)
        output = min(request.max_tokens, info.max_output or request.max_tokens)
        budget = int((info.context_length - output) * SAFETY) - tool_tokens(p.counter, request)
        fit = await self._fit(history, budget, info.id, info.context_length, conv, messages, path)
        pinned = request.model_copy(
            update={"messages": list(fit.messages), "model": info.id,
                    "fallbacks": [c.model for c in decision.candidates[1:]]}
        )  # fmt: skip
        return pinned, preference, fit

    async def _fit(
        self,
        history: list[ChatMessage],
        budget: int,
        model: str,
        window: int,
        conv: Conversation,
        messages: Sequence[ThreadMessage],
        path: Sequence[ThreadMessage],
    ) -> ThreadFit:
        p = self._parts
        strategy = p.settings.context.strategy if p.settings.context.strategy != "off" else "auto"
        counter = p.counter

        def plain() -> ThreadFit:
            return fit_thread(history, budget, counter, model=model, window=window, strategy=strategy)

        fit = await off_loop_if_long(history, plain)
        if not p.settings.conversations.summarize or fit.how not in ("compressed", "left out"):
            return fit
        system = 1 if conv.preset.system else 0
        older = path[: len(path) - 1 - _kept(fit, history, system)]
        if not older:
            return fit
        summary = await self._summary(conv, messages, older)

        def with_summary() -> ThreadFit:
            return fit_thread(
                history, budget, counter, model=model, window=window, strategy=strategy,
                summary=summary, summarized=len(older),
            )  # fmt: skip

        return await off_loop_if_long(history, with_summary)

    async def _summary(
        self, conv: Conversation, messages: Sequence[ThreadMessage], older: Sequence[ThreadMessage]
    ) -> ChatMessage:
        """The stored summary covering exactly ``older``, or a new one made by a cheap model and stored."""
        last = older[-1].id
        stored = next((m for m in reversed(messages) if m.kind == "summary" and m.summary_of == last), None)
        if stored is None:
            transcript = "\n\n".join(f"{m.role}: {m.text}" for m in older)
            request = ChatRequest.model_validate(
                {"messages": [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": transcript}],
                 "max_tokens": 400, "task_class": "chat:summary"}
            )  # fmt: skip
            response = await self._execute(request, Preference.COST)
            stored = replace(
                answer_message(conv.id, None, response, None, self._now()), kind="summary", summary_of=last
            )
            await self._store.add_message(stored, head=False)
        return ChatMessage(role="system", content=f"Summary of the earlier conversation:\n{stored.text}")


def _answered(m: ThreadMessage, following: ThreadMessage | None) -> ChatMessage:
    """``m`` as sent again: an answer's tool calls go only when tool results follow them (an API refuses tool
    calls left unanswered; the chat answered them with text instead)."""
    message = m.chat_message()
    if message.tool_calls and (following is None or following.role != "tool"):
        return message.model_copy(update={"tool_calls": None, "content": message.text or "(called a tool)"})
    return message


def _kept(fit: ThreadFit, history: Sequence[ChatMessage], system: int) -> int:
    """How many messages before the new one ``fit`` kept verbatim at the end."""
    kept = 0
    for fitted, original in zip(reversed(fit.messages[:-1]), reversed(history[system:-1]), strict=False):
        if fitted != original:
            break
        kept += 1
    return kept


def _level(c: float) -> str:
    return "complex" if c >= 0.5 else "medium" if c >= 0.2 else "simple"
