"""Command line of the simulator: ``python -m autodevai.sim [--port N] [--host H] [--seed S] ...``.

Prints one line, ``AutoDevAI simulator listening on http://HOST:PORT/api/v1``, then serves until SIGINT or
SIGTERM and exits 0. ``--fault`` takes the ``X-Sim-Fault`` syntax plus ``model=GLOB``, ``times=N``, ``p=P``.
The ``/_sim/*`` admin routes answer only requests carrying ``--admin-token`` in ``X-Sim-Admin-Token`` (without the
option nobody can use them over HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from autodevai.sim.config import SimConfig
from autodevai.sim.faults import parse_fault_spec
from autodevai.sim.server import SimServer

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autodevai sim", description="Run the OpenRouter-compatible simulator.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--seed", type=int, default=0, help="answers and fault draws are deterministic in the seed")
    p.add_argument("--latency-scale", type=float, default=1.0, help="multiply model latencies (0 = instant)")
    p.add_argument("--credit-limit", type=float, default=None, help="USD each key may spend (default: unlimited)")
    p.add_argument("--key", action="append", default=[], help="accept only this bearer token (repeatable)")
    p.add_argument(
        "--admin-token", default=None, help="the X-Sim-Admin-Token the /_sim/* routes require (at least 8 characters)"
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="fault rule, e.g. 'http_error;status=503;retry_after=1;model=openai/*;times=3' (repeatable)",
    )
    return p


async def _serve(config: SimConfig, host: str, port: int) -> None:
    server = SimServer(config)
    await server.start(host, port)
    print(f"AutoDevAI simulator listening on {server.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGINT/SIGTERM; returns the exit status (0 clean, 2 bad arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = [parse_fault_spec(spec) for spec in args.fault]
        config = SimConfig(
            seed=args.seed,
            latency_scale=max(args.latency_scale, 0.0),
            keys=set(args.key),
            credit_limit=args.credit_limit,
            faults=faults,
            admin_token=args.admin_token,
        )
    except ValueError as exc:
        print(f"autodevai sim: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, args.host, args.port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"autodevai sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
