"""`autodevai` — the command-line face: one verb per engine command, tables by default, ``--json`` for scripts.

Global options, accepted before or after the verb (``autodevai --json status`` = ``autodevai status --json``):
``--json`` (JSON instead of tables; ``run --stream --json`` prints JSON Lines) and ``--config FILE``.

Exit codes, by class of outcome (decided in one place, ``exits.exit_code``): 0 ok; 1 a check failed (the
self-test, a workflow step, a swarm without consensus, a ``--schema`` answer that is not valid JSON); 2 bad input
or config (``ConfigError``, ``InvalidRequest`` and ``CapabilityMissing``, ``ContextTooLong``, ``BadRequest``, a
missing or invalid ``--image``/``--file``/``--schema``/``--tools`` file, argparse usage errors); 3 budget
(``BudgetExceeded``, or no route because the budget refused every attempt); 4 provider failure; 5 storage
failure; 130 cancelled.

Which verbs start the built-in simulator (only when no provider and no key is configured): those that talk to a
model or need its catalog — ``run``, ``chat``, ``route`` (also ``--dry-run``: routing chooses over the catalog),
``models``, ``status``, ``test``, ``init``, ``advise``, ``capabilities``, ``workflow``, ``swarm``, ``serve``.
``conversations``, ``context``, ``metrics``, ``config`` and ``gateway token`` never do (see ``session``).

This module holds the parser and the verb runner (``run_verb``: the exit code of a verb, engine errors mapped);
the verbs live in ``verbs``, ``config_verbs``, ``conversation_verbs`` and ``repl`` (``chat``, the one verb that
is a plain function: it runs its own event loop between the lines it reads). The program's entry point is the
launcher above the faces (``autodevai.launch``): it parses with ``build_parser``, opens the window when no verb
is given, runs the gateway's verbs (``serve``, ``gateway token``: their parsers are here, marked
``face="gateway"``, so ``--help`` lists every verb) and these verbs through ``run_verb``. This package imports
neither the window nor the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from autodevai import __version__
from autodevai.cli import chat, config_verbs, conversation_verbs, repl
from autodevai.cli.exits import EXIT_CANCELLED, EXIT_CODES_HELP, exit_code
from autodevai.cli.verbs import (
    cmd_advise,
    cmd_capabilities,
    cmd_context,
    cmd_init,
    cmd_metrics,
    cmd_models,
    cmd_route,
    cmd_run,
    cmd_status,
    cmd_swarm,
    cmd_test,
    cmd_workflow,
)
from autodevai.engine import errors as E

__all__ = ["GATEWAY", "Verb", "build_parser", "run_verb", "verb_index"]

GATEWAY = "gateway"  # the ``face`` of the verbs the launcher hands to the gateway (``serve``, ``gateway token``)
Verb = Callable[[argparse.Namespace], Coroutine[Any, Any, int] | int]  # a coroutine function, or ``chat``

GLOBAL_FLAGS = ("--json",)  # global options without a value
GLOBAL_OPTIONS = ("--config",)  # global options with a value

EPILOG = f"""conversations: `autodevai chat` talks with history (/help inside lists its commands);
`autodevai run --new-conversation PROMPT` starts one from a script and `run -c PROMPT` (or --conversation ID)
continues it; `autodevai conversations` lists, shows, searches, exports, imports and deletes them.

the built-in simulator starts (when no provider or key is configured) only for verbs that talk to a
model or need its catalog: run, chat, route (--dry-run too), models, status, test, init, advise, capabilities,
workflow, swarm, serve. conversations, context, metrics, config and gateway never start it.

{EXIT_CODES_HELP}
"""


CONVERSATION_EXAMPLES = """
in a conversation (for scripts; `autodevai chat` is the interactive way):
  autodevai run --new-conversation "What is 12*12?"     # prints the conversation id on stderr
  autodevai run -c "multiply that by 2"                 # the next turn of the most recent conversation
  autodevai run --conversation 3fa1c2 "and by 3?" --json | jq -r .conversation_id
