"""The one shared ``httpx.AsyncClient`` every provider instance sends through, over aiohttp's connection pool.

One client means one HTTP/1.1 keep-alive pool for the whole process: a request to a provider reuses a warm TCP
(and TLS) connection instead of paying a handshake per call. httpx stays the interface (requests, responses,
streams, exceptions); underneath, ``httpx-aiohttp``'s transport (the one the official ``openai`` SDK offers as
its aiohttp backend) replaces httpcore, whose pool bookkeeping costs grow with the number of requests in flight:
bench/overhead.py measures both at concurrency 50. Timeouts are split: ``connect`` bounds the TCP/TLS
handshake, ``read`` bounds each wait for data, ``pool`` bounds waiting for a free connection. The overall budget
of one call (``timeout_s``) is enforced by the provider on top of these, with an asyncio deadline.

Requests that a proxy variable (``HTTPS_PROXY``, ...) routes through a proxy keep httpx's own transport: httpx
mounts its proxy transports ahead of this one, so proxy users see exactly what they saw before.
"""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from autodevai import __version__
from autodevai.engine.constants import POOL_KEEPALIVE_S, POOL_MAX_CONNECTIONS, POOL_MAX_KEEPALIVE

__all__ = ["USER_AGENT", "make_client"]

USER_AGENT = f"AutoDevAI/{__version__}"


class _Transport(AiohttpTransport):
    """``AiohttpTransport`` with a truthful error for a connection that fails after it was made.

    The library maps every ``aiohttp.ClientConnectionError`` (its most general match wins over the more precise
    ones) to ``httpx.ConnectTimeout``, which would be reported as "did not connect in time": a refused
    connection is a connect error, and a server that closed a kept-alive connection or a reset while sending
    are read errors (the request may or may not have reached the server).
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            cause = exc.__cause__
            if cause is None or isinstance(cause, asyncio.TimeoutError):
                raise
            error = httpx.ConnectError if isinstance(cause, aiohttp.ClientConnectorError) else httpx.ReadError
            raise error(f"{type(cause).__name__}: {cause}", request=request) from cause


def make_client(
    connect_timeout_s: float,
    read_timeout_s: float,
    max_connections: int = POOL_MAX_CONNECTIONS,
    max_keepalive: int = POOL_MAX_KEEPALIVE,
    *,
    trust_env: bool = True,
) -> httpx.AsyncClient:
    """Return a new pooled ``httpx.AsyncClient``; the caller (compose.py) owns it and must ``aclose()`` it.

    ``trust_env=True`` honours ``HTTPS_PROXY``/``NO_PROXY``/``SSL_CERT_FILE`` as users behind a proxy expect;
    pass False for loopback-only clients (the simulator, tests) so a proxy variable never reroutes 127.0.0.1.
    Redirects are not followed: an OpenAI-compatible API never redirects a POST; one means a wrong base URL.
    The aiohttp session is made on first use, on the loop that uses it (qasync's in the desktop app).
    """
    if connect_timeout_s <= 0 or read_timeout_s <= 0:
        raise ValueError("timeouts must be positive")
    if max_connections < 1 or not 0 <= max_keepalive <= max_connections:
        raise ValueError("need max_connections >= 1 and 0 <= max_keepalive <= max_connections")
    timeout = httpx.Timeout(
        connect=connect_timeout_s,
        read=read_timeout_s,
        write=read_timeout_s,
        # Waiting for a pooled connection is bounded by each call's own deadline too; the read timeout is the
        # most a burst of concurrent calls should ever queue here.
        pool=read_timeout_s,
    )
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_keepalive, keepalive_expiry=POOL_KEEPALIVE_S
    )
    ssl_context = httpx.create_ssl_context(trust_env=trust_env)

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=POOL_KEEPALIVE_S, ssl=ssl_context)
        # Headers come from httpx; aiohttp must not add its own User-Agent or decode bodies (httpx does).
        return aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",), auto_decompress=False)

    transport = _Transport(limits=limits, trust_env=trust_env, client=session)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        transport=transport,
        trust_env=trust_env,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )
