"""The verbs that run the engine: ``init``, ``run``, ``route``, ``models``, ``status``, ``metrics``, ``advise``,
``workflow``, ``context``, ``swarm``, ``capabilities`` and ``test`` — each parses nothing (``main`` did),
opens an engine for what it needs (``session.Needs``), calls one facade method and prints a table or ``--json``
(``run`` in a conversation is ``turns.run_turn``).
Each returns its exit code (``exits``); engine errors propagate to ``main``, which maps them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autodevai.cli import chat, turns, views
from autodevai.cli.exits import EXIT_FAILED
from autodevai.cli.render import dump_json, json_line
from autodevai.cli.session import Needs, Upstream, one_off, with_app
from autodevai.compose import App
from autodevai.engine import errors as E
from autodevai.engine.reports import TokenCount
from autodevai.engine.types import ChatMessage, ChatRequest, ModelInfo, Preference
from autodevai.engine.workflows import WorkflowSpec

__all__ = [
    "cmd_advise",
    "cmd_capabilities",
    "cmd_context",
    "cmd_init",
    "cmd_metrics",
    "cmd_models",
    "cmd_route",
    "cmd_run",
    "cmd_status",
    "cmd_swarm",
    "cmd_test",
    "cmd_workflow",
]


# ---- helpers --------------------------------------------------------------------------------------------------


def _build_request(args: argparse.Namespace, upstream: Upstream) -> ChatRequest:
    extra = upstream[0]
    return chat.build_request(args, extra.name if extra else None)


# ---- verbs ----------------------------------------------------------------------------------------------------


async def cmd_init(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        report = await app.engine.initialize_enhanced_orchestration(refresh="wait")
        if args.json:
            dump_json(report)
        else:
            views.init_report(report, app)
        return 0

    return await with_app(args, Needs.MODELS, body, refresh="never")


async def cmd_run(args: argparse.Namespace) -> int:
    upstream = one_off(args)
    request = _build_request(args, upstream)
    stream = args.stream if args.stream is not None else (sys.stdout.isatty() and not args.json)

    async def body(app: App) -> int:
        if turns.wants_conversation(args):  # the next turn of a stored conversation
            return await turns.run_turn(app.engine, args, request, stream=stream)
        if stream and args.json:  # JSON Lines: the events as they come, the response last
            response = await chat.stream_json_lines(app.engine.stream_enhanced_ai_request(request))
            print(json_line(chat.response_line(response, request)), flush=True)
            return chat.answer_code(response, request)
        if stream:
            response = await chat.stream_answer(app.engine.stream_enhanced_ai_request(request), request)
        else:
            response = await app.engine.execute_enhanced_ai_request(request)
        if args.json:
            dump_json(chat.answer_json(response, request))
            return chat.answer_code(response, request)
        code = chat.print_answer(response, request, streamed=stream)
        views.response_footer(response, sys.stderr)
        return code

    return await with_app(args, Needs.MODELS, body, upstream=upstream)


async def cmd_route(args: argparse.Namespace) -> int:
    upstream = one_off(args)
    request = _build_request(args, upstream)
    preference = Preference(args.preference) if args.preference else request.preference

    async def body(app: App) -> int:
        if args.dry_run:
            decision = app.engine.explain_route(request, preference)
            if args.json:
                dump_json(decision)
            else:
                views.route_decision(decision)
            return 0
        response = await app.engine.execute_with_smart_routing(request, preference)
        if args.json:
            dump_json(chat.answer_json(response, request))
            return chat.answer_code(response, request)
        code = chat.print_answer(response, request, streamed=False)
        views.route_decision(response.route, sys.stderr)
        views.response_footer(response, sys.stderr)
        return code

    return await with_app(args, Needs.MODELS, body, upstream=upstream)


async def cmd_models(args: argparse.Namespace) -> int:
    upstream = one_off(args)

    async def body(app: App) -> int:
        if args.refresh:
            for warning in await app.engine.refresh_catalog():
                print(warning, file=sys.stderr)
        query: dict[str, Any] = {"sort": args.sort, "descending": args.desc, "limit": args.limit}
        if args.search:
            query["text"] = args.search
        if args.vendor:
            query["vendor"] = args.vendor
        provider = upstream[0].name if upstream[0] else args.provider
        if provider:
            query["provider"] = provider
        if args.max_price is not None:
            query["max_price_out"] = args.max_price / 1_000_000
        if args.min_context:
            query["min_context"] = args.min_context
        if args.free:
            query["free_only"] = True
        models = await app.engine.get_openrouter_models(**query)
        if args.json:
            dump_json(models)
        else:
            views.models_table(models)
        return 0

    return await with_app(args, Needs.MODELS, body, upstream=upstream)


async def cmd_status(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        status = await app.engine.get_enhanced_system_status()
        if args.json:
            dump_json(status)
        else:
            views.status(status)
        return 0

    return await with_app(args, Needs.MODELS, body)


async def cmd_metrics(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        summary = await app.engine.get_performance_metrics(args.window)
        if args.json:
            dump_json(summary)
        else:
            views.metrics(summary)
        return 0

    return await with_app(args, Needs.STORE, body)


async def cmd_advise(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        recs = await app.engine.get_optimization_recommendations()
        if args.json:
            dump_json(recs)
        else:
            views.recommendations(recs)
        return 0

    return await with_app(args, Needs.MODELS, body)


def _load_workflow(arg: str) -> WorkflowSpec | str:
    path = Path(arg)
    if path.suffix.lower() not in (".toml", ".json"):
        return arg
    if not path.exists():
        raise E.InvalidRequest(f"workflow file {arg} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        return WorkflowSpec.model_validate(data)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise E.InvalidRequest(f"{arg}: not valid {path.suffix[1:].upper()}: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise E.InvalidRequest(f"{arg}: {where}: {err['msg']}") from None


async def cmd_workflow(args: argparse.Namespace) -> int:
    workflow = _load_workflow(args.task)

    def progress(step: str, phase: str, result: Any) -> None:
        if not args.json:
            print(
                f"  [{phase:5}] {step}" + (f": {result.status} via {result.model}" if result else ""), file=sys.stderr
            )

    async def body(app: App) -> int:
        result = await app.engine.execute_adaptive_workflow(workflow, progress)
        if args.json:
            dump_json(result)
        else:
            views.workflow(result)
        return 0 if result.ok else EXIT_FAILED

    return await with_app(args, Needs.MODELS, body)


def _read_messages(arg: str) -> list[ChatMessage]:
    """A .json file holds chat messages ([{role, content}, ...]); anything else is one user message."""
    if arg == "-":
        text = sys.stdin.read()
    else:
        path = Path(arg)
        if not path.is_file():
            raise E.InvalidRequest(f"{arg}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise E.InvalidRequest(f"{arg}: not UTF-8 text") from None
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
                items = data["messages"] if isinstance(data, dict) else data
                return [ChatMessage.model_validate(m) for m in items]
            except (ValueError, KeyError, TypeError) as exc:
                raise E.InvalidRequest(f"{arg}: expected a JSON list of {{role, content}} messages ({exc})") from None
    return [ChatMessage(role="user", content=text)]


def _simulated_model(app: App, model: str | None) -> ModelInfo | None:
    """With no provider configured, the catalog a user sees is the built-in simulator's: read ``model`` from its
    table (no server started) so ``context -m`` knows the window offline, as ``autodevai models`` shows it."""
    if not model or any(p.enabled for p in app.engine.settings.providers):
        return None
    from autodevai.providers.models_wire import parse_model
    from autodevai.sim.catalog import all_models

    found = all_models().get(model)
    return parse_model(found.entry, "sim") if found is not None else None


def _with_window(count: TokenCount, info: ModelInfo | None) -> TokenCount:
    if count.context_length is not None or info is None:
        return count
    return dataclasses.replace(
        count, context_length=info.context_length, window_share=count.total / info.context_length
    )


async def cmd_context(args: argparse.Namespace) -> int:
    messages = _read_messages(args.file)
    fitting = args.fit is not None or args.strategy is not None or args.output is not None

    async def body(app: App) -> int:
        engine = app.engine
        count = await engine.count_tokens(messages, args.model)
        info = _simulated_model(app, args.model) if count.context_length is None else None
        count = _with_window(count, info)
        fitted, report = None, None
        if fitting:
            budget = args.fit
            if budget is None and info is not None:  # the engine's default: the window less the answer's room
                budget = info.context_length - min(512, info.max_output or 512)
            fitted, report = await engine.fit_context(
                messages, model=args.model, budget=budget, strategy=args.strategy or "auto", query=args.query
            )
            if args.output:
                try:
                    args.output.write_text("\n\n".join(m.text for m in fitted), encoding="utf-8")
                except OSError as exc:
                    raise E.InvalidRequest(f"-o {args.output}: cannot write it ({exc.strerror or exc})") from None
        if args.json:
            dump_json({"count": count, "fit": report})
        else:
            views.context_report(count, report, args.output)
        return 0

    return await with_app(args, Needs.STORE, body)


async def cmd_swarm(args: argparse.Namespace) -> int:
    from autodevai.engine.swarm import SwarmSpec, choose_topology, default_team

    try:
        spec = SwarmSpec(
            task=args.task,
            topology=args.topology,
            n_agents=args.agents,
            consensus=args.consensus or "majority",
            faulty=args.faulty,
            rounds=args.rounds,
            agent_timeout_s=args.timeout,
        )
        if args.model:  # the default team, every member on this model
            topology = spec.topology if spec.topology != "adaptive" else choose_topology(spec.task, None)[0]
            team = tuple(dataclasses.replace(a, model=args.model) for a in default_team(topology, args.agents))
            spec = dataclasses.replace(spec, topology=topology, agents=team)  # type: ignore[arg-type]  # a Topology name
    except ValueError as exc:
        raise E.InvalidRequest(str(exc)) from None

    async def body(app: App) -> int:
        try:
            result = await app.engine.execute_swarm(spec)
        except ValueError as exc:  # e.g. a quorum that cannot tolerate f faulty agents
            raise E.InvalidRequest(str(exc)) from None
        if args.json:
            dump_json(result)
        else:
            views.swarm(result)
        # The rule the user named never ran when the topology does not vote: the agreement asked for is unchecked.
        unchecked = args.consensus not in (None, "none") and result.consensus is None
        if unchecked:
            print(
                f"consensus  {args.consensus}: NOT applied — the {result.topology} topology does not vote, "
                "so no agreement was checked (star and mesh vote)",
                file=sys.stderr,
            )
        return 0 if result.ok and not unchecked else EXIT_FAILED  # no consensus is a failed check

    return await with_app(args, Needs.MODELS, body)


async def cmd_capabilities(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        caps = await app.engine.get_enhanced_capabilities()
        if args.json:
            dump_json(caps)
        else:
            views.capabilities(caps)
        return 0

    return await with_app(args, Needs.MODELS, body)


async def cmd_test(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        report = await app.engine.test_enhanced_orchestration()
        if args.json:
            dump_json(report)
        else:
            views.selftest(report)
        return 0 if report.ok else EXIT_FAILED

    return await with_app(args, Needs.MODELS, body)
