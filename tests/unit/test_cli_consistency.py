"""The CLI's pure parts: one exit code per error class, global options in any position, one-off provider names,
the hedge flags, and what the footer (a hedge included) and the routing explanation print."""

from __future__ import annotations

import io
import json
import re

import pytest

from autodevai.cli import views
from autodevai.cli.chat import build_request
from autodevai.cli.exits import exit_code
from autodevai.cli.main import build_parser
from autodevai.cli.render import dump_json, fmt_score
from autodevai.cli.upstream import MAX_NAME, provider_name
from autodevai.engine import errors as E
from autodevai.engine.compression import CompressionReport
from autodevai.engine.types import EngineResponse, ModelRef, Preference, RouteDecision, Usage
from autodevai.text import fmt_ago

NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")  # ProviderSettings.name


# ---- exit codes --------------------------------------------------------------------------------------------------


def _attempts(*outcomes: str) -> tuple[E.Attempt, ...]:
    return tuple(E.Attempt("sim", f"m{i}", outcome) for i, outcome in enumerate(outcomes))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (E.ConfigError("bad"), 2),
        (E.InvalidRequest("bad"), 2),
        (E.CapabilityMissing("no images", missing=["image input"]), 2),
        (E.ContextTooLong("long", tokens=10, limit=5), 2),
        (E.BadRequest("400", provider="p"), 2),
        (E.BudgetExceeded("cap", cap="total", left=0.0, needed=1.0), 3),
        (E.ProviderUnavailable("down", provider="p"), 4),
        (E.AuthRejected("401", provider="p"), 4),
        (E.PaymentRequired("402", provider="p"), 4),
        (E.RateLimited("429", provider="p"), 4),
        (E.CircuitOpen("open", provider="p", model="m", until=1.0), 4),
        (E.DeadlineExceeded("late"), 4),
        (E.StorageError("disk full", environment=True), 5),
        (E.Cancelled("stop"), 130),
        # NoRouteAvailable: the class every attempt shares decides; a mix, or none, is a provider failure
        (E.NoRouteAvailable("none", attempts=_attempts("BudgetExceeded", "BudgetExceeded")), 3),
        (E.NoRouteAvailable("none", attempts=_attempts("BudgetExceeded")), 3),
        (E.NoRouteAvailable("none", attempts=_attempts("BadRequest", "BadRequest")), 2),
        (E.NoRouteAvailable("none", attempts=_attempts("BudgetExceeded", "ProviderUnavailable")), 4),
        (E.NoRouteAvailable("none", attempts=_attempts("ProviderTimeout", "CircuitOpen")), 4),
        (E.NoRouteAvailable("none", attempts=_attempts("skipped")), 4),
        (E.NoRouteAvailable("the model catalog is empty"), 4),
        (E.NoRouteAvailable("no model passes the routing settings", cause="settings"), 2),  # fix the config
    ],
)
def test_one_exit_code_per_error_class(error: E.EngineError, code: int) -> None:
    assert exit_code(error) == code


# ---- global options before or after the verb ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "status"],
        ["status", "--json"],
        ["--json", "config", "show"],
        ["config", "--json", "show"],
        ["config", "show", "--json"],
        ["--json", "gateway", "token"],
        ["gateway", "token", "--json"],
        ["--json", "run", "hi", "--stream"],
        ["run", "hi", "--json"],
    ],
)
def test_json_works_before_and_after_the_verb(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).json is True


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "a.toml", "status"],
        ["status", "--config", "a.toml"],
        ["--config=a.toml", "config", "path"],
        ["config", "path", "--config", "a.toml"],
        ["metrics", "--config", "a.toml", "--window", "1m"],
    ],
)
def test_config_works_before_and_after_the_verb(argv: list[str]) -> None:
    assert str(build_parser().parse_args(argv).config) == "a.toml"


def test_a_global_option_before_the_verb_is_not_reset_by_the_verb() -> None:
    args = build_parser().parse_args(["--json", "--config", "a.toml", "config", "show"])
    assert args.json is True and str(args.config) == "a.toml"
    plain = build_parser().parse_args(["status"])
    assert plain.json is False and plain.config is None


def test_top_help_lists_global_options_once_and_the_exit_codes() -> None:
    text = build_parser().format_help()
    assert text.count("--json") == 2  # usage line + its one help entry
    assert "global options (before or after the verb)" in text
    for line in ("0    ok", "1    a check failed", "2    bad input", "3    budget", "4    provider", "5    storage"):
        assert line in text
    assert "130  cancelled" in text
    assert "context, metrics, config and gateway never start it" in text


# ---- one-off provider names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://127.0.0.1:11434/v1", "127-0-0-1-11434"),
        ("http://localhost:1234/v1", "localhost-1234"),
        ("https://api.example.com/v1", "api-example-com"),
        ("http://LLM.Example.COM:8000", "llm-example-com-8000"),
        ("http://[::1]:8080/v1", "1-8080"),
        ("http://my_box.lan/v1", "my_box-lan"),
        ("ftp:///nothing", "cli"),
        ("http://127.0.0.1:99999999/v1", "cli"),  # a bad port: the URL check says what is wrong
    ],
)
def test_a_one_off_provider_is_named_by_its_host(url: str, name: str) -> None:
    assert provider_name(url) == name
    assert NAME.match(name) and len(name) <= MAX_NAME


