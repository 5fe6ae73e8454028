"""The simulator's HTTP/1.1 layer on raw sockets: keep-alive, Connection: close, chunked bodies, bad input."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

import pytest

from autodevai.sim import SimConfig, SimServer

BODY = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is 6*7?"}]})


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0))
    await server.start()
    yield server
    await server.stop()


def chat_request(extra_headers: str = "", version: str = "HTTP/1.1") -> bytes:
    head = (
        f"POST /api/v1/chat/completions {version}\r\nHost: sim\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n{extra_headers}\r\n"
    )
    return (head + BODY).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    headers = dict(
        (k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:] if line)
    )
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def test_keep_alive_serves_many_requests_on_one_connection(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        for _ in range(3):
            writer.write(chat_request())
            status, _, body = await read_response(reader)
            assert status == 200 and "6 × 7 = " in json.loads(body)["choices"][0]["message"]["content"]
        writer.write(chat_request() + chat_request())  # pipelined: answered in order
        assert (await read_response(reader))[0] == 200 and (await read_response(reader))[0] == 200
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize(("extra", "version"), [("Connection: close\r\n", "HTTP/1.1"), ("", "HTTP/1.0")])
async def test_connection_close_and_http10_close_after_the_response(sim: SimServer, extra: str, version: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(chat_request(extra, version))
        status, headers, _ = await read_response(reader)
        assert status == 200 and headers["connection"] == "close"
        assert await asyncio.wait_for(reader.read(), 2) == b""
    finally:
        writer.close()
        await writer.wait_closed()


async def test_chunked_request_body_is_accepted(sim: SimServer) -> None:
    data = BODY.encode()
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, data[:10], len(data) - 10, data[10:])
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(head + chunked)
        status, _, body = await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200 and json.loads(body)["model"] == "openai/gpt-4o-mini"


@pytest.mark.parametrize(
    "garbage",
    [b"HELLO\r\n\r\n", b"GET / SPDY/3\r\n\r\n", b"POST /v1/models HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
     b"GET /v1/models HTTP/1.1\r\nno colon here\r\n\r\n"],
)  # fmt: skip
async def test_garbage_gets_400_and_the_server_keeps_serving(sim: SimServer, garbage: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(garbage)
        status, _, _ = await read_response(reader)
        assert status == 400 and await asyncio.wait_for(reader.read(), 2) == b""
    finally:
        writer.close()
        await writer.wait_closed()
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(b"GET /api/v1/models HTTP/1.1\r\nHost: sim\r\n\r\n")
        status, headers, body = await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200 and headers["content-type"] == "application/json" and len(json.loads(body)["data"]) >= 300


async def test_client_that_vanishes_mid_request_does_not_disturb_others(sim: SimServer) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(chat_request()[:40])  # half a head, then gone
    writer.close()
    await writer.wait_closed()
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(chat_request())
        assert (await read_response(reader))[0] == 200
    finally:
        writer.close()
        await writer.wait_closed()


async def test_stop_closes_idle_keepalive_connections_promptly() -> None:
    server = SimServer(SimConfig(latency_scale=0))
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(chat_request())
        assert (await read_response(reader))[0] == 200
        t0 = time.perf_counter()
        await server.stop()
        assert time.perf_counter() - t0 < 1.0
        assert await asyncio.wait_for(reader.read(), 2) == b""
    finally:
        writer.close()
        await writer.wait_closed()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.port)


async def test_concurrent_clients_all_get_their_own_answers(sim: SimServer) -> None:
    async def one(i: int) -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        body = json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": f"What is {i}+{i}?"}]})
        head = (
            "POST /api/v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            for _ in range(5):
                writer.write((head + body).encode())
                _, _, raw = await read_response(reader)
            return str(json.loads(raw)["choices"][0]["message"]["content"])
        finally:
            writer.close()
            await writer.wait_closed()

    replies = await asyncio.gather(*(one(i) for i in range(50)))
    assert all(re.match(rf"{i} \+ {i} = -?\d+\.", reply) for i, reply in enumerate(replies))
    assert sim.stats.total == 250


async def test_expect_100_continue_gets_an_interim_response(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        request = chat_request("Expect: 100-continue\r\n")
        head, body = request.split(b"\r\n\r\n", 1)
        writer.write(head + b"\r\n\r\n")
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        assert (await read_response(reader))[0] == 200
    finally:
        writer.close()
        await writer.wait_closed()
