"""How a finished answer reads in Execute (pure formatting, rich text): who answered — with a "Simulated" tag
when AutoDevAI's simulator did — its tokens, cost (or "unknown"), timings, the fallback trail, a refusal, why
routing chose the model and which fallbacks were ready; a failed request's error class, attempts and hint; and a
pydantic validation error as plain sentences.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pydantic import ValidationError

from autodevai.engine.errors import Attempt, EngineError
from autodevai.engine.types import EngineResponse
from autodevai.gui.labels import cost_html, simulated_html
from autodevai.gui.theme import state_color
from autodevai.text import fmt_ms, fmt_tokens
from autodevai.text import validation_text as _validation_text

__all__ = ["MUTED", "attempts_trail", "details_html", "error_html", "validation_text"]

MUTED = "#8b9099"  # the themes' placeholder gray: readable on light and dark backgrounds


def _e(text: object) -> str:
    return html.escape(str(text))


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


def details_html(resp: EngineResponse) -> str:
    """Rich text for a finished answer: who answered, tokens, cost, timings, and the routing explanation."""
    u = resp.usage
    counted = ((u.reasoning_tokens, "reasoning"), (u.cached_tokens, "cached"))
    extra = ", ".join(f"{fmt_tokens(n)} {what}" for n, what in counted if n)
    tokens = f"{fmt_tokens(u.prompt_tokens)} in · {fmt_tokens(u.completion_tokens)} out"
    rows = [
        ("Model", f"<b>{_e(resp.model)}</b>"),
        ("Provider", _e(resp.provider)),
        ("Tokens", tokens + (f" ({extra})" if extra else "")),
        ("Cost", cost_html(resp.cost_usd, resp.cost_source, MUTED)),
        ("Latency", fmt_ms(resp.latency_ms)),
        ("First token", fmt_ms(resp.ttft_ms)),
    ]
    if resp.simulated:  # the badge's tooltip (and the Answer header's) says what it means
        rows.insert(1, ("Answer", simulated_html()))
    if resp.tool_calls:
        names = ", ".join(dict.fromkeys(c.name for c in resp.tool_calls))
        rows.append(("Tool calls", f"{len(resp.tool_calls)} ({_e(names)})"))
    cells = "".join(f'<tr><td style="color:{MUTED}; padding-right:14px">{k}</td><td>{v}</td></tr>' for k, v in rows)
    out = [f'<table cellspacing="0" cellpadding="2">{cells}</table>']

    if resp.fell_back:
        color = state_color("warning")
        out.append(f'<p style="margin-top:10px"><b style="color:{color}">Fell back</b><br>')
        out.append(f"{_e(attempts_trail(resp.attempts))}</p>")
    if resp.refusal:
        out.append(f'<p style="margin-top:10px"><b style="color:{state_color("warning")}">Refused</b><br>')
        out.append(f"{_e(resp.refusal)}</p>")
    if resp.finish_reason == "length":
        out.append(
            f'<p style="color:{state_color("warning")}">The answer stopped at the max-tokens limit; '
            "raise Max tokens for a longer one.</p>"
        )
    route = resp.route
    out.append(f'<p style="margin-top:10px"><b>Why this model</b> <span style="color:{MUTED}">· ')
    out.append(f"{_e(route.preference.value)}</span><br>")
    out.append("<br>".join(f"• {_e(r)}" for r in route.reasons) or "• no explanation given")
    out.append("</p>")
    fallbacks = [c.model for c in route.candidates[1:]]
    out.append('<p style="margin-top:10px"><b>Fallbacks ready</b><br>')
    out.append("<br>".join(f"{i}. {_e(m)}" for i, m in enumerate(fallbacks, 1)) or "none")
    out.append("</p>")
    return "".join(out)


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
