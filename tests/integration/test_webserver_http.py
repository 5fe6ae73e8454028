"""The HTTP server under the simulator and the gateway (``autodevai.webserver``), on raw sockets on 127.0.0.1:
strict parsing, malformed requests counted instead of logged one by one, header/body/keep-alive timeouts, the body
cap, the connection cap, and the open-files limit. The server here is the simulator's; the gateway's checks are in
``test_gateway_limits.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autodevai.sim import SimConfig, SimServer
from autodevai.webserver import Limits

BODY = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is 6*7?"}]})
CHAT = "POST /api/v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n"
IS_LINUX = sys.platform.startswith("linux")


async def exchange(port: int, data: bytes, *, wait_s: float = 3.0) -> bytes:
    """Send ``data`` on a new connection and return everything the server sends until it closes (or ``wait_s``
    passes: then b"<open>" is appended)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        got = bytearray()
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                piece = await asyncio.wait_for(reader.read(65536), left)
            except TimeoutError:
                break
            except ConnectionResetError:
                return bytes(got)
            if not piece:
                return bytes(got)
            got += piece
        return bytes(got) + b"<open>"
    finally:
        writer.close()
        await writer.wait_closed()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.") else 0


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records that carry a traceback (empty when none does)."""
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


STRICT = {
    "HTTP/1.9": b"GET /api/v1/models HTTP/1.9\r\nHost: sim\r\n\r\n",
    "Content-Length +5": (CHAT + "Content-Length: +5\r\n\r\nhello").encode(),
    "Content-Length 1_0": (CHAT + "Content-Length: 1_0\r\n\r\nhellohello").encode(),
    "TE with CL": (CHAT + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").encode(),
    "TE xchunkedx": (CHAT + "Transfer-Encoding: xchunkedx\r\n\r\n5\r\nhello\r\n0\r\n\r\n").encode(),
    "NUL in a header": b"GET /api/v1/models HTTP/1.1\r\nHost: sim\r\nX-Note: a\x00b\r\n\r\n",
    "chunk size -1": (CHAT + "Transfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n").encode(),
    "LF-only head": b"GET /api/v1/models HTTP/1.1\nHost: sim\n\n",
}


@pytest.mark.parametrize("case", list(STRICT))
async def test_each_smuggling_shape_is_a_prompt_400_without_a_traceback(
    sim: SimServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t0 = time.monotonic()
    response = await exchange(sim.port, STRICT[case])
    assert status_of(response) == 400 and not response.endswith(b"<open>"), response[:200]
    assert time.monotonic() - t0 < 2, "answered and closed at once, never left hanging"
    assert sim.stats.total == 0, "no request reached a handler"
    await sim.stop()  # flushes the summary line
    assert not no_tracebacks(caplog)


async def test_a_broken_chunk_after_the_head_fails_the_read_at_once(sim: SimServer) -> None:
    """The head arrives first and the handler starts reading the body; the broken chunk size comes later."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write((CHAT + "Transfer-Encoding: chunked\r\n\r\n").encode())
        await asyncio.sleep(0.1)
        writer.write(b"-1\r\nhello\r\n0\r\n\r\n")
        response = await asyncio.wait_for(reader.read(), 2)  # the body timeout is 30 s: this is not it
    finally:
        writer.close()
        await writer.wait_closed()
    assert status_of(response) == 400 and b"malformed" in response
    assert sim.stats.by_outcome == {"bad_request": 1}


async def test_a_flood_of_bad_requests_logs_one_summary(sim: SimServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    garbage = list(STRICT.values())

    async def flood(i: int) -> int:
        return status_of(await exchange(sim.port, garbage[i % len(garbage)]))

    for start in range(0, 400, 50):
        statuses = await asyncio.gather(*(flood(i) for i in range(start, start + 50)))
        assert set(statuses) == {400}
    await sim.stop()
    assert sim.http.counters.bad_requests == 400
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("autodevai", "aiohttp", "asyncio"))]
    assert len(lines) == 2, lines  # the first one, then one count at stop
    assert "answered 399 malformed HTTP requests with 400" in lines[1]
    assert not no_tracebacks(caplog)


async def test_slow_headers_are_closed_after_the_header_timeout() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(header_timeout=1.5))
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        t0 = time.monotonic()
        closed_after = None
        for byte in b"GET /api/v1/models HTTP/1.1\r\nHost: sim\r\n\r\n":  # one byte a second
            writer.write(bytes([byte]))
            try:
                if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                    closed_after = time.monotonic() - t0
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                closed_after = time.monotonic() - t0
                break
        writer.close()
        assert closed_after is not None and 1.4 < closed_after < 3.0, closed_after
        assert server.http.counters.header_timeouts == 1
        good = b"GET /api/v1/models HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"
        assert status_of(await exchange(server.port, good)) == 200
    finally:
        await server.stop()


async def test_idle_keepalive_and_silent_connections_are_closed() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(header_timeout=0.5, keepalive_timeout=1.0))
    await server.start()
    try:
        silent = await exchange(server.port, b"", wait_s=3)  # connects, says nothing
        assert silent == b""
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /api/v1/models HTTP/1.1\r\nHost: sim\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        await reader.readexactly(length)
        t0 = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.9 < time.monotonic() - t0 < 3.5, "kept alive past the header timeout, closed after the keep-alive one"
        writer.close()
    finally:
        await server.stop()


