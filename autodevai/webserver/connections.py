"""Every accepted connection, and the limits that apply before a request reaches a handler.

Owns: ``ServerCounters`` (what was refused, closed or malformed, for logs and tests), ``Connection`` (an asyncio
protocol wrapped around aiohttp's own, adding the header timeout and the idle/busy state), ``ConnectionPool`` (the
cap: at the cap a newcomer takes the place of the longest-idle connection, or is answered 503 when every
connection is busy) and ``ProtocolLog`` (aiohttp's logger for malformed requests: counted, and logged as one line a
minute at most, never a traceback each).

A connection is *busy* from the moment its request's head is parsed until the handler has answered; otherwise it is
*idle* (connecting, sending a head, or kept alive). Idle connections cost nothing but a descriptor, so they are
the ones given up under pressure; a busy one is never interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web_protocol
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestPayloadError

__all__ = ["Connection", "ConnectionPool", "ProtocolLog", "ServerCounters"]

log = logging.getLogger("autodevai.webserver")

BAD_REQUEST_REPORT_S = 60.0  # malformed requests are summarized at most this often
# aiohttp's C parser, failing inside a body (a chunk size of "-1" after the head), queues a 400 for *after* the
# handler but never tells the handler's body reader, which would wait for the body timeout. We look for that queued
# error (a private type: without it, the body timeout still ends the wait) and fail the read at once.
_ERR_INFO: type | None = getattr(web_protocol, "_ErrInfo", None)
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 42\r\nretry-after: 1\r\n"
    b"connection: close\r\n\r\nevery connection is busy; try again later\n"
)


@dataclass
class ServerCounters:
    """What one server turned away since it started."""

    bad_requests: int = 0  # malformed HTTP answered 400 by the parser
    header_timeouts: int = 0  # connections closed for not sending a whole head in time
    evicted: int = 0  # idle connections closed at the cap to make room for a new one
    refused: int = 0  # new connections answered 503 because every connection was busy
    bodies_refused: int = 0  # bodies too large (413), too slow (408) or malformed (400)


class ProtocolLog(logging.LoggerAdapter):  # type: ignore[type-arg]  # generic only in newer typeshed
    """The logger handed to aiohttp. A malformed request (aiohttp logs each with its traceback) is counted instead:
    the first of a quiet spell is logged as one line, the rest once per ``BAD_REQUEST_REPORT_S`` as a count, and
    what is left at ``flush`` (the server stopping). The reason is logged, never the request's bytes (they may hold
    a token). Anything else passes through to ``autodevai.webserver``."""

    def __init__(self, name: str, counters: ServerCounters, clock: Any = time.monotonic) -> None:
        super().__init__(log, {})
        self._name = name
        self._counters = counters
        self._clock = clock
        self._unreported = 0
        self._last_report = -BAD_REQUEST_REPORT_S
        self._last_reason = ""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, tuple):
            exc = exc[1]
        if isinstance(exc, HttpProcessingError):
            self._bad_request(exc)
            return
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: object, kwargs: MutableMapping[str, Any]) -> tuple[object, MutableMapping[str, Any]]:
        return f"{self._name}: {msg}", kwargs

    def _bad_request(self, exc: HttpProcessingError) -> None:
        self._counters.bad_requests += 1
        self._unreported += 1
        self._last_reason = (exc.message or type(exc).__name__).split("\n", 1)[0].strip().rstrip(":")
        if self._clock() - self._last_report >= BAD_REQUEST_REPORT_S:
            self.flush()

    def flush(self) -> None:
        """Log what has not been reported yet (one line), if anything."""
        if not self._unreported:
            return
        n, self._unreported = self._unreported, 0
        self._last_report = self._clock()
        log.warning(
            "%s: answered %d malformed HTTP request%s with 400 (latest: %s); more are counted, reported once a minute",
            self._name,
            n,
            "" if n == 1 else "s",
            self._last_reason,
        )


class Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol (``inner``) does HTTP; this adds the cap, the header timeout
    and the busy flag. Every protocol event is passed on to ``inner``."""

    __slots__ = ("_body", "_inner", "_pool", "_timer", "busy", "transport")

    def __init__(self, pool: ConnectionPool, inner: asyncio.Protocol) -> None:
        self._pool = pool
        self._inner: asyncio.Protocol | None = inner
        self._timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None  # the body of the request being handled
        self.transport: asyncio.Transport | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self._pool.admit(self):
            self._inner = None  # aiohttp never sees this connection
            transport.write(_BUSY)
            transport.close()
            return
        assert self._inner is not None
        self._inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._timer is None and not self.busy:
            self._arm()  # the first bytes of a request on an idle connection: its head must follow in time
        if self._inner is not None:
            self._inner.data_received(data)
            body = self._body
            if body is not None and not body.is_eof() and _parse_failed(self._inner):
                body.set_exception(RequestPayloadError("its framing is broken"))

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._inner is not None:
            self._pool.discard(self)
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def enter(self, body: StreamReader) -> None:
        """A request's head was parsed: its handler runs now, and may read ``body``."""
        self.busy = True
        self._body = body
        self._disarm()
        self._pool.mark_busy(self)

    def leave(self) -> None:
        """The handler answered; the connection may wait for the next request."""
        self.busy = False
        self._body = None
        self._pool.mark_idle(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self._pool.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._timer = None
        if not self.busy:
            self._pool.counters.header_timeouts += 1
            self.close()


def _parse_failed(inner: asyncio.Protocol) -> bool:
    queued = getattr(inner, "_messages", None)
    if not queued or _ERR_INFO is None:
        return False
    return isinstance(queued[-1][0], _ERR_INFO)


class ConnectionPool:
    """The connections of one server, with the cap. ``all`` holds every admitted connection still open; ``idle``
    (insertion-ordered) the idle ones, longest idle first."""

    def __init__(self, cap: int, header_timeout: float, counters: ServerCounters) -> None:
        self.cap = cap
        self.header_timeout = header_timeout
        self.counters = counters
        self.all: set[Connection] = set()
        self._idle: dict[Connection, None] = {}
        self._emptied: asyncio.Event | None = None

    def admit(self, conn: Connection) -> bool:
        """Take ``conn`` in, closing the longest-idle connection when at the cap; False when every connection is
        busy (the newcomer is then turned away)."""
        if len(self.all) >= self.cap:
            if not self._idle:
                self.counters.refused += 1
                return False
            oldest = next(iter(self._idle))
            del self._idle[oldest]
            self.all.discard(oldest)  # its descriptor is freed on the next loop iteration
            self.counters.evicted += 1
            oldest.close()
        self.all.add(conn)
        self._idle[conn] = None
        return True

    def mark_busy(self, conn: Connection) -> None:
        self._idle.pop(conn, None)

    def mark_idle(self, conn: Connection) -> None:
        if conn in self.all:
            self._idle[conn] = None

    def discard(self, conn: Connection) -> None:
        self.all.discard(conn)
        self._idle.pop(conn, None)
        if not self.all and self._emptied is not None:
            self._emptied.set()

    async def wait_empty(self) -> None:
        """Return once every connection has closed."""
        if self.all:
            self._emptied = asyncio.Event()
            await self._emptied.wait()
