"""The ``autodevai`` program: the launcher above the three faces, and the only module that joins them.

It parses the command line with the CLI's parser (``autodevai.cli.main.build_parser``, so ``--help`` lists every
verb) and then:

- with no verb, opens the desktop window (``autodevai.gui.app.main``), handing it a way to start the local gateway
  for when ``gateway.enabled`` asks for one; without a display, or without Qt, it prints the help instead;
- ``serve`` and ``gateway token`` run the gateway's side (``autodevai.gateway``) over an app opened the way every
  CLI verb opens one;
- ``sim`` runs the built-in simulator, which parses its own options;
- every other verb is the CLI's (``autodevai.cli``).

The faces never import one another (import-linter's layers contract in ``pyproject.toml``); the window and the
gateway are imported only when asked for, so a headless verb starts no Qt and no gateway.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from autodevai.cli.main import GATEWAY, build_parser, run_verb, verb_index
from autodevai.cli.session import Needs, with_app

if TYPE_CHECKING:
    from autodevai.compose import App
    from autodevai.gui.app import RunningGateway

__all__ = ["main"]


# ---- the gateway's verbs --------------------------------------------------------------------------------------


async def cmd_serve(args: argparse.Namespace) -> int:
    """``autodevai serve``: the gateway over the configured providers (the simulator when none), until Ctrl+C."""
    from autodevai.gateway.foreground import serve_until_stopped

    async def body(app: App) -> int:
        cfg = app.engine.settings.gateway
        port = cfg.port if args.port is None else args.port
        return await serve_until_stopped(app, host=args.host or cfg.host, port=port, as_json=args.json)

    return await with_app(args, Needs.MODELS, body)


async def cmd_gateway_token(args: argparse.Namespace) -> int:
    """``autodevai gateway token``: print the gateway's token (created on first use: in the keyring, else in a
    private file). Opens no engine and starts no provider."""
    from autodevai.compose import secret_store
    from autodevai.gateway.token import get_or_create_token

    token = get_or_create_token(secret_store())
    print(json.dumps({"token": token}, indent=2, ensure_ascii=False) if args.json else token)
    return 0


GATEWAY_VERBS = {"serve": cmd_serve, "gateway": cmd_gateway_token}


async def start_gateway(app: App, *, host: str, port: int) -> RunningGateway:
    """Start the gateway for the window (a ``gui.app.GatewayStarter``); imported only when the settings ask."""
    from autodevai.gateway import serve

    return await serve(app, host=host, port=port)


# ---- the window -----------------------------------------------------------------------------------------------


def open_window(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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
    return gui_main(config_path=args.config, start_gateway=start_gateway)


# ---- entry point ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``autodevai`` with ``argv`` (default: the process's arguments); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verb_at = verb_index(argv)
    if verb_at < len(argv) and argv[verb_at] == "sim":  # the simulator parses its own options
        from autodevai.sim.__main__ import main as sim_main

        return sim_main(argv[verb_at + 1 :])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        return open_window(parser, args)
    if args.face == GATEWAY:
        return run_verb(GATEWAY_VERBS[args.verb], args)
    return run_verb(args.func, args)


if __name__ == "__main__":
    raise SystemExit(main())
