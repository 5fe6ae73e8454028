"""Human-readable views of engine results for the terminal (the ``--json`` path bypasses these)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from autodevai.cli.render import fmt_ms, fmt_per_million, fmt_score, fmt_tokens, fmt_usd, table
from autodevai.engine.advisor import Recommendation
from autodevai.engine.metrics import MetricsSummary, Stats
from autodevai.engine.reports import Capabilities, InitReport, SelfTestReport, SystemStatus, TokenCount
from autodevai.engine.types import EngineResponse, ModelInfo, Preference, RouteDecision
from autodevai.engine.workflows import WorkflowResult

if TYPE_CHECKING:
    from autodevai.compose import App
    from autodevai.engine.compression import CompressionReport
    from autodevai.engine.swarm import SwarmResult


def response_footer(r: EngineResponse, out: TextIO = sys.stdout) -> None:
    """The footer of an answer: model (and whether the simulator made the answer up), tokens, cost (or "cost
    unknown" when neither the provider nor the catalog priced it), latency; then the fallbacks taken and any
    compression of the prompt, and whether it was hedged."""
    u = r.usage
    ttft = f" · ttft {fmt_ms(r.ttft_ms)}" if r.ttft_ms is not None else ""
    extra = [f"{n} {what}" for n, what in ((u.reasoning_tokens, "reasoning"), (u.cached_tokens, "cached")) if n]
    detail = f" ({', '.join(extra)})" if extra else ""
    simulated = " (simulated)" if r.simulated else ""
    cost = "cost unknown" if r.cost_source == "unknown" else f"cost {fmt_usd(r.cost_usd)}"
    print(
        f"\nmodel {r.model}{simulated} via {r.provider} · tokens {u.prompt_tokens} in / {u.completion_tokens} out"
        f"{detail} · {cost} · latency {fmt_ms(r.latency_ms)}{ttft}",
        file=out,
    )
    tried = [a for a in r.attempts if a.outcome != "hedged"]  # a hedge's cancelled call is not a fallback
    if len(tried) > 1:
        trail = " → ".join(f"{a.model} [{a.outcome}]" for a in tried)
        print(f"fallbacks: {trail}", file=out)
    if r.hedged:
        print(hedge_line(r), file=out)
    c = r.compression
    if c is not None and c.tokens_after < c.tokens_before:
        tokens = f"{c.tokens_before:,} → {c.tokens_after:,} tokens"
        print(f"prompt compressed {tokens} ({c.strategy}, quality {c.quality:.2f})", file=out)


def hedge_line(r: EngineResponse) -> str:
    """``hedged: ...``: a second model was started because the first token was late, who won, who was cancelled
    and what the loser cost (part of the answer's cost)."""
    losers = ", ".join(dict.fromkeys(a.model for a in r.attempts if a.outcome == "hedged"))
    raced = f"; {r.model} answered first, {losers} was cancelled" if losers else ""
    cost = f"the loser cost {fmt_usd(r.hedge_cost_usd)}" if r.hedge_cost_usd > 0 else "the loser cost nothing"
    return f"hedged: a second model was started because the first token was late{raced} ({cost})"


def _scores(d: RouteDecision) -> str:
    """The top candidates' scores in the preference's unit: routing negates USD (cost) and seconds (speed) so
    that higher is better (``Router._score``); the rest are 0..1 scores. Never a negative zero."""
    if d.preference is Preference.COST:
        return "expected cost: " + ", ".join(f"{m} {fmt_usd(max(0.0, -s))}" for m, s in d.scores)
    if d.preference is Preference.SPEED:
        return "expected latency: " + ", ".join(f"{m} {fmt_ms(max(0.0, -s) * 1000)}" for m, s in d.scores)
    return "scores: " + ", ".join(f"{m} {fmt_score(s)}" for m, s in d.scores)


def route_decision(d: RouteDecision, out: TextIO = sys.stdout) -> None:
    print(f"route ({d.preference.value}): {d.chosen.model} via {d.chosen.provider}", file=out)
    for reason in d.reasons:
        print(f"  - {reason}", file=out)
    if len(d.candidates) > 1:
        print("  fallbacks: " + ", ".join(c.model for c in d.candidates[1:]), file=out)
    if d.scores:
        print(f"  top {_scores(d)}", file=out)


def models_table(models: Sequence[ModelInfo], out: TextIO = sys.stdout) -> None:
    rows = [
        (
            m.id,
            fmt_tokens(m.context_length),
            fmt_per_million(m.price_in),
            fmt_per_million(m.price_out),
            f"{m.quality:.2f}",
            "+".join(m.input_modalities),
            m.provider,
        )
        for m in models
    ]
    table(["model", "context", "$/M in", "$/M out", "quality", "input", "provider"], rows, out)
    print(f"\n{len(models)} models", file=out)


def _stats_row(name: str, s: Stats) -> tuple[object, ...]:
    rate = "-" if s.success_rate is None else f"{s.success_rate:.0%}"
    return (
        name,
        s.count,
        rate,
        fmt_ms(s.latency_p50_ms),
        fmt_ms(s.latency_p95_ms),
        fmt_ms(s.latency_p99_ms),
        fmt_ms(s.ttft_p50_ms),
        fmt_tokens(s.prompt_tokens + s.completion_tokens),
        fmt_usd(s.cost_usd),
        s.hedged or "-",
    )


def metrics(summary: MetricsSummary, out: TextIO = sys.stdout) -> None:
    print(f"window {summary.window} ({summary.window_s:.0f} s)", file=out)
    rows = [_stats_row("(all)", summary.overall)]
    rows += [_stats_row(k, s) for k, s in sorted(summary.per_model.items(), key=lambda kv: -kv[1].count)]
    table(["model", "calls", "ok", "p50", "p95", "p99", "ttft p50", "tokens", "cost", "hedged"], rows, out)
    errors = summary.overall.errors
    if errors:
        print("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])), file=out)
    if summary.overall.count == 0:
        print('no requests in this window yet — try `autodevai run "What is 17*23?"`', file=out)


def status(s: SystemStatus, out: TextIO = sys.stdout) -> None:
    print("providers", file=out)
    rows = []
    for p in s.providers:
        rpm = "-" if p.rate.rpm_left is None else f"{p.rate.rpm_left:.0f}/{p.rate.rpm_limit}"
        rows.append((p.name, p.kind, p.state, p.calls, p.failures, p.key_source, rpm, p.base_url))
    table(["name", "kind", "state", "calls", "failures", "key", "rpm left", "base url"], rows, out)
    print("\nbreakers", file=out)
    if s.breakers:
        brows = []
        for b in s.breakers:
            snap = b.snapshot
            retry = "-" if snap.retry_in_s is None else f"{snap.retry_in_s:.1f} s"
            brows.append((f"{b.provider}:{b.model}", snap.state.value, snap.calls, f"{snap.failure_rate:.0%}", retry))
        table(["model", "state", "calls", "failure rate", "half-open in"], brows, out)
    else:
        print("  all closed (no failures seen yet)", file=out)
    budget = s.budget
    print("\nbudget", file=out)
    brow = []
    for cap in ("daily", "monthly", "total"):
        limit = budget.caps.get(cap)
        brow.append(
            (
                cap,
                fmt_usd(budget.spent.get(cap, 0.0)),
                "no cap" if limit is None else fmt_usd(limit),
                "-" if budget.left.get(cap) is None else fmt_usd(budget.left.get(cap)),
            )
        )
    table(["cap", "spent", "limit", "left"], brow, out)
    print(f"\nin flight {s.in_flight} · models {s.models} · reserved {fmt_usd(budget.reserved)}", file=out)


def recommendations(recs: Sequence[Recommendation], out: TextIO = sys.stdout) -> None:
    if not recs:
        print("no recommendations: not enough history yet, or nothing to improve", file=out)
        return
    for r in recs:
        print(f"[{r.severity}] {r.title}", file=out)
        print(f"    do: {r.action}", file=out)
        print("    evidence: " + ", ".join(f"{k}={v}" for k, v in r.evidence.items()), file=out)


def workflow(result: WorkflowResult, out: TextIO = sys.stdout) -> None:
    rows = [(s.id, s.status, s.model or "-", fmt_usd(s.cost_usd), fmt_ms(s.latency_ms)) for s in result.steps]
    table(["step", "status", "model", "cost", "latency"], rows, out)
    for s in result.steps:
        if s.error:
            print(f"{s.id}: {s.error}", file=out)
    print(f"\ncomplexity {result.complexity:.2f} · cost {fmt_usd(result.cost_usd)}\n", file=out)
    print(result.output, file=out)


def capabilities(c: Capabilities, out: TextIO = sys.stdout) -> None:
    print(
        f"providers    {', '.join(c.providers) or '-'} (reachable: {', '.join(c.reachable) or 'not checked yet'})",
        file=out,
    )
    print(
        f"models       {c.models} from {c.vendors} vendors; largest window {fmt_tokens(c.max_context_tokens)}", file=out
    )
    print(f"strategies   {', '.join(c.strategies)}", file=out)
    print(f"workflows    {', '.join(c.workflow_modes)}", file=out)
    print(f"secrets      {c.secrets_backend}", file=out)
    print(f"features     {', '.join(c.features)}", file=out)


def selftest(r: SelfTestReport, out: TextIO = sys.stdout) -> None:
    rows = [("ok" if c.ok else "FAIL", c.name, fmt_ms(c.elapsed_ms), c.detail) for c in r.checks]
    table(["result", "check", "time", "detail"], rows, out)
    print("\nall checks passed" if r.ok else "\nsome checks failed", file=out)


def init_report(r: InitReport, app: App, out: TextIO = sys.stdout) -> None:
    print(f"providers  {', '.join(r.providers)}", file=out)
    print(f"catalog    {r.models} models (from {r.catalog_source})", file=out)
    print(f"store      {r.store_path} ({r.requests_in_store} requests)", file=out)
    print(f"config     {app.config_path}", file=out)
    for w in r.warnings:
        print(f"warning    {w}", file=out)


def context_report(
    count: TokenCount, report: CompressionReport | None, output: Path | None, out: TextIO = sys.stdout
) -> None:
    exact = "exact" if count.exact else "approximate"
    print(f"model      {count.model or '(none)'} · encoding {count.encoding} ({exact})", file=out)
    per = ", ".join(fmt_tokens(n) for n in count.per_message[:12]) + (" …" if len(count.per_message) > 12 else "")
    print(f"messages   {len(count.per_message)} ({per})", file=out)
    window = (
        f" of a {fmt_tokens(count.context_length)} window ({count.window_share:.0%})" if count.context_length else ""
    )
    print(f"tokens     {count.total:,}{window}", file=out)
    if report is None:
        return
    print(
        f"\nfit        {report.strategy}: {report.tokens_before:,} -> {report.tokens_after:,} tokens "
        f"(budget {report.budget:,}), removed {report.ratio:.0%} in {report.elapsed_ms:.1f} ms",
        file=out,
    )
    print(f"quality    {report.quality:.0%} of the query-relevant content kept", file=out)
    if report.dropped_messages:
        print(f"dropped    {report.dropped_messages} message(s)", file=out)
    if output is not None:
        print(f"written    {output}", file=out)


def swarm(result: SwarmResult, out: TextIO = sys.stdout) -> None:
    print(f"topology   {result.topology} — {result.reason}", file=out)
    rows = [
        (r.agent, r.round, r.model or "-", fmt_ms(r.latency_ms), fmt_usd(r.cost_usd), r.error or _one_line(r.content))
        for r in result.replies
    ]
    table(["agent", "round", "model", "latency", "cost", "answer"], rows, out)
    c = result.consensus
    if c is not None:
        print(f"\nconsensus  {c.rule}: {'reached' if c.reached else 'NOT reached'} — {c.detail}", file=out)
    print(f"total      {fmt_usd(result.cost_usd)} · {fmt_ms(result.latency_ms)}\n", file=out)
    print(result.answer or "(no answer: the agents did not agree)", file=out)


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
