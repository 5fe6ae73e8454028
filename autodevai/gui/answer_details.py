"""How an answer's details read (pure formatting, rich text): who answered — with a "Simulated" tag when
AutoDevAI's simulator did —, its tokens, cost (or "unknown"), timings, how the thread was fitted into the window,
the fallback trail, whether it was hedged (and what the hedge's loser cost), a refusal, and why routing chose the
model; a failed request's error class, attempts and hint; and a pydantic validation error as plain sentences.

The details come from a stored answer (``ThreadMessage``: its columns and ``extra`` — reasons, attempts, latency,
time to first token, finish reason, tool calls, refusal, fit, hedged), so an answer from last week explains itself
as well as one that just arrived.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from autodevai.engine.conversations import ThreadMessage
from autodevai.engine.errors import Attempt, EngineError
from autodevai.gui.labels import cost_html, simulated_html
from autodevai.gui.theme import state_color
from autodevai.text import fmt_ms, fmt_tokens, fmt_usd
from autodevai.text import validation_text as _validation_text

__all__ = [
    "MUTED",
    "attempts_of",
    "attempts_trail",
    "error_html",
    "hedge_text",
    "message_details_html",
    "validation_text",
]

MUTED = "#8b9099"  # the themes' placeholder gray: readable on light and dark backgrounds
GAP = "margin-top:6px"  # between the sections of an answer's details
HEDGE_LOSER = "hedged"  # the outcome of a hedge's losing call, cancelled by the engine (engine/hedged_call.py)


def _e(text: object) -> str:
    return html.escape(str(text))


def attempts_of(extra: Mapping[str, Any]) -> list[Attempt]:
    """The attempts stored with an answer (``extra["attempts"]``) as ``Attempt`` values."""
    out = []
    for a in extra.get("attempts") or ():
        if isinstance(a, Mapping):
            out.append(Attempt(str(a.get("provider", "")), str(a.get("model", "")), str(a.get("outcome", "")),
                               str(a.get("detail", ""))))  # fmt: skip
    return out


def attempts_trail(attempts: Sequence[Attempt]) -> str:
    """``a → ProviderUnavailable ×2, then b ✓``: consecutive identical attempts are folded."""
    groups: list[tuple[str, str, int]] = []
    for a in attempts:
        if groups and groups[-1][:2] == (a.model, a.outcome):
            groups[-1] = (a.model, a.outcome, groups[-1][2] + 1)
        else:
            groups.append((a.model, a.outcome, 1))
    parts = []
    for model, outcome, n in groups:
        times = f" ×{n}" if n > 1 else ""
        parts.append(f"{model} ✓" if outcome == "ok" else f"{model} → {outcome}{times}")
    return ", then ".join(parts)


def message_details_html(m: ThreadMessage) -> str:
    """Rich text for a stored answer: who answered, tokens, cost, timings, context fit, fallbacks and why."""
    extra = m.extra
    if not m.request_id and not m.latency_ms:
        who = f"<b>{_e(m.model)}</b> · " if m.model else ""
        return f'<p>{who}<span class="muted">Imported: no request details are known for this answer.</span></p>'
    rows = [("Model", f"<b>{_e(m.model or 'unknown')}</b>"), ("Provider", _e(m.provider or "–"))]
    if m.simulated:
        rows.append(("Answer", simulated_html()))
    rows += [
        ("Tokens", f"{fmt_tokens(m.prompt_tokens)} in · {fmt_tokens(m.completion_tokens)} out"),
        ("Cost", cost_html(m.cost_usd, m.cost_source, MUTED)),
        ("Latency", fmt_ms(m.latency_ms or extra.get("latency_ms"))),
    ]
    if extra.get("ttft_ms") is not None:
        rows.append(("First token", fmt_ms(extra.get("ttft_ms"))))
    rows.append(("Context", _e(extra.get("fit") or "the whole thread was sent")))
    calls = extra.get("tool_calls") or ()
    if calls:
        names = ", ".join(dict.fromkeys(str((c.get("function") or {}).get("name", "?")) for c in calls))
        rows.append(("Tool calls", f"{len(calls)} ({_e(names)})"))
    cells = "".join(f'<tr><td class="key">{k}</td><td>{v}</td></tr>' for k, v in rows)
    out = [f'<table cellspacing="0" cellpadding="1">{cells}</table>']
    every = attempts_of(extra)
    attempts = [a for a in every if a.outcome != HEDGE_LOSER]  # a hedge's cancelled call is no fallback
    warn = state_color("warning")
    if len(attempts) > 1 or any(a.outcome != "ok" for a in attempts):
        out.append(f'<p style="{GAP}"><b style="color:{warn}">Fell back</b><br>{_e(attempts_trail(attempts))}</p>')
    else:
        out.append(f'<p style="{GAP}"><b>Fallbacks</b><br><span class="muted">none needed</span></p>')
    if extra.get("hedged"):
        out.append(f'<p style="{GAP}"><b>Hedged</b><br>{hedge_text(m.model, every, extra.get("hedge_cost_usd"))}</p>')
    if extra.get("refusal"):
        out.append(f'<p style="{GAP}"><b style="color:{warn}">Refused</b><br>{_e(extra["refusal"])}</p>')
    if extra.get("finish_reason") == "length":
        out.append(f'<p style="color:{warn}">The answer stopped at the max-tokens limit; raise Max tokens.</p>')
    reasons = [str(r) for r in extra.get("reasons") or ()]
    out.append(f'<p style="{GAP}"><b>Why this model</b><br>')
    out.append("<br>".join(f"• {_e(r)}" for r in reasons) or '<span class="muted">no explanation stored</span>')
    out.append("</p>")
    return "".join(out)


def hedge_text(winner: str | None, attempts: Sequence[Attempt], loser_cost: object) -> str:
    """Rich text saying how a hedged answer was made: a second model was started because the first token was
    late, which answered first, which call was cancelled, and what the cancelled call cost (part of the cost)."""
    losers = list(dict.fromkeys(a.model for a in attempts if a.outcome == HEDGE_LOSER))
    said = "A second model was started because the first token was late; the first to answer won."
    if losers and winner:
        said = (
            f"The first token was late, so a second model was started beside the first: <b>{_e(winner)}</b> "
            f"answered first and {_e(', '.join(losers))} was cancelled."
        )
    cost = float(loser_cost) if isinstance(loser_cost, int | float) else 0.0
    paid = (
        f"The loser cost {fmt_usd(cost)} (included in the cost above)."
        if cost > 0
        else "The loser cost nothing (it was cancelled before it was billed)."
    )
    return f'{said}<br><span class="muted">{paid}</span>'


def error_html(exc: BaseException) -> str:
    """Rich text for a failed request: the error class in red, what happened, each attempt, and the hint."""
    color = state_color("error")
    if not isinstance(exc, EngineError):
        return f'<p><b style="color:{color}">Unexpected error</b><br>{_e(type(exc).__name__)}: {_e(exc)}</p>'
    attempts: Sequence[Attempt] = getattr(exc, "attempts", ())
    message = exc.message.split("\n", 1)[0] if attempts else exc.message
    out = [f'<p><b style="color:{color}">{_e(type(exc).__name__)}</b><br>{_e(message).replace(chr(10), "<br>")}</p>']
    if attempts:
        groups: list[tuple[Attempt, int]] = []
        for a in attempts:
            if groups and (groups[-1][0].model, groups[-1][0].outcome) == (a.model, a.outcome):
                groups[-1] = (a, groups[-1][1] + 1)
            else:
                groups.append((a, 1))
        lines = []
        for a, n in groups:
            times = f" ×{n}" if n > 1 else ""
            detail = f'<br><span style="color:{MUTED}">{_e(a.detail)}</span>' if a.detail else ""
            lines.append(f"• {_e(a.model)} → {_e(a.outcome)}{times}{detail}")
        out.append('<p style="margin-top:8px"><b>Attempts</b><br>' + "<br>".join(lines) + "</p>")
    if exc.hint:
        out.append(f'<p style="margin-top:8px; color:{MUTED}">{_e(exc.hint[:1].upper() + exc.hint[1:])}.</p>')
    return "".join(out)


def validation_text(exc: ValidationError) -> str:
    """A pydantic error as one readable sentence (``autodevai.text.validation_text``: the first problem, no "Value
    error," noise), said the window's way: capitalized, the field in words ("Max tokens: ..."), and no field
    named for the prompt itself, which the user sees as the text box, not as "messages"."""
    sentence, field = _validation_text(exc)
    if field is not None:
        sentence = sentence.removeprefix(f"{field}: ")
        if field not in ("messages", "messages.content"):
            sentence = f"{field.replace('_', ' ')}: {sentence}"
    return sentence[:1].upper() + sentence[1:] or "The request is not valid."
