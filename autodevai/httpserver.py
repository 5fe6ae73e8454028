"""A small, fast HTTP/1.1 server on asyncio streams: what the simulator and the gateway need and nothing more.

Owns: parsing the request line and headers (RFC 9112 §3, §5), ``Content-Length`` and chunked request bodies
(§6), persistent connections (keep-alive unless ``Connection: close`` or HTTP/1.0, §9.3), and three response
styles: a whole body with ``Content-Length``, a chunked stream (§7.1, used for SSE), and deliberate
misbehavior for fault injection (stop mid-body, hang, reset). A client that disconnects mid-response ends only
its own connection; ``Responder.on_client_gone`` lets a handler notice a disconnect while it has nothing to
write. ``HttpServer.stop`` closes every connection it accepted, so tests see no resource warnings.

Used by ``autodevai.sim`` (the OpenRouter-compatible simulator) and ``autodevai.gateway`` (the local
OpenAI-compatible endpoint); it knows neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote

__all__ = ["ClientGone", "HttpServer", "Request", "Responder"]

log = logging.getLogger("autodevai.httpserver")

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {s.value: s.phrase for s in HTTPStatus}
_STATUS_LINES: dict[int, bytes] = {
    code: f"HTTP/1.1 {code} {phrase}\r\n".encode("latin-1") for code, phrase in _REASONS.items()
}
_CHUNK_END = b"0\r\n\r\n"


class ClientGone(Exception):
    """The client closed the connection while we were answering."""


class _BadRequest(Exception):
    """The bytes on the wire are not HTTP/1.1 we can parse; answer 400 and close."""


@dataclass(slots=True)
class Request:
    """One parsed request. Header names are lower-case; a repeated header keeps its last value."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: str = "HTTP/1.1"


Handler = Callable[[Request, "Responder"], Awaitable[None]]


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} Unknown\r\n".encode("latin-1")


