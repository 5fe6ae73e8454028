"""How numbers and suggestions read for people, once for every face and the engine's own messages: money, prices
per million tokens, durations, how long ago, token counts, scores, "did you mean", and a validation error as one
sentence.

Neutral ground: no import of any AutoDevAI package and no third-party library, so the engine, the CLI, the GUI
and the gateway all use it without depending on one another (DESIGN.md §9).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "did_you_mean",
    "fmt_ago",
    "fmt_latency",
    "fmt_ms",
    "fmt_per_million",
    "fmt_score",
    "fmt_tokens",
    "fmt_usd",
    "suggestion",
    "validation_text",
]


def fmt_usd(value: float | None) -> str:
    """Dollars for people: "-" for none, "$0" for nothing, 6 decimals below a cent (one request's cost), 4 above,
    thousands separated."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.6f}"
    return f"${value:,.4f}"


def fmt_per_million(price_per_token: float) -> str:
    """USD per token as dollars per million tokens ("$2.50"), or "free"."""
    per_m = price_per_token * 1_000_000
    return "free" if per_m == 0 else f"${per_m:,.2f}"


def fmt_score(value: float, digits: int = 3) -> str:
    """A score with ``digits`` decimals; a value that rounds to zero prints as 0, never as "-0.000"."""
    rounded = round(value, digits) + 0.0  # IEEE 754: -0.0 + 0.0 == +0.0
    return f"{rounded:.{digits}f}"


def fmt_ms(value: float | None) -> str:
    """Milliseconds for people: "-" for none, "12.3 ms", "1,234 ms", "12.3 s" from ten seconds on."""
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:,.0f} ms"
    return f"{value:.1f} ms"


def fmt_latency(ms: float) -> str:
    """A latency inside a sentence: whole milliseconds ("640 ms"), tenths of seconds from one second on ("2.5 s")."""
    return f"{ms / 1000.0:.1f} s" if ms >= 1000.0 else f"{ms:.0f} ms"


def fmt_ago(seconds: float) -> str:
    """How long ago something happened, ``seconds`` before now: "just now" (under 5 s), "12 s ago", "2 min ago",
    "3 h ago", "2 days ago" ("1 day ago")."""
    s = max(0, int(seconds))
    if s < 5:
        return "just now"
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86_400:
        return f"{s // 3600} h ago"
    days = s // 86_400
    return f"{days} day{'s' if days != 1 else ''} ago"


def fmt_tokens(value: int | None) -> str:
    """Token counts for people: "-", "9,876", "12K", "1.2M"."""
    if value is None:
        return "-"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value // 1000}K"
    return f"{value:,}"


def did_you_mean(name: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of ``choices`` close to ``name``, best first."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=cutoff)


def suggestion(close: Sequence[str], otherwise: str = "") -> str:
    """The ``" (did you mean 'a', 'b'?)"`` tail of a message for close matches, else ``otherwise``."""
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else otherwise


def validation_text(exc: Any) -> tuple[str, str | None]:
    """A pydantic ``ValidationError`` (anything with ``.errors()``) as (one readable sentence, the dotted field it
    names or None): "temperature: must be at most 2" — the first problem only, as a person fixes one at a time."""
    errors: Sequence[Mapping[str, Any]] = exc.errors(include_url=False) if hasattr(exc, "errors") else []
    if not errors:
        return str(exc), None
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if not isinstance(p, int)) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return (f"{field}: {message}" if field else message), field
