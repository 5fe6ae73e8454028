"""The gateway under pressure, on real sockets: 1,100 idle connections in a process limited to 1,024 open files do
not lock a good request out; auth, method and path are checked before the body is read, so a 60 MB body without a
token is answered while the client is still sending it and never read whole; an over-size body is a 413 in
OpenAI's error shape before a byte of it is read. (The same server's parsing and timeouts:
``test_webserver_http.py``.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from . import test_gateway
from .test_gateway import TOKEN, Start

start = test_gateway.start  # the gateway fixture, shared with test_gateway.py
openapi_conformance = test_gateway.openapi_conformance  # every response checked against OpenAI's spec
CHAT = {"model": "auto", "messages": [{"role": "user", "content": "What is 12*12?"}], "max_tokens": 16}
IDLE = 1100
SERVER_FILES = 1024

# The gateway exactly as `autodevai serve` runs it (over the built-in simulator), in a process whose open-files
# limit is 1,024, soft and hard: it cannot raise it, so it must fit 1,100 connections into fewer descriptors.
SERVE = f"""
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({SERVER_FILES}, {SERVER_FILES}))
sys.argv = ["autodevai", "serve", "--port", "0", "--json"]
runpy.run_module("autodevai", run_name="__main__")
"""


def _client_files(needed: int) -> None:
    """This (client) process opens the 1,100 connections: give it the descriptors, or skip."""
    try:
        import resource
    except ImportError:
        pytest.skip("no RLIMIT_NOFILE here")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is POSIX")
def test_1100_idle_connections_under_a_1024_file_limit_do_not_lock_out_a_good_request(tmp_path: Path) -> None:
    _client_files(IDLE + 300)
    env = {
        **os.environ,
        "AUTODEVAI_DATA_DIR": str(tmp_path / "data"),
        "AUTODEVAI_CONFIG_DIR": str(tmp_path / "config"),
        "AUTODEVAI_GATEWAY_TOKEN": TOKEN,
        "AUTODEVAI_SIM_LATENCY_SCALE": "0",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never the user's keyring
    }
    with subprocess.Popen(
        [sys.executable, "-c", SERVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            base_url = json.loads(proc.stdout.readline())["base_url"]
            status, answer, waited, closed = asyncio.run(_idle_then_good(base_url))
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=20)
    assert status == 200 and "144" in answer, answer
    assert waited < 5, f"the good request waited {waited:.1f} s"
    assert closed >= IDLE - SERVER_FILES, "the server did not keep more connections than it has descriptors for"
    assert "Traceback" not in err and len(err.splitlines()) < 20, err[-2000:]


async def _idle_then_good(base_url: str) -> tuple[int, str, float, int]:
    """Open ``IDLE`` connections that never send a byte, then make one good request on a new connection. Returns
    its status, its answer, how long it took, and how many idle connections the server had closed by then."""
    host, port = base_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(IDLE // 100):
            idle += await asyncio.gather(*(asyncio.open_connection(host, int(port)) for _ in range(100)))
        t0 = time.monotonic()
        async with httpx.AsyncClient(trust_env=False, timeout=20) as c:
            r = await c.post(f"{base_url}/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {TOKEN}"})
        waited = time.monotonic() - t0
        closed = 0
        for reader, _ in idle:
            try:
                closed += await asyncio.wait_for(reader.read(1), 0.01) == b""
            except TimeoutError:
                pass
            except ConnectionError:
                closed += 1
        return r.status_code, r.json()["choices"][0]["message"]["content"], waited, closed
    finally:
        for _, writer in idle:
            writer.close()


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("POST", "/v1/chat/completions", None, 401),
        ("POST", "/v1/chat/completions", "wrong-token-123", 401),
        ("POST", "/v1/models", TOKEN, 405),
        ("POST", "/v1/nowhere", TOKEN, 404),
    ],
)
async def test_a_refused_request_is_answered_before_its_60_mb_body_is_read(
    start: Start, method: str, path: str, token: str | None, status: int
) -> None:
    app, gateway = await start()
    total = 60 * 1024 * 1024
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    sent = 0
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: gw\r\n{auth}Content-Length: {total}\r\n\r\n".encode())
        writer.write(b"{" * 65536)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)  # while 60 MB are still to come
        assert head.startswith(b"HTTP/1.1 %d " % status) and b"Connection: close" in head
        with pytest.raises(ConnectionError):
            while sent < total:
                writer.write(b"x" * 65536)
                await asyncio.wait_for(writer.drain(), 5)
                sent += 65536
    finally:
        writer.close()
        with pytest.raises(ConnectionError):
            await writer.wait_closed()
    assert sent < 24 * 1024 * 1024, f"the gateway took {sent} bytes of a refused body"
    assert gateway.http.counters.bodies_refused == 0  # refused by the handler, not by the body cap
    assert await app.engine.get_request_history(5) == [], "nothing reached the engine"


async def test_an_oversize_body_is_413_in_openai_shape_before_it_is_read(start: Start) -> None:
    """17 MiB announced, 64 KiB sent: the answer comes at once (a server waiting for the rest would never answer)."""
    app, gateway = await start()
    declared = 17 * 1024 * 1024
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n".encode()
        )
        writer.write(b"{" * 65536)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        error = json.loads(await reader.readexactly(length))["error"]
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    assert error["type"] == "invalid_request_error" and error["code"] == "request_too_large"
    assert "16777216 bytes" in error["message"] and error["param"] is None
    assert gateway.http.counters.bodies_refused == 1
    assert await app.engine.get_request_history(5) == []