def _header_bytes(headers: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode("latin-1")


class Responder:
    """How a handler answers one request on one connection.

    Exactly one of ``send``, ``start_stream`` (then ``send_chunks``/``end_stream``), ``send_partial``,
    ``hang``, ``abort`` is used per request. After ``send_partial``, ``hang`` or ``abort`` the connection
    closes.
    """

    __slots__ = ("_reader", "_server", "_writer", "close_after", "closed", "started")

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        close_after: bool,
        server: bytes = b"server: autodevai\r\n",
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._server = server
        self.close_after = close_after  # the request asked for Connection: close
        self.started = False  # a status line went out
        self.closed = False  # the connection must not be reused

    def _head(self, status: int, headers: Iterable[tuple[str, str]]) -> bytes:
        conn = b"connection: close\r\n" if self.close_after else b""
        return _status_line(status) + self._server + conn + _header_bytes(headers)

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self.closed = True
            raise ClientGone from exc

    async def send(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        """Send a whole response with ``Content-Length``."""
        self.started = True
        head = self._head(status, headers)
        self._writer.write(
            b"%scontent-type: %s\r\ncontent-length: %d\r\n\r\n%s"
            % (head, content_type.encode("latin-1"), len(body), body)
        )
        await self._drain()

    async def start_stream(
        self, status: int, headers: Iterable[tuple[str, str]] = (), content_type: str = "text/event-stream"
    ) -> None:
        """Send the head of a chunked response; follow with ``send_chunks`` and ``end_stream``."""
        self.started = True
        head = self._head(status, headers)
        self._writer.write(
            b"%scontent-type: %s\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
            % (head, content_type.encode("latin-1"))
        )
        await self._drain()

    async def send_chunks(self, pieces: Iterable[bytes]) -> None:
        """Send each piece as one HTTP chunk, in a single write. Raises ``ClientGone`` if the client left."""
        if self._writer.is_closing():
            self.closed = True
            raise ClientGone
        out = bytearray()
        for piece in pieces:
            if piece:
                out += b"%x\r\n%s\r\n" % (len(piece), piece)
        self._writer.write(out)
        await self._drain()

    async def end_stream(self) -> None:
        """Send the last (empty) chunk; the connection may then serve the next request."""
        self._writer.write(_CHUNK_END)
        await self._drain()

    async def send_partial(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Promise ``len(body)`` bytes but send only the first half, then close (a body cut mid-way)."""
        self.started = True
        head = self._head(status, headers)
        self._writer.write(
            b"%scontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (head, len(body), body[: len(body) // 2])
        )
        with contextlib.suppress(ClientGone):
            await self._drain()
        self.close()

    def client_gone(self) -> bool:
        """True when the client closed its side of the connection (or reset it). Reads nothing."""
        return self.closed or self._writer.is_closing() or self._reader.at_eof()

    def on_client_gone(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` (once, on the event loop) when the client closes or resets the connection; returns
        a function that unregisters it. For handlers that wait a long time with nothing to write: a write would
        notice the disconnect, a wait does not. HTTP clients do not half-close a connection while they wait for
        an answer, so an EOF means the client went away. Called at once if it is gone already."""
        reader = self._reader
        if self.client_gone():
            callback()
            return _noop
        if not isinstance(reader, _Reader):
            return _noop  # a reader this server did not make: it cannot tell
        reader.on_gone.append(callback)

        def unregister() -> None:
            with contextlib.suppress(ValueError):
                reader.on_gone.remove(callback)

        return unregister

    def close(self) -> None:
        """Close the connection after whatever was sent (a stream cut without its final chunk)."""
        self.closed = True
        self._writer.close()

    def abort(self) -> None:
        """Reset the connection: RST instead of FIN (SO_LINGER 0), no response at all."""
        self.closed = True
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()

    async def hang(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (or until the client leaves), then close: a server that timed out."""
        self.closed = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
            while (left := deadline - loop.time()) > 0:
                if not await asyncio.wait_for(self._reader.read(65536), left):
                    break  # EOF: the client gave up
        self.close()


class _Reader(asyncio.StreamReader):
    """A ``StreamReader`` that calls ``on_gone`` callbacks at EOF or on a connection error, so a handler learns
    that its client left without reading (asyncio has no "wait for EOF" that leaves the buffer alone)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self.on_gone: list[Callable[[], object]] = []

    def _gone(self) -> None:
        callbacks, self.on_gone = self.on_gone, []
        for callback in callbacks:
            callback()

    def feed_eof(self) -> None:
        super().feed_eof()
        self._gone()

    def set_exception(self, exc: Exception) -> None:
        super().set_exception(exc)
        self._gone()


def _noop() -> None:
    return None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _BadRequest("bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise _BadRequest("body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
    """Read one request; None on a clean EOF between requests; ``_BadRequest`` for bytes we cannot parse."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise _BadRequest("incomplete head") from exc
    except asyncio.LimitOverrunError as exc:
        raise _BadRequest("head too large") from exc
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("bad request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest("bad header line")
            headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":  # curl sends this before bodies over 1 KiB
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        try:
            body = await _read_chunked(reader)
        except asyncio.LimitOverrunError as exc:
            raise _BadRequest("chunk line too long") from exc
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise _BadRequest("bad content-length") from exc
        if length < 0 or length > MAX_BODY:
            raise _BadRequest("bad content-length")
        body = await reader.readexactly(length) if length else b""
    path, _, qs = target.partition("?")
    query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
    return Request(method, target, unquote(path), query, headers, body, version)


class HttpServer:
    """Accept connections and feed each request to ``handler``; ``stop`` closes everything it opened.

    ``name`` goes into every response's ``Server`` header and into the 500 answer a handler bug produces."""

    def __init__(self, handler: Handler, *, name: str = "autodevai") -> None:
        self._handler = handler
        self._name = name
        self._server_header = f"server: {name}\r\n".encode("latin-1")
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.StreamReaderProtocol:  # what asyncio.start_server builds, with our reader
            return asyncio.StreamReaderProtocol(_Reader(MAX_HEAD), self._serve)

        self._server = await loop.create_server(protocol, host, port, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, end every open connection and wait until each is closed."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # StreamReaderProtocol runs us in a task
        self._tasks.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await self._loop(reader, writer)
        except (ConnectionError, ClientGone, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await _read_request(reader, writer)
            except _BadRequest as exc:
                responder = Responder(reader, writer, True, self._server_header)
                await responder.send(400, f"bad request: {exc}".encode(), content_type="text/plain")
                return
            if request is None:
                return
            close_after = request.headers.get("connection", "").lower() == "close" or request.version == "HTTP/1.0"
            responder = Responder(reader, writer, close_after, self._server_header)
            try:
                await self._handler(request, responder)
            except (ClientGone, ConnectionError):
                return
            except Exception as exc:  # a handler bug must not kill the server; answer 500 and say why
                log.exception("%s: the handler of %s %s failed", self._name, request.method, request.path)
                if responder.started or responder.closed:
                    return
                # Both error shapes at once: OpenRouter's (numeric code) and OpenAI's (type); clients read either.
                error = {"code": 500, "type": "server_error", "message": f"{self._name} bug: {type(exc).__name__}"}
                await responder.send(500, json.dumps({"error": error}).encode())
                return
            if not responder.started and not responder.closed:
                await responder.send(500, b'{"error":{"code":500,"message":"handler sent no response"}}')
            if responder.closed or close_after:
                return
