"""Making a request fit a model's window before it is routed and sent.

Counting and compressing long prompts is CPU work (128K tokens take tens of milliseconds), so both move to a
worker thread past ``THREAD_CHARS`` characters: the event loop (and the GUI on it) keeps running.

Policy (``settings.context``): with ``overflow="larger-model"`` routing first looks for a model whose window
fits; only when none does is the prompt compressed into the largest window available. With
``overflow="compress"`` the model routing prefers is kept and the prompt is compressed into its window.
``strategy="off"`` refuses with ``ContextTooLong`` instead of removing anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from autodevai.engine.errors import ContextTooLong
from autodevai.engine.ports import TokenCounter
from autodevai.engine.settings import ContextSettings
from autodevai.engine.types import ChatMessage, ChatRequest, ModelRef, RouteDecision

if TYPE_CHECKING:
    from autodevai.engine.compression import CompressionReport

__all__ = [
    "THREAD_CHARS",
    "compress_into",
    "count_prompt",
    "fit_and_route",
    "off_loop_if_long",
    "report_dict",
    "tool_tokens",
]

THREAD_CHARS = 40_000  # ~10K tokens: below this, counting in-line costs less than a thread hop
SAFETY = 0.98  # leave 2 % of the window for counting differences of approximate (non-OpenAI) tokenizers


T = TypeVar("T")


async def off_loop_if_long(messages: Sequence[ChatMessage], work: Callable[[], T]) -> T:
    """``work()`` in-line for short ``messages``, in a worker thread past ``THREAD_CHARS`` (tokenizing or
    compressing a long prompt must not stall the event loop, nor a short one pay for a thread hop)."""
    if sum(len(m.text) for m in messages) < THREAD_CHARS:
        return work()
    return await asyncio.to_thread(work)


async def count_prompt(counter: TokenCounter, messages: Sequence[ChatMessage], model: str | None) -> int:
    """Prompt tokens of ``messages``; long prompts are counted in a worker thread."""
    return await off_loop_if_long(messages, lambda: counter.count_messages(messages, model))


def tool_tokens(counter: TokenCounter, request: ChatRequest) -> int:
    """Prompt tokens of the request's tool definitions (providers bill them as prompt; they are never compressed)."""
    if not request.tools:
        return 0
    return counter.count(json.dumps(request.api_fields()["tools"], separators=(",", ":")), request.model)


async def compress_into(
    request: ChatRequest, budget: int, counter: TokenCounter, settings: ContextSettings
) -> tuple[ChatRequest, int, CompressionReport]:
    """``request`` with its messages compressed into ``budget`` prompt tokens (with the 2 % safety margin), its
    new prompt tokens and the report. Raises ``ContextTooLong`` when that cannot be done."""
    target = int(budget * SAFETY)
    if target <= 0:
        raise ContextTooLong(f"no room for the prompt in {budget:,} tokens", tokens=budget, limit=budget)
    messages, report = await _compress(request.messages, target, counter, request.model, settings.strategy)
    return request.model_copy(update={"messages": list(messages)}), report.tokens_after, report


Decide = Callable[[ChatRequest, int], RouteDecision]


async def fit_and_route(
    request: ChatRequest,
    prompt_tokens: int,
    decide: Decide,
    counter: TokenCounter,
    settings: ContextSettings,
    window: Callable[[ModelRef], int | None],
    fixed: int = 0,
) -> tuple[ChatRequest, int, RouteDecision, CompressionReport | None]:
    """Route ``request``, compressing it first when it does not fit; returns the (possibly fitted) request,
    its prompt tokens, the decision and the compression report (None when nothing was removed).

    ``prompt_tokens`` includes ``fixed`` tokens outside the messages (tool definitions), which compression keeps.
    Raises ``ContextTooLong`` when compression is off or cannot make it fit.
    """
    if settings.overflow == "compress" and settings.strategy != "off":
        # The model routing prefers with context left aside (a 1-token prompt fits everywhere).
        preferred = decide(request, 1)
        try:
            return request, prompt_tokens, decide(request, prompt_tokens), None
        except ContextTooLong as exc:
            limit = window(preferred.chosen) or exc.limit
            return await _compress_then_route(request, limit, exc, prompt_tokens, decide, counter, settings, fixed)
    try:
        return request, prompt_tokens, decide(request, prompt_tokens), None
    except ContextTooLong as exc:
        if settings.strategy == "off":
            raise
        return await _compress_then_route(request, exc.limit, exc, prompt_tokens, decide, counter, settings, fixed)


async def _compress_then_route(
    request: ChatRequest,
    window: int,
    exc: ContextTooLong,
    prompt_tokens: int,
    decide: Decide,
    counter: TokenCounter,
    settings: ContextSettings,
    fixed: int,
) -> tuple[ChatRequest, int, RouteDecision, CompressionReport | None]:
    output = exc.tokens - prompt_tokens  # what the router reserved for the answer
    budget = int((window - output) * SAFETY) - fixed
    if budget <= 0:
        raise exc
    messages, report = await _compress(request.messages, budget, counter, request.model, settings.strategy)
    fitted = request.model_copy(update={"messages": list(messages)})
    tokens = report.tokens_after + fixed
    return fitted, tokens, decide(fitted, tokens), report


async def _compress(
    messages: Sequence[ChatMessage], budget: int, counter: TokenCounter, model: str | None, strategy: str
) -> tuple[tuple[ChatMessage, ...], CompressionReport]:
    from autodevai.engine.compression import compress  # loaded on first overflow, not at start-up

    def run() -> tuple[tuple[ChatMessage, ...], CompressionReport]:
        return compress(messages, budget, counter=counter, model=model, strategy=strategy)  # type: ignore[arg-type]

    return await off_loop_if_long(messages, run)


def report_dict(report: CompressionReport | None) -> dict[str, Any] | None:
    """The report as plain data for the store (previews of removed text included, redacted by the store)."""
    return None if report is None else dataclasses.asdict(report)
