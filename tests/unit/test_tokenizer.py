"""TiktokenCounter: exact offline counts equal to tiktoken's, a refused damaged file, the model table,
chat-format overhead and the calibration learned from what providers report."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public

from autodevai.adapters.tokenizer import (
    BUNDLED_HASHES,
    TiktokenCounter,
    encoding_for_model,
    load_encoding,
    model_key,
)
from autodevai.engine.errors import ConfigError
from autodevai.engine.ports import TokenCounter
from autodevai.engine.types import ChatMessage

TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog. I'd've thought they'll SHOUT, won't they?",
    'def f(x: int) -> dict[str, int]:\n    return {"a": x ** 2}  # comment\n\n\tif x >= 10_000: pass\n',
    "Emoji: 🙂🚀👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵 mixed with text",
    "日本語のテキストと中文文本，还有한국어 문장도 있습니다。",
    "النص العربي يكتب من اليمين إلى اليسار، مع أرقام ١٢٣ و 456.",
    "<|endoftext|> user text that looks like <|endofprompt|> and <|fim_prefix|> special tokens",
    "numbers 1234567890 3.14159 -42 1e10 and   lots    of\n\n\n   whitespace \r\n\t ",
    "a lone surrogate \ud83d in the middle",
    "",
    # Past the short-text cache (256 chars) and long enough to take every regex branch many times.
    ("Lorem ipsum dolor sit amet, 123 consectetur; 東京 🙂 <|endoftext|> ال  \n" * 40),
]
OPENAI_MODELS = ["gpt-4o", "openai/gpt-4.1-mini", "o3-mini", "openai/gpt-5", "gpt-4", "openai/gpt-3.5-turbo"]
URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
DEAD_PROXY = "http://127.0.0.1:9"


def bundled_bytes(name: str) -> bytes:
    return (importlib.resources.files("autodevai") / "data" / "tiktoken" / f"{name}.tiktoken").read_bytes()


@pytest.fixture(scope="module")
def counter() -> TiktokenCounter:
    return TiktokenCounter()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tiktoken.Encoding]]:
    """tiktoken's own constructors (tiktoken_ext/openai_public.py) fed the bundled bytes through tiktoken's cache,
    with the network unreachable: an independent parser and the upstream constants."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in URLS.items():
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(bundled_bytes(name))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            mp.setenv(var, DEAD_PROXY)
        yield {
            "o200k_base": tiktoken.Encoding(**openai_public.o200k_base()),
            "cl100k_base": tiktoken.Encoding(**openai_public.cl100k_base()),
            "o200k_harmony": tiktoken.Encoding(**openai_public.o200k_harmony()),
        }


def test_bundled_files_carry_tiktokens_pinned_hashes() -> None:
    for name, expected in BUNDLED_HASHES.items():
        assert hashlib.sha256(bundled_bytes(name)).hexdigest() == expected


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base", "o200k_harmony"])
def test_constants_match_tiktokens_own(name: str, reference: dict[str, tiktoken.Encoding]) -> None:
    ours = load_encoding(name)
    ref = reference[name]
    assert ours._pat_str == ref._pat_str
    assert ours._special_tokens == ref._special_tokens
    assert ours._mergeable_ranks == ref._mergeable_ranks
    assert ours.n_vocab == ref.n_vocab


@pytest.mark.parametrize("model", OPENAI_MODELS)
def test_openai_counts_equal_tiktoken(
    model: str, counter: TiktokenCounter, reference: dict[str, tiktoken.Encoding]
) -> None:
    name = counter.encoding_name(model)
    registered = tiktoken.get_encoding(name)
    assert counter.is_exact(model)
    for text in TEXTS:
        expected = reference[name].encode_ordinary(text)
        assert registered.encode_ordinary(text) == expected
        assert counter.count(text, model) == len(expected), text[:40]


def test_special_token_text_is_counted_as_text(counter: TiktokenCounter) -> None:
    # One special token would be 1; as plain text it is several, and it never raises.
    assert counter.count("<|endoftext|>", "gpt-4o") == 7
    assert counter.count("<|endoftext|>", "gpt-4") > 1
    assert counter.count("hello world", "gpt-4o") == 2