async def test_a_body_that_does_not_arrive_in_time_is_408() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(body_timeout=0.5))
    await server.start()
    try:
        response = await exchange(server.port, (CHAT + "Content-Length: 100\r\n\r\n{").encode())
    finally:
        await server.stop()
    assert status_of(response) == 408 and b"did not arrive within 0.5 seconds" in response
    assert server.http.counters.bodies_refused == 1


async def test_bodies_over_the_cap_are_413_declared_ones_before_a_byte_is_read() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(max_body=1000))
    await server.start()
    try:
        declared = await exchange(server.port, (CHAT + "Content-Length: 5000\r\n\r\n").encode())  # no body sent
        chunk = b"x" * 600
        chunked = (CHAT + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"%x\r\n%s\r\n" % (600, chunk) * 2
        streamed = await exchange(server.port, chunked + b"0\r\n\r\n")
    finally:
        await server.stop()
    assert status_of(declared) == 413 and b"larger than 1000 bytes" in declared
    assert status_of(streamed) == 413
    assert server.stats.by_outcome == {"bad_request": 2}


async def test_a_refused_body_is_answered_while_the_client_still_sends_and_never_read_whole(sim: SimServer) -> None:
    """No token and 60 MB announced: the 401 comes after the head, and the server closes after draining at most
    ``Limits.drain_bytes``: the client cannot push the 60 MB (what is in flight fits in the socket buffers)."""
    total = 60 * 1024 * 1024
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    sent = 0
    block = b"x" * 65536
    try:
        writer.write(f"POST /api/v1/chat/completions HTTP/1.1\r\nHost: s\r\nContent-Length: {total}\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        assert status_of(head) == 401 and b"Connection: close" in head
        with pytest.raises(ConnectionError):
            while sent < total:
                writer.write(block)
                await asyncio.wait_for(writer.drain(), 5)
                sent += len(block)
    finally:
        writer.close()
        with pytest.raises(ConnectionError):
            await writer.wait_closed()
    assert sent < 24 * 1024 * 1024, f"the server took {sent} bytes of a refused body"


@pytest.mark.skipif(not IS_LINUX, reason="reads the server's memory from /proc")
def test_twenty_refused_60_mb_bodies_cost_the_server_no_memory(tmp_path: Path) -> None:
    """What took the old server 930 MB: 20 clients at once, each announcing and sending 60 MB without a key."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0", "--key", "the-only-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().rsplit(":", 1)[1].split("/", 1)[0])
        peak_before = _peak_rss_mb(proc.pid)

        async def upload() -> int:
            total = 60 * 1024 * 1024
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            head = f"POST /api/v1/chat/completions HTTP/1.1\r\nHost: s\r\nContent-Length: {total}\r\n\r\n"
            writer.write(head.encode())
            block, sent = b"x" * 262144, 0
            try:
                while sent < total:
                    writer.write(block)
                    await asyncio.wait_for(writer.drain(), 5)
                    sent += len(block)
            except ConnectionError:
                pass
            writer.close()
            return sent

        sent = asyncio.run(_gather(upload, 20))
        grown = _peak_rss_mb(proc.pid) - peak_before
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert max(sent) < 24 * 1024 * 1024
    assert grown < 40, f"the server's peak memory grew {grown:.0f} MB"
    assert "Traceback" not in err


async def _gather(fn: object, n: int) -> list[int]:
    return list(await asyncio.gather(*(fn() for _ in range(n))))  # type: ignore[operator]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_at_the_cap_a_newcomer_replaces_the_longest_idle_connection() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(max_connections=20))
    await server.start()
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(30)]
    try:
        assert server.http.cap == 20
        response = await exchange(server.port, b"GET /api/v1/models HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")
        assert status_of(response) == 200
        closed = [await asyncio.wait_for(r.read(), 1) == b"" for r, _ in idle[:11]]
        assert all(closed), "the eleven longest idle were closed for the newcomers"
        assert server.http.counters.evicted == 11
    finally:
        for _, w in idle:
            w.close()
        await server.stop()


async def test_at_the_cap_with_every_connection_busy_a_newcomer_gets_503() -> None:
    server = SimServer(SimConfig(latency_scale=0), limits=Limits(max_connections=16))
    await server.start()
    hung = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(16)]
    try:
        for _, w in hung:  # each holds its connection busy: the simulator's timeout fault answers nothing
            w.write((CHAT + f"X-Sim-Fault: timeout\r\nContent-Length: {len(BODY)}\r\n\r\n{BODY}").encode())
        for _ in range(100):
            if server.stats.by_outcome.get("timeout") == 16:
                break
            await asyncio.sleep(0.01)
        response = await exchange(server.port, b"GET /api/v1/models HTTP/1.1\r\nHost: s\r\n\r\n")
        assert status_of(response) == 503 and b"retry-after: 1" in response
        assert server.http.counters.refused == 1
    finally:
        for _, w in hung:
            w.close()
        await server.stop()


@pytest.mark.skipif(not IS_LINUX, reason="reads the limit from /proc")
def test_the_open_files_soft_limit_is_raised_to_the_hard_limit_at_start() -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip(f"the hard limit here is {hard}: nothing to raise")
    code = (
        "import resource, runpy, sys; "
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
        "sys.argv = ['autodevai.sim', '--port', '0']; runpy.run_module('autodevai.sim', run_name='__main__')"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and "listening on" in proc.stdout.readline()
            limits = Path(f"/proc/{proc.pid}/limits").read_text()
        finally:
            proc.terminate()
    soft, hard_seen = next(line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files"))
    assert soft == hard_seen != "1024"
