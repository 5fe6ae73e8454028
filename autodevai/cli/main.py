"""`autodevai` — the command-line face: one verb per engine command, tables by default, ``--json`` for scripts.

Exit codes: 0 ok, 1 the self-test or a workflow step failed (or a ``--schema`` answer is not valid JSON),
2 bad input or config (a missing or invalid ``--image``/``--file``/``--schema``/``--tools`` file, a model that
cannot serve the request), 3 budget or limits, 4 provider failure, 5 storage failure, 130 cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import getpass
import json
import sys
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autodevai import __version__, paths
from autodevai.cli import chat, views
from autodevai.cli.render import dump_json
from autodevai.compose import App, open_engine, save_settings_file
from autodevai.engine import errors as E
from autodevai.engine.settings import ProviderSettings, load_settings, path_patch, settings_to_toml
from autodevai.engine.types import ChatMessage, ChatRequest, Preference
from autodevai.engine.workflows import WorkflowSpec

__all__ = ["build_parser", "main"]

EXIT_FAILED, EXIT_INPUT, EXIT_BUDGET, EXIT_PROVIDER, EXIT_STORAGE, EXIT_CANCELLED = 1, 2, 3, 4, 5, 130
CLI_PROVIDER = "cli"


def _exit_code(exc: E.EngineError) -> int:
    if isinstance(exc, E.ConfigError | E.InvalidRequest | E.ContextTooLong | E.BadRequest):
        return EXIT_INPUT
    if isinstance(exc, E.BudgetExceeded):
        return EXIT_BUDGET
    if isinstance(exc, E.StorageError):
        return EXIT_STORAGE
    if isinstance(exc, E.Cancelled):
        return EXIT_CANCELLED
    return EXIT_PROVIDER


# ---- parser ---------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodevai",
        description="Use many AI models as one: routing, fallbacks, budgets, metrics. "
        "With no provider or key configured, a built-in simulator answers.",
    )
    parser.add_argument("--version", action="version", version=f"autodevai {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (default: %(default)s)", default=None)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of tables")
    upstream = argparse.ArgumentParser(add_help=False)
    upstream.add_argument("--base-url", help="use this OpenAI-compatible server for this call only")
    upstream.add_argument("--api-key-env", help="env var holding the key for --base-url")
    upstream.add_argument("--kind", choices=["openai", "openrouter"], default="openai", help="API flavor of --base-url")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")

    p = sub.add_parser("init", parents=[common], help="load config, keys and catalog; open the store")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "run",
        parents=[common, upstream],
        help="send a prompt (with images, files, tools or a JSON schema) through routing and fallbacks",
        description="Send a prompt through routing and fallbacks. The answer goes to stdout; reasoning, refusals "
        "and the footer (model, tokens, cost, latency) go to stderr.",
        epilog=chat.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_request_args(p)
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None, help="stream the answer")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("route", parents=[common, upstream], help="run with an explicit preference and explain it")
    chat.add_request_args(p)
    p.add_argument("--dry-run", action="store_true", help="only explain the choice; send nothing")
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("models", parents=[common, upstream], help="list the model catalog")
    p.add_argument("search", nargs="?", help="text to match in id, name or description")
    p.add_argument("--vendor")
    p.add_argument("--provider")
    p.add_argument("--max-price", type=float, help="max USD per million output tokens")
    p.add_argument("--min-context", type=int)
    p.add_argument("--free", action="store_true", help="only free models")
    p.add_argument("--sort", default="id", help="id, name, price_in, price_out, context, quality, vendor")
    p.add_argument("--desc", action="store_true")
    p.add_argument("--limit", type=int)
    p.add_argument("--refresh", action="store_true", help="ask the providers now instead of the cache")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("status", parents=[common], help="providers, breakers, rate limits, budget")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("config", parents=[common], help="show or change settings and keys")
    csub = p.add_subparsers(dest="config_verb", metavar="ACTION")
    c = csub.add_parser("show", parents=[common], help="print the settings")
    c.set_defaults(func=cmd_config_show)
    c = csub.add_parser("path", parents=[common], help="print where settings and data live")
    c.set_defaults(func=cmd_config_path)
    c = csub.add_parser("set", parents=[common], help="set KEY (dotted, e.g. budget.daily_usd) to VALUE")
    c.add_argument("key")
    c.add_argument("value")
    c.set_defaults(func=cmd_config_set)
    c = csub.add_parser("key", help="store a provider's API key in the OS keyring (read from stdin)")
    c.add_argument("provider")
    c.add_argument("--delete", action="store_true")
    c.set_defaults(func=cmd_config_key)
    c = csub.add_parser("provider", help="add or remove an OpenAI-compatible provider")
    c.add_argument("action", choices=["add", "remove"])
    c.add_argument("name")
    c.add_argument("--base-url")
    c.add_argument("--kind", choices=["openai", "openrouter"], default="openai")
    c.add_argument("--api-key-env")
    c.set_defaults(func=cmd_config_provider)
    p.set_defaults(func=cmd_config_show)

    p = sub.add_parser("metrics", parents=[common], help="latency, TTFT, tokens, cost, errors per model")
    p.add_argument("--window", default="15m", help="1m, 15m or 24h")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("advise", parents=[common], help="recommendations from measured history")
    p.set_defaults(func=cmd_advise)

    p = sub.add_parser("workflow", parents=[common], help="run a multi-step workflow (a task, or a TOML/JSON file)")
    p.add_argument("task", help="a task in words, or a .toml/.json workflow file")
    p.set_defaults(func=cmd_workflow)

    p = sub.add_parser("context", parents=[common], help="count a file's tokens for a model; fit it into a window")
    p.add_argument("file", help="a text file, or a .json list of chat messages ('-' reads stdin)")
    p.add_argument("--model", "-m", help="model id (its tokenizer and window)")
    p.add_argument("--fit", type=int, metavar="N", help="compress to N tokens (default: the model's window)")
    p.add_argument("--strategy", "-s", default=None, help="auto, extractive, middle-out, truncate, dedupe, minify")
    p.add_argument("--query", "-q", help="what matters (query-aware compression); default: the last user turn")
    p.add_argument("-o", "--output", type=Path, help="write the fitted text here")
    p.set_defaults(func=cmd_context)

    p = sub.add_parser("swarm", parents=[common], help="run a team of agents on a task and show how they agreed")
    p.add_argument("task")
    p.add_argument("--topology", "-t", default="adaptive", help="adaptive, hierarchical, mesh, ring, star")
    p.add_argument("--agents", "-n", type=int, default=3, help="workers / spokes / peers (default 3)")
    p.add_argument("--consensus", "-c", default="majority", help="majority, plurality, quorum, leader, none")
    p.add_argument("--faulty", "-f", type=int, default=0, help="f, the faulty agents a quorum must tolerate")
    p.add_argument("--rounds", type=int, default=2, help="debate rounds (mesh) / re-votes (star)")
    p.add_argument("--model", "-m", help="give every agent this model (default: routed)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per agent call")
    p.set_defaults(func=cmd_swarm)

    p = sub.add_parser("capabilities", parents=[common], help="what this installation can do")
    p.set_defaults(func=cmd_capabilities)

    p = sub.add_parser("test", parents=[common], help="self-test: store, keys, a round trip per provider")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("serve", help="run the local OpenAI-compatible gateway (routing, budgets, metrics for any tool)")
    p.add_argument("--host", default=None, help="bind address (default from settings: 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default from settings: 8765; 0 = any free port)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("gateway", help="the gateway's bearer token")
    gsub = p.add_subparsers(dest="gateway_verb", metavar="ACTION")
    g = gsub.add_parser("token", help="print the token clients send as `Authorization: Bearer …`")
    g.set_defaults(func=cmd_gateway_token)
    p.set_defaults(func=cmd_gateway_token)

    p = sub.add_parser("sim", help="run the built-in OpenRouter-compatible simulator", add_help=False)
    p.add_argument("sim_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)
    return parser


# ---- helpers --------------------------------------------------------------------------------------------------


def _extra_providers(args: argparse.Namespace) -> list[ProviderSettings]:
    base = getattr(args, "base_url", None)
    if not base:
        if getattr(args, "api_key_env", None):
            raise E.ConfigError("--api-key-env needs --base-url")
        return []
    try:
        return [ProviderSettings(name=CLI_PROVIDER, kind=args.kind, base_url=base, api_key_env=args.api_key_env)]
    except ValidationError as exc:
        raise E.ConfigError(f"--base-url {base!r}: {exc.errors()[0]['msg']}") from None


async def _open(args: argparse.Namespace, *, refresh: str = "background", auto_simulator: bool = True) -> App:
    extra = _extra_providers(args)
    app = await open_engine(
        args.config,
        extra_providers=extra,
        refresh="wait" if extra else refresh,
        auto_simulator=auto_simulator,
    )
    for notice in app.notices:
        print(notice, file=sys.stderr)
    return app


async def _with_app(args: argparse.Namespace, body: Callable[[App], Awaitable[int]], **kw: Any) -> int:
    app = await _open(args, **kw)
    try:
        return await body(app)
    finally:
        await app.aclose()


def _build_request(args: argparse.Namespace) -> ChatRequest:
    return chat.build_request(args, CLI_PROVIDER if getattr(args, "base_url", None) else None)


# ---- verbs ----------------------------------------------------------------------------------------------------


async def cmd_init(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        report = await app.engine.initialize_enhanced_orchestration(refresh="wait")
        if args.json:
            dump_json(report)
        else:
            views.init_report(report, app)
        return 0

    return await _with_app(args, body, refresh="never")


async def cmd_run(args: argparse.Namespace) -> int:
    request = _build_request(args)
    stream = args.stream if args.stream is not None else (sys.stdout.isatty() and not args.json)

    async def body(app: App) -> int:
        if stream:
            response = await chat.stream_answer(app.engine, request, None, echo_text=not args.json)
        else:
            response = await app.engine.execute_enhanced_ai_request(request)
        if args.json:
            dump_json(chat.answer_json(response, request))
            return chat.answer_code(response, request)
        code = chat.print_answer(response, request, streamed=stream)
        views.response_footer(response, sys.stderr)
        return code

    return await _with_app(args, body)


async def cmd_route(args: argparse.Namespace) -> int:
    request = _build_request(args)
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

    return await _with_app(args, body)


async def cmd_models(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        if args.refresh:
            for warning in await app.engine.refresh_catalog():
                print(warning, file=sys.stderr)
        query: dict[str, Any] = {"sort": args.sort, "descending": args.desc, "limit": args.limit}
        if args.search:
            query["text"] = args.search
        if args.vendor:
            query["vendor"] = args.vendor
        provider = CLI_PROVIDER if args.base_url else args.provider
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

    return await _with_app(args, body)


async def cmd_status(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        status = await app.engine.get_enhanced_system_status()
        if args.json:
            dump_json(status)
        else:
            views.status(status)
        return 0

    return await _with_app(args, body)


async def cmd_metrics(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        summary = await app.engine.get_performance_metrics(args.window)
        if args.json:
            dump_json(summary)
        else:
            views.metrics(summary)
        return 0

    return await _with_app(args, body, refresh="never")


async def cmd_advise(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        recs = await app.engine.get_optimization_recommendations()
        if args.json:
            dump_json(recs)
        else:
            views.recommendations(recs)
        return 0

    return await _with_app(args, body)


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

    return await _with_app(args, body)


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


async def cmd_context(args: argparse.Namespace) -> int:
    messages = _read_messages(args.file)
    fitting = args.fit is not None or args.strategy is not None or args.output is not None

    async def body(app: App) -> int:
        engine = app.engine
        count = await engine.count_tokens(messages, args.model)
        fitted, report = None, None
        if fitting:
            fitted, report = await engine.fit_context(
                messages, model=args.model, budget=args.fit, strategy=args.strategy or "auto", query=args.query
            )
            if args.output:
                args.output.write_text("\n\n".join(m.text for m in fitted), encoding="utf-8")
        if args.json:
            dump_json({"count": count, "fit": report})
        else:
            views.context_report(count, report, args.output)
        return 0

    return await _with_app(args, body)


async def cmd_swarm(args: argparse.Namespace) -> int:
    from autodevai.engine.swarm import SwarmSpec, choose_topology, default_team

    try:
        spec = SwarmSpec(
            task=args.task,
            topology=args.topology,
            n_agents=args.agents,
            consensus=args.consensus,
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
        return 0 if result.ok else EXIT_FAILED

    return await _with_app(args, body)


async def cmd_capabilities(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        caps = await app.engine.get_enhanced_capabilities()
        if args.json:
            dump_json(caps)
        else:
            views.capabilities(caps)
        return 0

    return await _with_app(args, body)


async def cmd_test(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        report = await app.engine.test_enhanced_orchestration()
        if args.json:
            dump_json(report)
        else:
            views.selftest(report)
        return 0 if report.ok else EXIT_FAILED

    return await _with_app(args, body)


# ---- gateway --------------------------------------------------------------------------------------------------


async def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    from autodevai.gateway import serve

    async def body(app: App) -> int:
        cfg = app.engine.settings.gateway
        host = args.host or cfg.host
        port = cfg.port if args.port is None else args.port
        gateway = await serve(app, host=host, port=port)
        print(f"AutoDevAI gateway on {gateway.base_url} (OpenAI-compatible; models: auto, autodevai/cheapest, …)")
        print("token: `autodevai gateway token` · stop: Ctrl+C", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await gateway.stop()
        return 0

    return await _with_app(args, body)


async def cmd_gateway_token(args: argparse.Namespace) -> int:
    from autodevai.adapters.keyring_secrets import KeyringSecrets
    from autodevai.gateway.token import get_or_create_token

    print(get_or_create_token(KeyringSecrets()))
    return 0


# ---- config ---------------------------------------------------------------------------------------------------


def _config_path(args: argparse.Namespace) -> Path:
    return args.config or paths.config_file()


async def cmd_config_show(args: argparse.Namespace) -> int:
    settings = load_settings(_config_path(args))
    if getattr(args, "json", False):
        dump_json(settings)
    else:
        print(f"# {_config_path(args)}")
        print(settings_to_toml(settings), end="")
    return 0


async def cmd_config_path(args: argparse.Namespace) -> int:
    info = {"config": str(_config_path(args)), "data": str(paths.data_dir()), "database": str(paths.db_file())}
    if args.json:
        dump_json(info)
    else:
        for k, v in info.items():
            print(f"{k:9} {v}")
    return 0


def _parse_value(text: str) -> Any:
    """A TOML value when it parses as one (numbers, booleans, arrays, inline tables), else the plain string."""
    if text.lower() in ("none", "null", "unset"):
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


async def cmd_config_set(args: argparse.Namespace) -> int:
    patch = path_patch(args.key, _parse_value(args.value))

    async def body(app: App) -> int:
        settings = await app.engine.configure_enhanced_orchestration(patch)
        if args.json:
            dump_json(settings)
        else:
            print(f"{args.key} = {args.value}  (saved to {app.config_path})")
        return 0

    return await _with_app(args, body, refresh="never", auto_simulator=False)


async def cmd_config_key(args: argparse.Namespace) -> int:
    from autodevai.adapters.keyring_secrets import KeyringSecrets

    secrets = KeyringSecrets()
    if args.delete:
        secrets.delete(args.provider)
        print(f"deleted the key of {args.provider} from the keyring")
        return 0
    if sys.stdin.isatty():
        key = getpass.getpass(f"API key for {args.provider} (input hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise E.InvalidRequest("no key given on stdin")
    secrets.set(args.provider, key)
    print(f"stored the key of {args.provider} in {secrets.describe()}")
    return 0


async def cmd_config_provider(args: argparse.Namespace) -> int:
    path = _config_path(args)
    settings = load_settings(path)
    providers = [p for p in settings.providers if p.name != args.name]
    if args.action == "add":
        if not args.base_url:
            raise E.ConfigError("`config provider add` needs --base-url")
        try:
            providers.append(
                ProviderSettings(name=args.name, kind=args.kind, base_url=args.base_url, api_key_env=args.api_key_env)
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise E.ConfigError(f"provider {args.name!r}: {err['loc'][0]}: {err['msg']}") from None
    elif len(providers) == len(settings.providers):
        names = [p.name for p in settings.providers]
        raise E.ConfigError(f"no provider named {args.name!r}", field=args.name, valid=names)
    save_settings_file(path, settings.model_copy(update={"providers": providers}))
    print(f"{'added' if args.action == 'add' else 'removed'} provider {args.name} in {path}")
    return 0


def _open_window(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`autodevai` alone opens the desktop window; without a display (a headless box) it prints help."""
    try:
        from autodevai.gui.app import display_available
        from autodevai.gui.app import main as gui_main
    except ImportError as exc:  # PySide6 missing or its system libraries absent
        parser.print_help()
        print(f"\nThe desktop window is unavailable ({exc}); the verbs above work headless.", file=sys.stderr)
        return 0
    if not display_available():
        parser.print_help()
        print("\nNo display found, so the window cannot open; the verbs above work headless.", file=sys.stderr)
        return 0
    return gui_main(config_path=args.config)


# ---- entry point ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "sim":
        from autodevai.sim.__main__ import main as sim_main

        return sim_main(argv[1:])
    args = parser.parse_args(argv)
    if args.verb is None:
        return _open_window(parser, args)
    try:
        code: int = asyncio.run(args.func(args))
        return code
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except E.EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
