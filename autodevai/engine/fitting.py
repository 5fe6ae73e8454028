"""Making a request fit a model's window before it is routed and sent.

Counting and compressing long prompts is CPU work (128K tokens take tens of milliseconds), so both move to a
worker thread past ``THREAD_CHARS`` characters: the event loop (and the GUI on it) keeps running.

Policy (``settings.context``): with ``overflow="larger-model"`` routing first looks for a model whose window
fits; only when none does is the prompt compressed into the largest window available. With
``overflow="compress"`` the model routing prefers is kept and the prompt is compressed into its window.
``strategy="off"`` refuses with ``ContextTooLong`` instead of removing anything. The same machinery answers the
faces' questions through the facade: tokens per message (``count_tokens``) and a conversation compressed to a
budget (``fit_messages``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from autodevai.engine.errors import ContextRejected, ContextTooLong, InvalidRequest
from autodevai.engine.ports import TokenCounter
from autodevai.engine.reports import TokenCount
from autodevai.engine.settings import ContextSettings
from autodevai.engine.types import ChatMessage, ChatRequest, ModelInfo, ModelRef, RouteDecision

if TYPE_CHECKING:
    from autodevai.engine.catalog import Catalog
    from autodevai.engine.compression import CompressionReport

__all__ = [
    "SAFETY",
    "THREAD_CHARS",
    "Decide",
    "compress_into",
    "count_prompt",
    "count_tokens",
    "fit_and_route",
    "fit_messages",
    "off_loop_if_long",
    "report_dict",
    "shrink_to_stated",
    "tool_tokens",
]

THREAD_CHARS = 40_000  # ~10K tokens: below this, counting in-line costs less than a thread hop
SAFETY = 0.98  # leave 2 % of the window for counting differences of approximate (non-OpenAI) tokenizers

log = logging.getLogger("autodevai.engine")

_T = TypeVar("_T")


async def off_loop_if_long(messages: Sequence[ChatMessage], work: Callable[[], _T]) -> _T:
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


async def shrink_to_stated(
    request: ChatRequest,
    exc: ContextRejected,
    info: ModelInfo,
    prompt_tokens: int,
    counter: TokenCounter,
    settings: ContextSettings,
) -> tuple[ChatRequest, int, CompressionReport]:
    """After a server refused ``request`` as too long for ``info``'s window (which the catalog did not know):
    ``request`` compressed to fit the window the server stated (a quarter smaller when it stated none), its prompt
    tokens and the report. Raises ``exc`` when compression is off or cannot help."""
    if settings.strategy == "off":
        raise exc
    output = min(request.max_tokens, info.max_output) if info.max_output else request.max_tokens
    window = exc.limit if exc.limit else int((prompt_tokens + output) * 0.75)
    try:
        fitted, tokens, report = await compress_into(request, window - output, counter, settings)
    except ContextTooLong:
        raise exc from None
    log.info("%s refused %s tokens; compressed to %s and retrying", info.id, report.tokens_before, tokens)
    return fitted, tokens, report


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


async def count_tokens(
    counter: TokenCounter, catalog: Catalog, messages: Sequence[ChatMessage], model: str | None
) -> TokenCount:
    """Tokens per message and in all for ``model`` (its window share when the catalog knows it). Long inputs are
    counted in a worker thread."""
    msgs = list(messages)

    def run() -> tuple[list[int], int]:
        return counter.count_many([m.counted_text() for m in msgs], model), counter.count_messages(msgs, model)

    per, total = await off_loop_if_long(msgs, run)
    info = catalog.find(model) if model else None
    return TokenCount(
        model=model,
        encoding=counter.encoding_name(model),
        exact=counter.is_exact(model) if model else False,
        per_message=tuple(per),
        total=total,
        context_length=info.context_length if info else None,
        window_share=total / info.context_length if info else None,
    )


async def fit_messages(
    counter: TokenCounter,
    catalog: Catalog,
    messages: Sequence[ChatMessage],
    *,
    model: str | None,
    budget: int | None,
    strategy: str,
    query: str | None,
    reserve_output: int,
) -> tuple[tuple[ChatMessage, ...], CompressionReport]:
    """``messages`` compressed to ``budget`` tokens (default: ``model``'s window less ``reserve_output``).
    Raises ``InvalidRequest`` for an unknown model or strategy, ``ContextTooLong`` when it cannot fit."""
    if budget is None:
        info = catalog.find(model) if model else None
        if info is None:
            known = f"unknown model {model!r}" if model else "no model given"
            raise InvalidRequest(f"{known}: give a budget in tokens (--fit N) or a model from the catalog")
        budget = info.context_length - min(reserve_output, info.max_output or reserve_output)
    from autodevai.engine.compression import STRATEGIES, compress  # loaded when first used

    if strategy not in STRATEGIES:
        raise InvalidRequest(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    msgs = list(messages)
    target = budget

    def run() -> tuple[tuple[ChatMessage, ...], CompressionReport]:
        return compress(msgs, target, counter=counter, model=model, strategy=strategy, query=query)  # type: ignore[arg-type]

    return await off_loop_if_long(msgs, run)