"""


# ---- parser ---------------------------------------------------------------------------------------------------


def _global_options(*, top: bool) -> argparse.ArgumentParser:
    """``--json`` and ``--config`` for the top parser (``top``) or a verb's. A verb's default is SUPPRESS, so a
    value given before the verb is not reset when the verb's parser runs (argparse copies its defaults over)."""
    holder = argparse.ArgumentParser(add_help=False)
    group = holder.add_argument_group("global options (before or after the verb)")
    json_default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    config_default: dict[str, Any] = {"default": None} if top else {"default": argparse.SUPPRESS}
    group.add_argument("--json", action="store_true", help="print JSON instead of tables", **json_default)
    group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="settings file (default: config.toml in the config dir, see `autodevai config path`)",
        **config_default,
    )
    return holder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodevai",
        description="Use many AI models as one: routing, fallbacks, budgets, metrics. "
        "With no provider or key configured, a built-in simulator answers.",
        parents=[_global_options(top=True)],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"autodevai {__version__}")
    parser.set_defaults(face=None)  # GATEWAY for the verbs the launcher hands to the gateway
    common = _global_options(top=False)
    upstream = argparse.ArgumentParser(add_help=False)
    one = upstream.add_argument_group("one-off provider (named by its host, e.g. 127-0-0-1-11434)")
    one.add_argument("--base-url", help="use this OpenAI-compatible server for this call only")
    one.add_argument("--api-key-env", help="env var holding the key for --base-url")
    one.add_argument("--kind", choices=["openai", "openrouter"], default="openai", help="API flavor of --base-url")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")

    p = sub.add_parser("init", parents=[common], help="load config, keys and catalog; open the store")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "run",
        parents=[common, upstream],
        help="send a prompt (with images, files, tools or a JSON schema) through routing and fallbacks",
        description="Send a prompt through routing and fallbacks. The answer goes to stdout; reasoning, refusals "
        "and the footer (model, tokens, cost, latency, prompt compression) go to stderr. One-off by default; "
        "-c, --conversation or --new-conversation make the prompt a turn of a stored conversation.",
        epilog=chat.EXAMPLES + CONVERSATION_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_request_args(p)
    p.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream the answer (with --json: JSON Lines, one event per line, the response last)",
    )
    thread = p.add_argument_group(
        "conversation (the prompt becomes the next turn: the model sees the thread; -m, -p and the other options "
        "apply to this turn; --json adds conversation_id and message_id)"
    ).add_mutually_exclusive_group()
    thread.add_argument(
        "-c", "--continue", dest="continue_latest", action="store_true", help="continue the most recent conversation"
    )
    thread.add_argument("--conversation", metavar="ID", help="continue this conversation (id or a unique prefix)")
    thread.add_argument(
        "--new-conversation",
        action="store_true",
        help="start a conversation with this prompt (its id goes to stderr, or into --json); --system becomes its "
        "system prompt",
    )
    p.set_defaults(func=cmd_run)

    repl.add_parser(sub, common)
    conversation_verbs.add_parser(sub, common)

    p = sub.add_parser(
        "route",
        parents=[common, upstream],
        help="run with an explicit preference and explain it",
        description="Route a prompt with an explicit preference, send it and explain the choice. --dry-run only "
        "explains; it still needs the catalog (the built-in simulator's when nothing else is configured).",
    )
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

    p = sub.add_parser("config", parents=[common], help="show or change settings and keys (starts no provider)")
    csub = p.add_subparsers(dest="config_verb", metavar="ACTION")
    c = csub.add_parser("show", parents=[common], help="print the settings")
    c.set_defaults(func=config_verbs.cmd_config_show)
    c = csub.add_parser("path", parents=[common], help="print where settings and data live")
    c.set_defaults(func=config_verbs.cmd_config_path)
    c = csub.add_parser("set", parents=[common], help="set KEY (dotted, e.g. budget.daily_usd) to VALUE")
    c.add_argument("key")
    c.add_argument("value")
    c.set_defaults(func=config_verbs.cmd_config_set)
    c = csub.add_parser("key", parents=[common], help="store a provider's API key in the OS keyring (from stdin)")
    c.add_argument("provider")
    c.add_argument("--delete", action="store_true")
    c.set_defaults(func=config_verbs.cmd_config_key)
    c = csub.add_parser("provider", parents=[common], help="add or remove an OpenAI-compatible provider")
    c.add_argument("action", choices=["add", "remove"])
    c.add_argument("name")
    c.add_argument("--base-url")
    c.add_argument("--kind", choices=["openai", "openrouter"], default="openai")
    c.add_argument("--api-key-env")
    c.set_defaults(func=config_verbs.cmd_config_provider)
    p.set_defaults(func=config_verbs.cmd_config_show)

    p = sub.add_parser("metrics", parents=[common], help="latency, TTFT, tokens, cost, errors per model")
    p.add_argument("--window", default="15m", help="1m, 15m or 24h")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("advise", parents=[common], help="recommendations from measured history")
    p.set_defaults(func=cmd_advise)

    p = sub.add_parser("workflow", parents=[common], help="run a multi-step workflow (a task, or a TOML/JSON file)")
    p.add_argument("task", help="a task in words, or a .toml/.json workflow file")
    p.set_defaults(func=cmd_workflow)

    p = sub.add_parser(
        "context", parents=[common], help="count a file's tokens for a model; fit it into a window (offline)"
    )
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
    p.add_argument(
        "--consensus",
        "-c",
        default=None,
        help="majority (default), plurality, quorum, leader, none; asked for explicitly, a topology that does not "
        "vote (ring, hierarchical) leaves it unchecked: exit 1",
    )
    p.add_argument("--faulty", "-f", type=int, default=0, help="f, the faulty agents a quorum must tolerate")
    p.add_argument("--rounds", type=int, default=2, help="debate rounds (mesh) / re-votes (star)")
    p.add_argument("--model", "-m", help="give every agent this model (default: routed)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per agent call")
    p.set_defaults(func=cmd_swarm)

    p = sub.add_parser("capabilities", parents=[common], help="what this installation can do")
    p.set_defaults(func=cmd_capabilities)

    p = sub.add_parser("test", parents=[common], help="self-test: store, keys, a round trip per provider")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser(
        "serve",
        parents=[common],
        help="run the local OpenAI-compatible gateway (routing, budgets, metrics for any tool)",
    )
    p.add_argument("--host", default=None, help="bind address (default from settings: 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default from settings: 8765; 0 = any free port)")
    p.set_defaults(func=None, face=GATEWAY)

    p = sub.add_parser("gateway", parents=[common], help="the gateway's bearer token (starts no provider)")
    gsub = p.add_subparsers(dest="gateway_verb", metavar="ACTION")
    g = gsub.add_parser(
        "token",
        parents=[common],
        help="print the token clients send as `Authorization: Bearer …` (created on first use: kept in the "
        "OS keyring, else in a file readable only by you in the config dir; AUTODEVAI_GATEWAY_TOKEN wins)",
    )
    g.set_defaults(func=None, face=GATEWAY)
    p.set_defaults(func=None, face=GATEWAY)

    p = sub.add_parser("sim", help="run the built-in OpenRouter-compatible simulator", add_help=False)
    p.add_argument("sim_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=None)
    return parser


# ---- running a verb -------------------------------------------------------------------------------------------


def verb_index(argv: list[str]) -> int:
    """Where the verb is in ``argv``: after any global options (``--json``, ``--config FILE``)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in GLOBAL_OPTIONS:
            i += 2
        elif arg in GLOBAL_FLAGS or arg.startswith(tuple(f"{o}=" for o in GLOBAL_OPTIONS)):
            i += 1
        else:
            break
    return i


def run_verb(verb: Verb, args: argparse.Namespace) -> int:
    """Run ``verb(args)`` to its exit code: engine errors become ``error: ...`` on stderr and their class's code
    (``exits``), Ctrl+C is 130, a closed pipe (``| head``) ends quietly."""
    try:
        outcome = verb(args)
        return outcome if isinstance(outcome, int) else asyncio.run(outcome)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except E.EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout.close()
        return 0
