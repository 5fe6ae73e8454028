"""The gateway in a terminal's foreground (``autodevai serve``): start it over an open app, say where it listens
(a sentence, or one JSON line for scripts), and run until Ctrl+C or SIGTERM, then stop it cleanly.

Opening the app (and printing its notices) is the caller's: the launcher opens it the way every CLI verb does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import TYPE_CHECKING

from autodevai.gateway import serve

if TYPE_CHECKING:
    from autodevai.compose import App

__all__ = ["TOKEN_COMMAND", "serve_until_stopped"]

TOKEN_COMMAND = "autodevai gateway token"


async def serve_until_stopped(app: App, *, host: str, port: int, as_json: bool = False) -> int:
    """Serve ``app.engine`` on ``host:port`` until SIGINT or SIGTERM; returns the exit code (0).

    Raises ``ConfigError`` when there is no token source or the address cannot be bound (see ``serve``).
    """
    gateway = await serve(app, host=host, port=port)
    if as_json:
        print(
            json.dumps({"base_url": gateway.base_url, "token_command": TOKEN_COMMAND}, ensure_ascii=False), flush=True
        )
    else:
        print(f"AutoDevAI gateway on {gateway.base_url} (OpenAI-compatible; models: auto, autodevai/cheapest, …)")
        print(f"token: `{TOKEN_COMMAND}` · stop: Ctrl+C", flush=True)
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
