"""A tiny scripted HTTP/1.1 server on 127.0.0.1 for provider tests (not the simulator: see autodevai/sim/).

Each test queues the exact replies it wants, in order (status, headers, body bytes, or SSE chunks sent with
chunked transfer encoding, optionally cut or delayed), then inspects what the server received. It speaks just
enough HTTP/1.1 for httpx: Content-Length request bodies, keep-alive, chunked responses.

    async with ScriptedServer() as server:
        server.queue(Reply.json({"choices": [...]}))
        ... call f"{server.url}/v1/chat/completions" ...
        assert server.requests[0].json["model"] == "m"

``routes`` answers a path the same way every time, before the queue (e.g. a 404 for endpoints a client probes).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import socket
import struct
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

__all__ = ["Received", "Reply", "ScriptedServer", "sse_chunk"]

Action = Literal["reply", "close", "reset", "hang"]


def sse_chunk(event: Mapping[str, Any] | str | bytes) -> bytes:
    """One SSE event: a dict becomes ``data: {json}``; a str is sent as one line (``": comment"``,
    ``"data: [DONE]"``); bytes are sent as they are."""
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode() + b"\n\n"
    return b"data: " + json.dumps(event).encode() + b"\n\n"


@dataclass
class Reply:
    """One scripted answer. ``action`` other than "reply" misbehaves instead of answering:
    "close" closes the connection without a response, "reset" aborts it with a TCP RST, "hang" never answers
    (until the client gives up and disconnects).

    With ``chunks`` the body is sent with chunked encoding, one HTTP chunk per item, ``chunk_delay_s`` apart;
    ``cut_after=n`` closes the connection after n chunks without the terminating chunk; ``hold_open`` keeps
    the response open after the chunks until the client disconnects.
    """

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    chunks: Sequence[bytes] | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    cut_after: int | None = None
    hold_open: bool = False
    action: Action = "reply"

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        return cls(status=status, headers=[("content-type", "application/json"), *headers], body=_dumps(obj))

    @classmethod
    def raw(cls, body: bytes, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        return cls(status=status, headers=list(headers), body=body)

    @classmethod
    def sse(
        cls,
        events: Iterable[Mapping[str, Any] | str | bytes],
        *,
        done: bool = True,
        headers: Sequence[tuple[str, str]] = (),
        **kw: Any,
    ) -> Reply:
        chunks = [sse_chunk(e) for e in events]
        if done:
            chunks.append(b"data: [DONE]\n\n")
        return cls(headers=[("content-type", "text/event-stream"), *headers], chunks=chunks, **kw)

    @classmethod
    def misbehave(cls, action: Action, delay_s: float = 0.0) -> Reply:
        return cls(action=action, delay_s=delay_s)


def _dumps(obj: Any) -> bytes:
    return obj if isinstance(obj, bytes) else json.dumps(obj).encode()


@dataclass(frozen=True)
class Received:
    """One request as the server saw it. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class ScriptedServer:
    """The server; an async context manager. ``url`` is ``http://127.0.0.1:PORT`` (no trailing slash)."""

    requests: list[Received] = field(default_factory=list)
    connections: int = 0  # TCP connections accepted (keep-alive reuse keeps this low)
    disconnects: int = 0  # times a client hung up while the server held a response open or hung
    _replies: deque[Reply] = field(default_factory=deque)
    routes: dict[str, Reply] = field(default_factory=dict)  # path (with, else without, query) -> its fixed reply
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def queue(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    async def wait_disconnect(self, timeout_s: float = 2.0) -> None:
        """Return once a client hung up on a held-open or hanging response; TimeoutError otherwise."""
        async with asyncio.timeout(timeout_s):
            await self._disconnected.wait()

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # ---- one connection ----------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        abort = False
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_lines:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Received(method, path, headers, body))
                routed = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
                reply = routed or (self._replies.popleft() if self._replies else _UNSCRIPTED)
                keep, abort = await self._answer(reply, reader, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Only __aexit__ cancels handlers. Ending normally keeps asyncio's stream callback (3.11) from
            # logging "Exception in callback" for a cancelled connection task.
            return
        finally:
            self._tasks.discard(task)
            if abort:
                writer.transport.abort()
            else:
                writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _client_gone(self, reader: asyncio.StreamReader) -> None:
        """Wait until the client closes its side (the read returns EOF), and count it."""
        with contextlib.suppress(ConnectionError):
            while await reader.read(1024):
                pass
        self.disconnects += 1
        self._disconnected.set()

    async def _answer(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[bool, bool]:
        """Send ``reply``; return (keep the connection, abort it with RST)."""
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.action == "close":
            return False, False
        if reply.action == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False, True
        if reply.action == "hang":
            await self._client_gone(reader)
            return False, False
        headers = [(k.lower(), v) for k, v in reply.headers]
        if reply.chunks is None:
            headers.append(("content-length", str(len(reply.body))))
        else:
            headers.append(("transfer-encoding", "chunked"))
        try:
            phrase = http.HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        try:
            writer.write(head.encode("latin-1"))
            if reply.chunks is None:
                writer.write(reply.body)
                await writer.drain()
                return True, False
            await writer.drain()
            for i, chunk in enumerate(reply.chunks):
                if reply.cut_after is not None and i >= reply.cut_after:
                    return False, False
                if reply.chunk_delay_s and i:
                    await asyncio.sleep(reply.chunk_delay_s)
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            if reply.cut_after is not None:
                return False, False
            if reply.hold_open:
                await self._client_gone(reader)
                return False, False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True, False
        except ConnectionError:
            self.disconnects += 1
            self._disconnected.set()
            return False, False


_UNSCRIPTED = Reply.json({"error": {"code": 500, "message": "scripted server: no reply queued"}}, status=500)
