"""The one shared ``httpx.AsyncClient`` every provider instance sends through.

One client means one HTTP/1.1 keep-alive pool for the whole process: a request to a provider reuses a warm TCP
(and TLS) connection instead of paying a handshake per call. Timeouts are split: ``connect`` bounds the
TCP/TLS handshake, ``read``/``write`` bound each socket operation, ``pool`` bounds waiting for a free
connection. The overall budget of one call (``timeout_s``) is enforced by the provider on top of these, with
an asyncio deadline.
"""

from __future__ import annotations

import httpx

from autodevai import __version__
from autodevai.engine.constants import POOL_MAX_CONNECTIONS, POOL_MAX_KEEPALIVE

__all__ = ["USER_AGENT", "make_client"]

USER_AGENT = f"AutoDevAI/{__version__}"


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
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        trust_env=trust_env,
        http1=True,
        http2=False,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )
