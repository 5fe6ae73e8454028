"""Plain-text rendering for the CLI: aligned tables, money, durations. No colors, so output pipes cleanly."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from autodevai.engine.serialize import to_jsonable
from autodevai.text import fmt_ms, fmt_per_million, fmt_score, fmt_tokens, fmt_usd

__all__ = ["dump_json", "fmt_ms", "fmt_per_million", "fmt_score", "fmt_tokens", "fmt_usd", "json_line", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    """Print an aligned table; numeric-looking columns are right-aligned."""
    out = out or sys.stdout
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_looks_numeric(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(headers))]
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(parts).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _looks_numeric(text: str) -> bool:
    t = text.replace("$", "").replace(",", "").replace("%", "").replace(" ms", "").replace(" s", "")
    t = t.replace("K", "").replace("M", "").strip()
    if t in ("", "-", "free"):
        return True
    try:
        float(t)
    except ValueError:
        return False
    return True


def _no_negative_zero(value: Any) -> Any:
    if isinstance(value, float):
        return value + 0.0  # -0.0 becomes 0.0; every other float is unchanged
    if isinstance(value, dict):
        return {k: _no_negative_zero(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_negative_zero(v) for v in value]
    return value


def dump_json(value: Any, out: TextIO | None = None) -> None:
    """``value`` as indented JSON (``to_jsonable``), with no ``-0.0``."""
    json.dump(_no_negative_zero(to_jsonable(value)), out or sys.stdout, indent=2, ensure_ascii=False)
    print(file=out or sys.stdout)


def json_line(value: Any) -> str:
    """``value`` as one line of compact JSON (a JSON Lines record, without the newline), with no ``-0.0``."""
    return json.dumps(_no_negative_zero(to_jsonable(value)), ensure_ascii=False)