def test_works_with_the_network_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process with an empty tiktoken cache, a dead proxy, and any socket use refused by an audit hook."""
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, DEAD_PROXY)
    child = """
import json, sys
def guard(event, args):
    if event.startswith("socket.") or event == "urllib.Request":
        raise RuntimeError(f"network use: {event}")
sys.addaudithook(guard)
import tiktoken
from autodevai.adapters.tokenizer import TiktokenCounter
c = TiktokenCounter()
text = sys.argv[1]
print(json.dumps({
    "gpt-4o": c.count(text, "openai/gpt-4o"),
    "gpt-4": c.count(text, "gpt-4"),
    "get_encoding": len(tiktoken.get_encoding("cl100k_base").encode_ordinary(text)),
    "for_model": len(tiktoken.encoding_for_model("gpt-4o").encode_ordinary(text)),
    "harmony": len(tiktoken.encoding_for_model("gpt-oss-120b").encode_ordinary(text)),
}))
"""
    text = TEXTS[1] + TEXTS[4]
    done = subprocess.run(
        [sys.executable, "-c", child, text], capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    here = TiktokenCounter()
    assert got == {
        "gpt-4o": here.count(text, "gpt-4o"),
        "gpt-4": here.count(text, "gpt-4"),
        "get_encoding": here.count(text, "gpt-4"),
        "for_model": here.count(text, "gpt-4o"),
        "harmony": here.count(text, "gpt-4o"),
    }
    assert list(cache.iterdir()) == []  # nothing was downloaded or cached


def _copy_bundle(to: Path) -> Path:
    to.mkdir()
    for name in BUNDLED_HASHES:
        (to / f"{name}.tiktoken").write_bytes(bundled_bytes(name))
    return to


def test_a_damaged_file_is_refused_with_a_clear_error(tmp_path: Path, counter: TiktokenCounter) -> None:
    data_dir = _copy_bundle(tmp_path / "tok")
    damaged = bytearray(bundled_bytes("o200k_base"))
    damaged[1000] = ord("A") if damaged[1000] != ord("A") else ord("B")  # still parses; only the hash can tell
    (data_dir / "o200k_base.tiktoken").write_bytes(bytes(damaged))
    local = TiktokenCounter(data_dir)
    with pytest.raises(ConfigError, match=r"o200k_base\.tiktoken is damaged") as err:
        local.count("hello", "gpt-4o")
    assert "reinstall" in str(err.value)
    # The intact file in the same directory still works and agrees with the bundled one.
    assert local.count(TEXTS[2], "gpt-4") == counter.count(TEXTS[2], "gpt-4")


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cl100k_base\.tiktoken cannot be read from directory .*No such file"):
        TiktokenCounter(tmp_path).count("hello", "gpt-4")


def test_a_crlf_checkout_is_accepted(tmp_path: Path, counter: TiktokenCounter) -> None:
    data_dir = tmp_path / "tok"
    data_dir.mkdir()
    (data_dir / "cl100k_base.tiktoken").write_bytes(bundled_bytes("cl100k_base").replace(b"\n", b"\r\n"))
    assert TiktokenCounter(data_dir).count(TEXTS[5], "gpt-4") == counter.count(TEXTS[5], "gpt-4")


@pytest.mark.parametrize(
    ("model", "encoding", "exact"),
    [
        ("gpt-4o", "o200k_base", True),
        ("openai/gpt-4o-mini", "o200k_base", True),
        ("openai/gpt-4o-2024-08-06", "o200k_base", True),
        ("chatgpt-4o-latest", "o200k_base", True),
        ("openai/gpt-4.1-nano", "o200k_base", True),
        ("openai/gpt-4.5-preview", "o200k_base", True),
        ("gpt-5", "o200k_base", True),
        ("openai/gpt-5-mini:free", "o200k_base", True),
        ("o1", "o200k_base", True),
        ("openai/o1-preview", "o200k_base", True),
        ("o3-mini", "o200k_base", True),
        ("openai/o4-mini-high", "o200k_base", True),
        ("openai/gpt-oss-120b", "o200k_base", True),
        ("ft:gpt-4o-mini-2024-07-18:acme:custom:abc123", "o200k_base", True),
        ("gpt-4", "cl100k_base", True),
        ("openai/gpt-4-turbo", "cl100k_base", True),
        ("gpt-4-0613", "cl100k_base", True),
        ("gpt-4-32k", "cl100k_base", True),
        ("gpt-3.5-turbo", "cl100k_base", True),
        ("openai/gpt-3.5-turbo-instruct", "cl100k_base", True),
        ("gpt-35-turbo", "cl100k_base", True),
        ("text-embedding-3-small", "cl100k_base", True),
        ("openai/text-embedding-3-large", "cl100k_base", True),
        ("anthropic/claude-3.5-sonnet", "o200k_base", False),
        ("google/gemini-2.5-pro", "o200k_base", False),
        ("meta-llama/llama-3.1-70b-instruct", "o200k_base", False),
        ("mistralai/mistral-large", "o200k_base", False),
        ("deepseek/deepseek-chat", "o200k_base", False),
        ("sim/small", "o200k_base", False),
        ("azure/gpt-4o", "o200k_base", False),  # another host's id: we cannot know its tokenizer
        ("gpt-40", "o200k_base", False),
        ("o10-max", "o200k_base", False),
        (None, "o200k_base", False),
    ],
)
def test_model_to_encoding(model: str | None, encoding: str, exact: bool, counter: TiktokenCounter) -> None:
    assert encoding_for_model(model) == (encoding, exact)
    assert counter.encoding_name(model) == encoding
    assert counter.is_exact(model) is exact


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "o1", "o3-mini", "gpt-4", "gpt-3.5-turbo", "gpt-4-turbo"]
)
def test_model_table_agrees_with_tiktokens(model: str) -> None:
    assert encoding_for_model(model)[0] == tiktoken.model.encoding_name_for_model(model)


def test_count_messages_uses_openais_chat_accounting(counter: TiktokenCounter) -> None:
    hello = [ChatMessage(role="user", content="hello")]
    assert counter.count_messages(hello, "gpt-4o") == 8  # what OpenAI bills: 3 + "user" + "hello" + 3
    msgs = [
        ChatMessage(role="system", content="You are a terse assistant."),
        ChatMessage(role="user", content=TEXTS[1], name="alice_w"),
        ChatMessage(role="assistant", content=TEXTS[4]),
    ]
    for model in ("gpt-4o", "gpt-4"):
        expected = 3 + sum(3 + counter.count(m.role, model) + counter.count(m.content, model) for m in msgs)
        expected += 1 + counter.count("alice_w", model)
        assert counter.count_messages(msgs, model) == expected


def test_count_many_equals_count(counter: TiktokenCounter) -> None:
    long_texts = [TEXTS[-1] * 30, TEXTS[2] * 800, TEXTS[4] * 5000]  # > 256K chars in all: the threaded path
    assert sum(map(len, long_texts)) > 256_000
    approx = TiktokenCounter()
    approx.load_calibration({"meta-llama/llama-3.1-8b": 1.37})
    for c, model in ((counter, "gpt-4o"), (counter, "gpt-4"), (approx, "meta-llama/llama-3.1-8b")):
        for texts in (TEXTS, long_texts, []):
            assert c.count_many(texts, model) == [c.count(t, model) for t in texts]


def test_approximate_counts_scale_by_the_factor(counter: TiktokenCounter) -> None:
    c = TiktokenCounter()
    model = "anthropic/claude-sonnet-4"
    raw = counter.count(TEXTS[-1], "gpt-4o")
    assert c.factor(model) == 1.0 and c.count(TEXTS[-1], model) == raw
    c.load_calibration({model: 1.25})
    assert c.count(TEXTS[-1], model) == round(raw * 1.25)
    msgs = [ChatMessage(role="user", content=TEXTS[-1])]
    assert c.count_messages(msgs, model) == round(counter.count_messages(msgs, "gpt-4o") * 1.25)


def test_calibration_learns_toward_what_the_provider_reports() -> None:
    c = TiktokenCounter()
    model = "google/gemini-2.5-flash"
    c.observe(model, 100, 130)  # the first sample is taken as it is
    assert c.factor(model) == pytest.approx(1.3)
    c.observe(model, 200, 260)  # the same ratio again: the factor stays
    assert c.factor(model) == pytest.approx(1.3)
    assert c.count(TEXTS[-1], model) == round(c.count(TEXTS[-1]) * 1.3)
    c.load_calibration({model: 1.0})  # a loaded factor then moves by alpha=0.2 per sample
    c.observe(model, 100, 200)
    assert c.factor(model) == pytest.approx(1.2)
    assert c.factor(f"{model}:free") == pytest.approx(1.2)  # variants share their model's tokenizer


def test_calibration_brings_estimates_close_to_a_foreign_tokenizer(counter: TiktokenCounter) -> None:
    """A provider whose tokenizer spends more tokens on CJK than o200k_base (here: cl100k_base plays it)."""
    c = TiktokenCounter()
    model = "someone/cjk-chat"
    prompts = [[ChatMessage(role="user", content=TEXTS[4] * (i + 3))] for i in range(12)]

    def billed(msgs: list[ChatMessage]) -> int:
        return counter.count_messages(msgs, "gpt-4")

    def error(msgs: list[ChatMessage]) -> float:
        return abs(c.count_messages(msgs, model) - billed(msgs)) / billed(msgs)

    before = error(prompts[-1])
    for msgs in prompts[:-1]:
        c.observe(model, c.count_messages(msgs), billed(msgs))  # the engine observes the uncalibrated count
    assert before > 0.15
    assert error(prompts[-1]) < 0.02


def test_calibration_is_clamped_and_ignores_tiny_or_exact_samples() -> None:
    c = TiktokenCounter()
    for _ in range(30):
        c.observe("x/up", 100, 900)
        c.observe("x/down", 900, 100)
    assert c.factor("x/up") == 2.0
    assert c.factor("x/down") == 0.5
    c.observe("x/tiny", 10, 19)
    c.observe("x/tiny", 19, 500)
    c.observe("gpt-4o", 100, 200)
    assert c.factor("x/tiny") == 1.0
    assert c.factor("gpt-4o") == 1.0
    assert c.count("hello world", "gpt-4o") == 2
    assert c.calibration() == {"x/up": 2.0, "x/down": 0.5}


def test_calibration_round_trips_through_persistence() -> None:
    first = TiktokenCounter()
    first.observe("Mistralai/Mistral-Large:beta", 100, 111)
    saved = first.calibration()
    assert saved == {"mistralai/mistral-large": pytest.approx(1.11)}
    second = TiktokenCounter()
    second.load_calibration({**saved, "x/huge": 9.0, "x/nan": math.nan, "gpt-4o": 1.5})
    assert second.factor("mistralai/mistral-large") == pytest.approx(1.11)
    assert second.factor("x/huge") == 2.0
    assert second.factor("x/nan") == 1.0
    assert second.factor("gpt-4o") == 1.0
    text = TEXTS[-1]
    assert second.count(text, "mistralai/mistral-large") == first.count(text, "mistralai/mistral-large")
    assert model_key("Mistralai/Mistral-Large:beta") == "mistralai/mistral-large"


def test_first_use_from_many_threads_agrees(tmp_path: Path, counter: TiktokenCounter) -> None:
    fresh = TiktokenCounter(_copy_bundle(tmp_path / "tok"))
    barrier = threading.Barrier(6)
    results: list[int] = []

    def work() -> None:
        barrier.wait()
        results.append(fresh.count(TEXTS[-1], "gpt-4"))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [counter.count(TEXTS[-1], "gpt-4")] * 6


def test_a_long_text_is_counted_whole(counter: TiktokenCounter) -> None:
    # Its speed (>= 1M tokens/s) is measured by bench/context.py, not asserted here: timing flakes under load.
    n = counter.count(TEXTS[1] * 6000, "gpt-4o")  # ~128K tokens
    assert 100_000 < n < 160_000


def test_satisfies_the_engine_protocol() -> None:
    c: TokenCounter = TiktokenCounter()
    assert c.encoding_name("gpt-4") == "cl100k_base"
    assert c.count_many(["a b", "c"], "gpt-4o") == [c.count("a b", "gpt-4o"), c.count("c", "gpt-4o")]
