"""Which models a request may go to, as the request path asks it: the router's decision with the live parts
(breakers, measured latency and success, the budget left, what the request needs), the "this model only" rule
of an explicit empty fallback list, and the refusal that names the budget when only the budget excluded every
model.
"""

from __future__ import annotations

from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState
from autodevai.engine.capabilities import needs_of
from autodevai.engine.runtime import Components
from autodevai.engine.types import ChatRequest, ModelRef, Preference, RouteDecision

__all__ = ["decide", "decide_to_send", "window_of"]


def decide(
    parts: Components, request: ChatRequest, preference: Preference, prompt_tokens: int, *, within_budget: bool = True
) -> RouteDecision:
    """The routing decision for ``request`` now; raises ``NoRouteAvailable`` when no model is left."""
    p = parts
    now = p.clock.now()
    breakers = p.breakers
    left = p.budget.left(p.clock.wall())
    decision = p.router.decide(
        preference=preference,
        prompt_tokens=prompt_tokens,
        max_tokens=request.max_tokens,
        now=now,
        model=request.model,
        fallbacks=request.fallbacks,
        provider=request.provider,
        is_open=lambda ref: breakers.peek(ref.provider, ref.model, now) is BreakerState.OPEN,
        live=lambda ref: p.metrics.live(ref.provider, ref.model, now),
        budget_left=None if request.model or not within_budget else left,
        needs=needs_of(request),
    )
    if request.fallbacks is not None and len(request.fallbacks) == 0 and len(decision.candidates) > 1:
        # An explicit empty fallback list means: this model only.
        decision = RouteDecision(
            decision.preference,
            decision.candidates[:1],
            (*decision.reasons, "no fallbacks: the request asked for this model only"),
            decision.scores,
            decision.considered,
            decision.excluded,
        )
    return decision


def decide_to_send(
    parts: Components, request: ChatRequest, preference: Preference, prompt_tokens: int
) -> RouteDecision:
    """``decide`` for a request about to be sent: when no model is left and the budget is what excluded the rest
    (the same request routes once the budget is left out), raises ``BudgetExceeded`` instead, which says how much
    is left."""
    try:
        return decide(parts, request, preference, prompt_tokens)
    except E.NoRouteAvailable:
        left = parts.budget.left(parts.clock.wall())
        if left is None or not _routes_without_budget(parts, request, preference, prompt_tokens):
            raise
        raise E.BudgetExceeded(
            f"no model fits the budget: ${left:.4f} left", cap="budget", left=left, needed=0.0
        ) from None


def _routes_without_budget(parts: Components, request: ChatRequest, preference: Preference, prompt_tokens: int) -> bool:
    try:
        decide(parts, request, preference, prompt_tokens, within_budget=False)
    except E.EngineError:
        return False
    return True


def window_of(parts: Components, ref: ModelRef) -> int | None:
    """``ref``'s context window per the catalog (None when the catalog does not list it)."""
    info = parts.catalog.get(ref)
    return None if info is None else info.context_length
