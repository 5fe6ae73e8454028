"""What a message bubble says (pure): who answered with a "SIMULATED" tag, cost "unknown" rather than $0, the
"‹ 2/3 ›" switcher, the details (reasons, fallbacks, fit), and imported answers that have no request behind them."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from autodevai.engine.conversations import ThreadMessage
from autodevai.gui.chat.content import message_body
from autodevai.gui.chat.rows import Row, bubble_html

ATTEMPTS = [
    {"provider": "sim", "model": "openai/gpt-4o", "outcome": "ProviderUnavailable", "detail": "503"},
    {"provider": "sim", "model": "openai/gpt-4o", "outcome": "ProviderUnavailable", "detail": "503"},
    {"provider": "sim", "model": "anthropic/claude-3.5-sonnet", "outcome": "ok", "detail": ""},
]


def _text(row: Row, expanded: tuple[str, ...] = ()) -> str:
    content = row.message.content if row.message is not None else row.text
    doc = QTextDocument()
    doc.setHtml(bubble_html(row, message_body(row.key, row.role, content), expanded=expanded))
    return doc.toPlainText()


def _answer(**kw: object) -> ThreadMessage:
    fields: dict[str, object] = {
        "model": "anthropic/claude-3.5-sonnet", "provider": "sim", "request_id": "r1", "prompt_tokens": 120,
        "completion_tokens": 30, "cost_usd": 0.0, "cost_source": "unknown", "latency_ms": 812.0, "simulated": True,
        "extra": {"reasons": ["balanced: best weighted score"], "attempts": ATTEMPTS, "fit": "41K of 128K; 12 older "
                  "messages compressed, quality 0.93", "ttft_ms": 120.0, "finish_reason": "stop"},
    }  # fmt: skip
    fields.update(kw)
    return ThreadMessage("a1", "c1", "u1", "assistant", "It is **144**.", 1.0, **fields)  # type: ignore[arg-type]


def test_an_answer_says_who_what_it_cost_and_why(qapp: object) -> None:
    row = Row("a1", "message", "assistant", _answer(), branch=(2, 3))
    shown = _text(row)
    assert shown.startswith("anthropic/claude-3.5-sonnet   SIMULATED   ‹ 2/3 ›\nIt is 144.")
    assert "812 ms · cost unknown · 150 tokens" in shown and "$0" not in shown
    assert "Copy · Regenerate · Details ▸" in shown
    details = _text(row, ("details",))
    assert "Cost\nunknown (not reported, no catalog price)" in details
    assert "Context\n41K of 128K; 12 older messages compressed, quality 0.93" in details
    assert "Fell back\nopenai/gpt-4o → ProviderUnavailable ×2, then anthropic/claude-3.5-sonnet ✓" in details
    assert "Why this model\n• balanced: best weighted score" in details and "First token\n120 ms" in details


def test_your_message_and_an_imported_answer(qapp: object) -> None:
    mine = ThreadMessage("u1", "c1", None, "user", "multiply 2*3 and 4*5", 0.5)
    shown = _text(Row("u1", "message", "user", mine))
    assert shown == "You\nmultiply 2*3 and 4*5\nCopy · Edit"
    imported = _answer(request_id="", latency_ms=0.0, simulated=False, cost_source="provider", extra={})
    row = Row("a1", "message", "assistant", imported)
    assert "imported   Copy" in _text(row) and "SIMULATED" not in _text(row)
    assert "Imported: no request details" in _text(row, ("details",))


def test_a_hedged_answer_says_so_and_what_the_loser_cost(qapp: object) -> None:
    raced = [
        {"provider": "sim", "model": "openai/gpt-4o-mini", "outcome": "hedged", "detail": "cancelled: llama answered"},
        {"provider": "sim", "model": "meta-llama/llama-3.1-8b-instruct", "outcome": "ok", "detail": "hedged"},
    ]
    extra = {"reasons": ["pinned"], "attempts": raced, "hedged": True, "hedge_cost_usd": 0.000042}
    hedged = _answer(model="meta-llama/llama-3.1-8b-instruct", extra=extra)
    assert "812 ms · cost unknown · 150 tokens · hedged" in _text(Row("a1", "message", "assistant", hedged))
    details = _text(Row("a1", "message", "assistant", hedged), ("details",))
    assert (
        "Hedged\nThe first token was late, so a second model was started beside the first: "
        "meta-llama/llama-3.1-8b-instruct answered first and openai/gpt-4o-mini was cancelled." in details
    ), details
    assert "The loser cost $0.000042 (included in the cost above)." in details
    assert "Fallbacks\nnone needed" in details, "a hedge's cancelled call is not a fallback"

    free = _answer(extra={**extra, "hedge_cost_usd": 0.0})
    assert "The loser cost nothing" in _text(Row("a1", "message", "assistant", free), ("details",))
    plain = _text(Row("a1", "message", "assistant", _answer()), ("details",))
    assert "Hedged" not in plain and "hedged" not in plain