def test_a_long_host_keeps_its_port_and_fits_the_name_rules() -> None:
    name = provider_name("http://" + "very-long-internal-inference-host." * 3 + "example.com:9000/v1")
    assert len(name) <= MAX_NAME and NAME.match(name) and name.endswith("-9000")


def test_a_name_taken_by_the_config_gets_a_suffix() -> None:
    name = provider_name("http://127.0.0.1:11434/v1", taken={"127-0-0-1-11434"})
    assert name == "127-0-0-1-11434-cli"
    long = provider_name("http://" + "h" * 60 + ":1/v1")
    assert len(provider_name("http://" + "h" * 60 + ":1/v1", taken={long})) <= MAX_NAME


# ---- footer and routing explanation -------------------------------------------------------------------------------


def _response(**kw: object) -> EngineResponse:
    route = RouteDecision(Preference.BALANCED, (ModelRef("sim", "openai/gpt-4o"),), ("best",))
    base: dict[str, object] = {
        "request_id": "r1",
        "content": "391",
        "provider": "sim",
        "model": "openai/gpt-4o",
        "usage": Usage(prompt_tokens=6120, completion_tokens=12, total_tokens=6132),
        "cost_usd": 0.0,
        "latency_ms": 120.0,
        "ttft_ms": None,
        "finish_reason": "stop",
        "route": route,
    }
    return EngineResponse(**{**base, **kw})  # type: ignore[arg-type]


def _footer(r: EngineResponse) -> str:
    out = io.StringIO()
    views.response_footer(r, out)
    return out.getvalue()


def test_footer_says_cost_unknown_instead_of_zero() -> None:
    unknown = _footer(_response(cost_source="unknown"))
    assert "cost unknown" in unknown and "$0" not in unknown
    assert "cost $0 " in _footer(_response(cost_source="provider"))  # a reported $0 is a real $0


def test_footer_marks_simulated_answers() -> None:
    assert "model openai/gpt-4o (simulated) via sim" in _footer(_response(simulated=True))
    assert "simulated" not in _footer(_response(simulated=False))


def test_footer_announces_prompt_compression() -> None:
    report = CompressionReport(
        strategy="auto",
        tokens_before=6120,
        tokens_after=4010,
        budget=4096,
        ratio=0.34,
        quality=0.93,
        elapsed_ms=4.0,
        dropped_messages=0,
        removed_chars=9000,
        removed=(),
    )
    assert "prompt compressed 6,120 → 4,010 tokens (auto, quality 0.93)" in _footer(_response(compression=report))
    assert "compressed" not in _footer(_response())


@pytest.mark.parametrize("preference", list(Preference))
def test_route_scores_never_print_negative_zero(preference: Preference) -> None:
    scores = (("a/free", -0.0), ("b/tiny", -0.0000004), ("c/x", -0.00002))
    decision = RouteDecision(preference, (ModelRef("sim", "a/free"),), ("why",), scores=scores)
    out = io.StringIO()
    views.route_decision(decision, out)
    text = out.getvalue()
    assert "top " in text and not re.search(r"-0(\.0+)?\b", text), text
    if preference is Preference.COST:
        assert "expected cost" in text and "c/x $0.000020" in text


def test_scores_and_json_have_no_negative_zero() -> None:
    assert fmt_score(-0.0) == "0.000" and fmt_score(-0.0004) == "0.000" and fmt_score(-0.25) == "-0.250"
    out = io.StringIO()
    dump_json({"scores": [["m", -0.0]], "nested": {"x": -0.0, "y": -1.5}}, out)
    assert "-0.0" not in out.getvalue()
    assert json.loads(out.getvalue()) == {"scores": [["m", 0.0]], "nested": {"x": 0.0, "y": -1.5}}


# ---- hedging -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "hedge"), [([], None), (["--hedge"], True), (["--no-hedge"], False)])
@pytest.mark.parametrize("verb", ["run", "route"])
def test_hedge_flags_set_the_request_or_leave_it_to_the_setting(verb: str, flag: list[str], hedge: bool | None) -> None:
    args = build_parser().parse_args([verb, "hi", *flag])
    request = build_request(args)
    assert request.hedge is hedge
    assert ("hedge" in request.model_fields_set) is (hedge is not None), "unset stays unset (a turn's options)"


def test_chat_takes_the_hedge_flags_too() -> None:
    assert build_parser().parse_args(["chat", "--no-hedge"]).hedge is False
    assert build_parser().parse_args(["chat"]).hedge is None


def test_footer_says_when_an_answer_was_hedged_and_what_the_loser_cost() -> None:
    raced = (E.Attempt("sim", "openai/gpt-4o-mini", "hedged", "cancelled"), E.Attempt("sim", "openai/gpt-4o", "ok"))
    footer = _footer(_response(attempts=raced, hedged=True, hedge_cost_usd=0.000042))
    assert (
        "hedged: a second model was started because the first token was late; openai/gpt-4o answered first, "
        "openai/gpt-4o-mini was cancelled (the loser cost $0.000042)" in footer
    ), footer
    assert "fallbacks:" not in footer, "a hedge's cancelled call is not a fallback"
    assert "the loser cost nothing" in _footer(_response(attempts=raced, hedged=True))
    assert "hedged" not in _footer(_response())


def test_ago_reads_for_people() -> None:
    assert [fmt_ago(s) for s in (0, 4.9, 12, 125, 3 * 3600 + 5, 86_400, 3 * 86_400)] == [
        "just now", "just now", "12 s ago", "2 min ago", "3 h ago", "1 day ago", "3 days ago",
    ]  # fmt: skip
