"""``Gateway``: the local OpenAI-compatible endpoint on the shared HTTP server (``autodevai.webserver``), bound to
loopback unless another address is asked for explicitly (then it warns: anyone who can reach it and knows the
token spends your budget).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from autodevai.engine.errors import ConfigError, register_secret
from autodevai.gateway.app import GatewayApp
from autodevai.gateway.errors import http_error_body
from autodevai.webserver import HttpServer, Limits

if TYPE_CHECKING:
    from autodevai.engine.orchestrator import Engine

__all__ = ["Gateway", "is_loopback"]

log = logging.getLogger("autodevai.gateway")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, "localhost")."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class Gateway:
    """``await start()``, point clients at ``base_url`` with the token, ``await stop()``.

    ``port=0`` takes a free port (read ``port`` after ``start``). ``limits`` are the HTTP server's (connections,
    timeouts, body cap); the defaults suit every use. Raises ``ConfigError`` for an empty token and, from
    ``start``, when the address cannot be bound (port in use, unknown host).
    """

    def __init__(
        self, engine: Engine, *, token: str, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None
    ) -> None:
        if not token or not token.strip():
            raise ConfigError("the gateway token is empty", hint="set AUTODEVAI_GATEWAY_TOKEN or use the keyring's")
        register_secret(token)
        self._engine = engine
        self._host = host
        self._requested_port = port
        self._http = HttpServer(
            GatewayApp(engine, token).handle, name="autodevai-gateway", limits=limits, error_body=http_error_body
        )
        self._running = False

    @property
    def http(self) -> HttpServer:
        """The HTTP server underneath (its ``counters`` and ``cap``)."""
        return self._http

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The port it listens on (0 before ``start``)."""
        return self._http.port

    @property
    def base_url(self) -> str:
        """What OpenAI clients take as ``base_url``, e.g. ``http://127.0.0.1:8765/v1``."""
        host = self._host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"  # listening everywhere includes loopback, which always works from here
        elif host == "::":
            host = "[::1]"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}/v1"

    async def start(self) -> None:
        if self._running:
            return
        if not is_loopback(self._host):
            log.warning(
                "the gateway listens on %s: other machines can reach it, and anyone with the token can spend "
                "your budget; use 127.0.0.1 unless you need this",
                self._host or "every address",
            )
        try:
            await self._http.start(self._host, self._requested_port)
        except OSError as exc:
            raise ConfigError(
                f"the gateway cannot listen on {self._host}:{self._requested_port}: {exc.strerror or exc}",
                hint="choose another port (--port, or gateway.port in the config) or stop what is using it",
            ) from None
        self._running = True
        log.info("gateway listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening and close every connection; requests in flight are cancelled (recorded as such)."""
        if not self._running:
            return
        self._running = False
        await self._http.stop()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
