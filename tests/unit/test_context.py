"""Context sizing: token estimates and fitting a conversation into a model's window."""

from __future__ import annotations

import re

import pytest

from autodevai.engine import constants as C
from autodevai.engine.context import FitReport, estimate_tokens, fit_messages, message_tokens
from autodevai.engine.errors import ContextTooLong
from autodevai.engine.types import ChatMessage


def sys(text: str) -> ChatMessage:
    return ChatMessage(role="system", content=text)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=text)


def conversation(turns: int, size: int = 400) -> list[ChatMessage]:
    msgs = [sys("You are a helpful assistant.")]
    for i in range(turns):
        msgs.append(user(f"question {i} " + "q" * size))
        msgs.append(assistant(f"answer {i} " + "a" * size))
    msgs.append(user("the newest question: what about caching?"))
    return msgs


def test_estimate_grows_with_text_and_counts_overhead() -> None:
    assert message_tokens(user("")) == C.MESSAGE_OVERHEAD_TOKENS
    assert estimate_tokens([]) == 3  # tokens that prime the reply
    sizes = [estimate_tokens([user("x" * n)]) for n in range(0, 2000, 7)]
    assert sizes == sorted(sizes)
    assert sizes[-1] > sizes[0]
    # Every message costs its overhead even when empty: two empty messages cost more than one.
    assert estimate_tokens([user(""), user("")]) == estimate_tokens([user("")]) + C.MESSAGE_OVERHEAD_TOKENS
    assert estimate_tokens([user("x" * 4000)]) == pytest.approx(1000 + C.MESSAGE_OVERHEAD_TOKENS + 3, abs=2)


def test_fit_is_a_no_op_when_it_fits() -> None:
    msgs = conversation(2)
    need = estimate_tokens(msgs)
    fitted, report = fit_messages(msgs, need)
    assert fitted == tuple(msgs)
    assert report.strategy == "none"
    assert report.tokens_before == report.tokens_after == need
    assert report.dropped_messages == 0 and report.removed_chars == 0
    assert report.ratio == 0.0


def test_drop_oldest_keeps_system_and_newest_turns() -> None:
    msgs = conversation(10)
    budget = estimate_tokens(msgs) // 3
    fitted, report = fit_messages(msgs, budget)
    assert report.strategy == "drop-oldest"
    assert estimate_tokens(fitted) <= budget
    assert report.tokens_after == estimate_tokens(fitted)
    assert fitted[0] == msgs[0]  # the system prompt survives
    assert fitted[-1] == msgs[-1]  # the newest turn survives
    # What is kept is the newest contiguous run of turns, in order.
    kept = list(fitted[1:])
    assert kept == msgs[len(msgs) - len(kept) :]
    assert report.dropped_messages == len(msgs) - len(fitted)
    dropped = msgs[1 : len(msgs) - len(kept)]
    assert report.removed_chars == sum(len(m.content) for m in dropped)
    assert 0 < report.ratio < 1
    assert report.ratio == pytest.approx(1 - report.tokens_after / report.tokens_before)


def test_every_system_message_is_kept() -> None:
    msgs = [sys("rule one"), *conversation(8)[1:-1], sys("rule two"), user("newest")]
    fitted, report = fit_messages(msgs, 120)
    assert report.strategy == "drop-oldest"
    assert [m.content for m in fitted if m.role == "system"] == ["rule one", "rule two"]
    assert fitted[-1].content == "newest"
    assert estimate_tokens(fitted) <= 120


def test_middle_out_on_one_huge_message() -> None:
    head, tail = "HEAD-" + "h" * 2000, "t" * 2000 + "-TAIL"
    huge = head + "m" * 100_000 + tail
    msgs = [sys("be brief"), user("an older turn " * 20), user(huge)]
    budget = 2_000
    fitted, report = fit_messages(msgs, budget)
    assert report.strategy == "middle-out"
    assert estimate_tokens(fitted) <= budget
    assert report.tokens_after == estimate_tokens(fitted)
    assert fitted[0] == msgs[0]
    assert len(fitted) == 2  # the older turn went, the huge one was cut
    text = fitted[-1].content
    assert text.startswith("HEAD-")
    assert text.endswith("-TAIL")
    assert "characters removed to fit the context window" in text
    # The report says what was removed: the older turn entirely plus the middle of the huge message.
    marker = re.search(r"\n\[… (\d+) characters removed to fit the context window …\]\n", text)
    assert marker is not None
    cut = int(marker.group(1))
    assert len(text) - len(marker.group(0)) + cut == len(huge)  # head + tail + what the marker counts
    assert report.removed_chars == len(msgs[1].content) + cut
    assert report.removed_chars < len(huge) + len(msgs[1].content)
    assert report.dropped_messages == 1
    assert report.ratio > 0.9


@pytest.mark.parametrize("budget", [30, 64, 257, 1_001, 5_000])
def test_middle_out_always_fits_the_budget(budget: int) -> None:
    msgs = [sys("s"), user("z" * 80_000)]
    fitted, report = fit_messages(msgs, budget)
    assert estimate_tokens(fitted) <= budget
    assert report.strategy == "middle-out"


def test_system_prompt_alone_too_big_raises() -> None:
    msgs = [sys("x" * 4_000), user("hi")]
    with pytest.raises(ContextTooLong) as info:
        fit_messages(msgs, 500)
    assert info.value.limit == 500
    assert info.value.tokens == estimate_tokens([msgs[0]])
    assert "system prompt" in str(info.value)
    assert "larger context window" in str(info.value)  # the hint says what to do


def test_no_room_left_for_the_user_turn_raises() -> None:
    system = sys("x" * 380)  # ~100 tokens
    with pytest.raises(ContextTooLong):
        fit_messages([system, user("y" * 10_000)], estimate_tokens([system]) + 5)


def test_ratio_of_an_empty_report_is_zero() -> None:
    assert FitReport("none", 0, 0, 0, 0, 0.0).ratio == 0.0
    assert FitReport("drop-oldest", 200, 50, 3, 600, 0.1).ratio == pytest.approx(0.75)


def test_non_english_text_and_code_do_not_crash() -> None:
    code = "```python\ndef f(x):\n    return {'a': x}  # {task} {steps.x}\n```\n"
    msgs = [
        sys("Réponds en français. 日本語でも答えてください。"),
        user("Привет, " * 500 + "👋🏽" * 300),
        assistant(code * 50),
        user("مرحبا " * 2_000 + code + "最后一个问题：缓存怎么设计？"),
    ]
    assert estimate_tokens(msgs) > 0
    fitted, report = fit_messages(msgs, 600)
    assert estimate_tokens(fitted) <= 600
    assert fitted[-1].content.endswith("最后一个问题：缓存怎么设计？")
    assert fitted[0].content.startswith("Réponds")
    assert report.strategy == "middle-out"
