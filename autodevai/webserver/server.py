"""``HttpServer``: aiohttp's low-level HTTP/1.1 server on the running asyncio loop, with our limits around it.

Owns: the listening socket, the handler call (version check, the handler's errors as HTTP answers, a refused body
drained a little then the connection closed) and a prompt ``stop`` that closes every connection it accepted.
Parsing, keep-alive, chunked framing and pipelining are aiohttp's (its llhttp parser is strict: see
``autodevai.webserver``); connection limits are ``connections``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http import HttpVersion10, HttpVersion11
from aiohttp.web_protocol import RequestPayloadError

from autodevai.webserver.connections import Connection, ConnectionPool, ProtocolLog, ServerCounters
from autodevai.webserver.exchange import BodyRefused, ClientGone, Request, Responder
from autodevai.webserver.limits import ACCEPT_BATCH, Limits, connection_cap, raise_fd_limit

__all__ = ["ErrorBody", "Handler", "HttpServer", "default_error_body"]

log = logging.getLogger("autodevai.webserver")

Handler = Callable[[Request, Responder], Awaitable[None]]
ErrorBody = Callable[[int, str], bytes]
_VERSIONS = (HttpVersion11, HttpVersion10)
_STOP_GRACE_S = 0.5  # connections whose last bytes are not out by then are reset


def default_error_body(status: int, message: str) -> bytes:
    """Both error shapes at once: OpenRouter's (numeric ``code``) and OpenAI's (``type``); clients read either."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return json.dumps({"error": {"code": status, "type": kind, "message": message}}).encode()


class HttpServer:
    """Accept connections and feed each request to ``handler``; ``stop`` closes everything it opened.

    ``name`` goes into every response's ``Server`` header and the logs; ``error_body`` shapes the answers the
    server gives itself (a body refused, a handler bug)."""

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = "autodevai",
        limits: Limits | None = None,
        error_body: ErrorBody = default_error_body,
    ) -> None:
        self._handler = handler
        self._name = name
        self.limits = limits or Limits()
        self._error_body = error_body
        self.counters = ServerCounters()
        self._log = ProtocolLog(name, self.counters)
        self._pool: ConnectionPool | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.port = 0

    @property
    def cap(self) -> int:
        """The most connections kept open at once (0 before ``start``)."""
        return self._pool.cap if self._pool is not None else 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port, then read ``port``). Raises ``OSError`` when it cannot bind."""
        limits = self.limits
        self._pool = pool = ConnectionPool(
            connection_cap(limits, raise_fd_limit()), limits.header_timeout, self.counters
        )
        web_server = web.Server(
            self._dispatch,
            handler_cancellation=True,  # a client that leaves cancels its handler (the gateway's engine request)
            keepalive_timeout=limits.keepalive_timeout,
            lingering_time=0,  # a refused body is drained by _settle, within limits
            access_log=None,
            auto_decompress=False,  # a compressed body is refused as malformed, never inflated
            logger=self._log,
        )

        def protocol() -> Connection:
            return Connection(pool, web_server())

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(protocol, host, port, backlog=ACCEPT_BATCH)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, end every open connection (handlers are cancelled) and wait until each is closed."""
        server, pool = self._server, self._pool
        if server is None or pool is None:
            return
        self._server = None
        server.close()
        for conn in list(pool.all):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_STOP_GRACE_S):
                await pool.wait_empty()
        for conn in list(pool.all):  # a client that reads nothing keeps our last bytes unsent: reset it
            conn.abort()
        await asyncio.sleep(0)  # let the transports run connection_lost and close their sockets
        await server.wait_closed()
        self._log.flush()

    async def _dispatch(self, raw: web.BaseRequest) -> web.StreamResponse:
        transport = raw.transport
        conn = transport.get_protocol() if transport is not None else None
        if isinstance(conn, Connection):
            conn.enter(raw.content)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        resp = Responder(raw, self._name)
        try:
            await self._answer(Request(raw, self.limits), resp)
            await self._settle(raw, resp)
        finally:
            if task is not None:
                self._tasks.discard(task)
            if isinstance(conn, Connection):
                conn.leave()
        # Already sent; aiohttp's own prepare/write_eof are no-ops on it. A connection the handler closed or reset
        # has no response: aiohttp's write then fails, and it drops the connection quietly.
        return resp.response if resp.response is not None else web.Response()

    async def _answer(self, req: Request, resp: Responder) -> None:
        try:
            if req.version not in _VERSIONS:
                await self._refuse(resp, 400, "Only HTTP/1.0 and HTTP/1.1 are served.")
                return
            await self._handler(req, resp)
            if not resp.started and not resp.closed:
                await self._refuse(resp, 500, f"{self._name} bug: the handler sent no response")
        except ClientGone:
            pass
        except BodyRefused as exc:  # the answer says Connection: close; _settle drains a little, then closes
            self.counters.bodies_refused += 1
            if not resp.started and not resp.closed:
                await self._refuse(resp, exc.status, exc.message)
        except ConnectionError:
            resp.closed = True
        except Exception as exc:  # a handler bug must not kill the server; answer 500 and say why
            log.exception("%s: the handler of %s %s failed", self._name, req.method, req.path)
            if not resp.started and not resp.closed:
                await self._refuse(resp, 500, f"{self._name} bug: {type(exc).__name__}")

    async def _refuse(self, resp: Responder, status: int, message: str) -> None:
        with contextlib.suppress(ClientGone):
            await resp.send(status, self._error_body(status, message))

    async def _settle(self, raw: web.BaseRequest, resp: Responder) -> None:
        """After an answer given without reading the whole body (a refusal): read and drop at most
        ``drain_bytes`` of it for ``drain_s`` so the client, still sending, gets to read the answer; then close
        (the answer said ``Connection: close``). The body is never kept."""
        content = raw.content
        if resp.closed or content.is_eof():
            return
        left = self.limits.drain_bytes
        with contextlib.suppress(TimeoutError, RequestPayloadError):
            async with asyncio.timeout(self.limits.drain_s):
                while left > 0 and (chunk := await content.readany()):
                    left -= len(chunk)
        if not content.is_eof():
            resp.close()
