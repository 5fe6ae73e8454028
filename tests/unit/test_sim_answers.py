"""What simulated models say: checkable answers, accuracy, determinism, length bounds, token estimates."""

from __future__ import annotations

import pytest

from autodevai.sim.answers import answer, prompt_tokens


def ask(prompt: str, accuracy: float = 1.0, *, seed: int = 0, model: str = "m", max_tokens: int | None = None) -> str:
    return answer(seed, model, [{"role": "user", "content": prompt}], max_tokens, accuracy).text


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What is 17*23?", "17 × 23 = 391."),
        ("What is 17 x 23?", "17 × 23 = 391."),
        ("What is 17×23?", "17 × 23 = 391."),
        ("Compute 100 - 58", "100 - 58 = 42."),
        ("What is 12 / 4?", "12 / 4 = 3."),
        ("What is 10/4?", "10 / 4 = 2.5."),
        ("What is 2 + 3 * 4?", "2 + 3 × 4 = 14."),
        ("What is 5 - -3?", "5 - -3 = 8."),
        ("What is 1.5 * 4?", "1.5 × 4 = 6."),
        ("What is 7/0?", "Division by zero is undefined."),
        ("What is the capital of France?", "The capital of France is Paris."),
        ("capital of the UK?", "The capital of United Kingdom is London."),
    ],
)
def test_accurate_model_answers_checkable_tasks_right(prompt: str, expected: str) -> None:
    assert ask(prompt, accuracy=1.0) == expected


def test_inaccurate_model_gives_a_plausible_wrong_number() -> None:
    wrong = ask("What is 17*23?", accuracy=0.0)
    assert wrong.startswith("17 × 23 = ") and wrong != "17 × 23 = 391."
    value = int(wrong.removeprefix("17 × 23 = ").rstrip("."))
    assert abs(value - 391) <= 100
    city = ask("What is the capital of France?", accuracy=0.0)
    assert city.startswith("The capital of France is ") and "Paris" not in city


def test_correctness_rate_follows_accuracy() -> None:
    n = 2000
    right = sum(
        answer(1, "m", [{"role": "user", "content": f"What is {i}+{i * 3}?"}], None, 0.7).correct is True
        for i in range(n)
    )
    assert right / n == pytest.approx(0.7, abs=0.04)


def test_answers_are_deterministic_in_seed_model_and_prompt() -> None:
    prompt = "Why do systems need backpressure?"
    assert ask(prompt, seed=1) == ask(prompt, seed=1)
    varied = {ask(prompt, seed=s) for s in range(10)} | {ask(prompt, model=f"m{s}") for s in range(10)}
    assert len(varied) > 3


def test_prose_is_readable_mentions_the_topic_and_respects_max_tokens() -> None:
    reply = answer(0, "m", [{"role": "user", "content": "Explain vector databases"}], None, 0.9)
    assert reply.correct is None and reply.finish_reason == "stop"
    assert "vector" in reply.text and reply.text.endswith(".")
    assert 10 <= reply.completion_tokens <= 60
    assert "".join(reply.pieces) == reply.text
    short = answer(0, "m", [{"role": "user", "content": "Explain vector databases"}], 6, 0.9)
    assert short.completion_tokens <= 6 and short.finish_reason == "length"
    assert reply.text.startswith(short.text)


def test_prompt_tokens_are_real_tokenizer_counts_plus_four_per_message() -> None:
    import tiktoken

    from autodevai.adapters.tokenizer import install_offline_encodings

    install_offline_encodings()
    enc = tiktoken.get_encoding("o200k_base")
    system, user = "You are a terse assistant.", "Wie spät ist es in Tokio?"
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": [{"type": "text", "text": user}]},
    ]
    expected = len(enc.encode_ordinary(system)) + 4 + len(enc.encode_ordinary(user)) + 4
    assert prompt_tokens(messages) == expected


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        ("multiply that by 2", "288"),
        ("Now add 6 to it.", "150"),
        ("what is that minus 44?", "100"),
        ("double it", "288"),
        ("divide the result by 4", "36"),
    ],
)
def test_a_follow_up_uses_the_previous_answer(follow_up: str, expected: str) -> None:
    history = [
        {"role": "user", "content": "What is 12*12?"},
        {"role": "assistant", "content": "12 × 12 = 144."},
        {"role": "user", "content": follow_up},
    ]
    assert answer(3, "openai/gpt-4o", history, None, 1.0).text.endswith(f"= {expected}.")
    alone = answer(3, "openai/gpt-4o", history[-1:], None, 1.0).text  # without the history: no number to use
    assert f"= {expected}." not in alone


def test_asking_for_n_words_gives_a_long_answer_in_paragraphs() -> None:
    prompt = [{"role": "user", "content": "Write about back-pressure in 1500 words."}]
    reply = answer(0, "m", prompt, 4000, 0.9)
    assert reply.finish_reason == "stop"
    assert 1500 <= reply.completion_tokens <= 2000  # ~4/3 tokens a word
    assert reply.text.count("\n\n") >= 2
    capped = answer(0, "m", prompt, 300, 0.9)
    assert capped.finish_reason == "length" and capped.completion_tokens <= 300
