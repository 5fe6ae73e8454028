"""One request and its answer, as the simulator's and the gateway's handlers see them.

Owns: ``Request`` (method, path, query, headers at once; the body only on ``await read()``, so a handler checks
auth, method and path before a byte of the body is read), ``Responder`` (the ways to answer: a whole body, an SSE
stream over chunked encoding, and the deliberate misbehavior the simulator's faults need: half a body then close,
silence, a TCP reset), and the two exceptions a handler may see: ``ClientGone`` and ``BodyRefused``.

Built on aiohttp's ``BaseRequest``/``StreamResponse``; handlers never touch aiohttp themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterable, Mapping

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from multidict import CIMultiDict

from autodevai.webserver.limits import Limits

__all__ = ["BodyRefused", "ClientGone", "Request", "Responder"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class ClientGone(Exception):
    """The client closed the connection while we were answering."""


class BodyRefused(Exception):
    """The request's body is too large (413), too slow (408) or malformed (400); the server answers ``status``
    with ``message`` and closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """One request. ``headers`` is case-insensitive; ``body`` exists only after ``await read()``."""

    __slots__ = ("_body", "_limits", "_raw", "headers", "method", "path", "version")

    def __init__(self, raw: web.BaseRequest, limits: Limits) -> None:
        self._raw = raw
        self._limits = limits
        self._body: bytes | None = None
        self.method: str = raw.method
        self.path: str = raw.path  # percent-decoded, without the query
        self.headers: Mapping[str, str] = raw.headers
        self.version: tuple[int, int] = raw.version

    @property
    def target(self) -> str:
        """The request target as sent (path and query, still percent-encoded)."""
        return self._raw.raw_path

    @property
    def query(self) -> dict[str, str]:
        """The query parameters; a repeated name keeps its first value."""
        return dict(self._raw.query)

    @property
    def body(self) -> bytes:
        """The body that ``read`` returned. Raises ``RuntimeError`` before it."""
        if self._body is None:
            raise RuntimeError("the body has not been read: call `await request.read()` first")
        return self._body

    async def read(self) -> bytes:
        """The whole body (b"" when there is none). Sends ``100 Continue`` first when the client waits for it.

        Raises ``BodyRefused``: 413 for a body above ``Limits.max_body`` (a declared length is refused before any
        of it is read), 408 when it has not arrived within ``Limits.body_timeout``, 400 for broken chunked framing.
        """
        if self._body is not None:
            return self._body
        raw, limits = self._raw, self._limits
        length = raw.content_length
        if length is not None and length > limits.max_body:
            raise BodyRefused(413, f"The request body ({length} bytes) is larger than {limits.max_body} bytes.")
        content = raw.content
        if not content.is_eof() and raw.headers.get("expect", "").lower() == "100-continue":
            await raw.writer.write(_CONTINUE)  # RFC 9110 §10.1.1: the client waits for this before the body
        parts: list[bytes] = []
        size = 0
        try:
            if content.is_eof() and content.total_bytes <= limits.max_body:  # all here already: no timer needed
                self._body = content.read_nowait(-1)
                return self._body
            async with asyncio.timeout(limits.body_timeout):
                while chunk := await content.readany():
                    size += len(chunk)
                    if size > limits.max_body:
                        raise BodyRefused(413, f"The request body is larger than {limits.max_body} bytes.")
                    parts.append(chunk)
        except TimeoutError:
            raise BodyRefused(408, f"The request body did not arrive within {limits.body_timeout:g} seconds.") from None
        except RequestPayloadError as exc:
            raise BodyRefused(400, f"The request body is malformed: {exc}.") from None
        self._body = parts[0] if len(parts) == 1 else b"".join(parts)
        return self._body


class Responder:
    """How a handler answers one request.

    Exactly one of ``send``, ``start_stream`` (then ``send_chunks``/``end_stream``), ``send_partial``, ``hang``,
    ``abort`` is used per request; after ``send_partial``, ``hang``, ``abort`` or ``close`` the connection
    closes. A client that disconnects cancels the handler (``asyncio.CancelledError`` at whatever it awaits); a
    write that finds it gone raises ``ClientGone``.
    """

    __slots__ = ("_raw", "_server", "closed", "response", "started")

    def __init__(self, raw: web.BaseRequest, server: str) -> None:
        self._raw = raw
        self._server = server
        self.response: web.StreamResponse | None = None
        self.started = False  # a status line went out (or is on its way)
        self.closed = False  # the connection must not be reused

    def _headers(self, headers: Iterable[tuple[str, str]], content_type: str) -> CIMultiDict[str]:
        out: CIMultiDict[str] = CIMultiDict(headers)
        out["Server"] = self._server
        out["Content-Type"] = content_type
        return out

    async def _prepare(self, response: web.StreamResponse) -> None:
        self.started = True
        self.response = response
        if not self._raw.content.is_eof():
            response.force_close()  # the body was not read (a refusal): say so, the connection ends after this
        if not self._raw.keep_alive:
            response.headers["Connection"] = "close"  # aiohttp leaves it out for HTTP/1.0; say it for every version
        try:
            await response.prepare(self._raw)
        except ConnectionError as exc:
            self.closed = True
            raise ClientGone from exc

    async def send(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        """Send a whole response with ``Content-Length``. Raises ``ClientGone`` if the client left."""
        response = web.Response(status=status, body=body, headers=self._headers(headers, content_type))
        await self._prepare(response)
        try:
            await response.write_eof()
        except ConnectionError as exc:
            self.closed = True
            raise ClientGone from exc

    async def start_stream(
        self, status: int, headers: Iterable[tuple[str, str]] = (), content_type: str = "text/event-stream"
    ) -> None:
        """Send the head of a streamed response (chunked under HTTP/1.1); follow with ``send_chunks`` and
        ``end_stream``."""
        out = self._headers(headers, content_type)
        out["Cache-Control"] = "no-cache"
        await self._prepare(web.StreamResponse(status=status, headers=out))

    async def send_chunks(self, pieces: Iterable[bytes]) -> None:
        """Send ``pieces`` in one write. Raises ``ClientGone`` if the client left."""
        data = b"".join(pieces)
        if not data:
            return
        assert self.response is not None, "start_stream first"
        try:
            await self.response.write(data)
        except ConnectionError as exc:
            self.closed = True
            raise ClientGone from exc

    async def end_stream(self) -> None:
        """End the stream (the last, empty chunk); the connection may then serve the next request."""
        assert self.response is not None, "start_stream first"
        try:
            await self.response.write_eof()
        except ConnectionError as exc:
            self.closed = True
            raise ClientGone from exc

    async def send_partial(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Promise ``len(body)`` bytes but send only the first half, then close (a body cut mid-way)."""
        response = web.StreamResponse(status=status, headers=self._headers(headers, "application/json"))
        response.content_length = len(body)
        with contextlib.suppress(ClientGone, ConnectionError):
            await self._prepare(response)
            await response.write(body[: len(body) // 2])
        self.close()

    def close(self) -> None:
        """Close the connection after whatever was sent (a stream cut without its final chunk)."""
        self.closed = True
        transport = self._raw.transport
        if transport is not None:
            transport.close()

    def abort(self) -> None:
        """Reset the connection: RST instead of FIN (SO_LINGER 0), no response at all."""
        self.closed = True
        transport = self._raw.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    async def hang(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (or until the client leaves: the handler is then cancelled), then close:
        a server that timed out."""
        self.closed = True
        await asyncio.sleep(seconds)
        self.close()
