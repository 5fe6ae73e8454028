"""``SimServer``: the OpenRouter-compatible simulator on one asyncio loop, and its routes.

Owns: the route table (served under ``/api/v1`` and ``/v1``): ``POST /chat/completions`` (in ``chat.py``),
``GET /models``, ``GET /key`` (also the older ``/auth/key``), ``GET /generation?id=``, and the admin routes
tests use: ``POST|GET|DELETE /_sim/faults`` and ``GET /_sim/stats``. The catalog JSON is serialized once per
server.

The admin routes change how the simulator behaves, so they want the admin token in ``X-Sim-Admin-Token``
(compared in constant time; 401 without it) and refuse any request that carries an ``Origin`` header (403): a web
page the developer happens to open can send a cross-origin ``text/plain`` POST to 127.0.0.1 without a preflight,
but it always names its origin, and it cannot add a custom header without a preflight we never answer.
``SimServer.add_fault``/``clear_faults``/``stats`` need neither.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from autodevai.sim.chat import handle_chat
from autodevai.sim.config import SimConfig
from autodevai.sim.faults import FaultRule
from autodevai.sim.state import SimState, SimStats, dump, error_json
from autodevai.webserver import HttpServer, Limits, Request, Responder

__all__ = ["SimServer"]

_PREFIXES = ("/api/v1", "/v1")
Route = Callable[[SimState, Request, Responder], Awaitable[None]]


async def _models(state: SimState, req: Request, resp: Responder) -> None:
    await resp.send(200, state.models_json)


async def _key(state: SimState, req: Request, resp: Responder) -> None:
    key = state.auth(req.headers)
    if key is None:
        await resp.send(401, error_json(401, "No auth credentials found"))
        return
    await resp.send(200, state.key_json(key))


async def _generation(state: SimState, req: Request, resp: Responder) -> None:
    if state.auth(req.headers) is None:
        await resp.send(401, error_json(401, "No auth credentials found"))
        return
    gen = state.generations.get(req.query.get("id", ""))
    if gen is None:
        await resp.send(404, error_json(404, f"Generation {req.query.get('id', '')!r} not found"))
        return
    await resp.send(200, gen.as_json())


def _rules_json(state: SimState) -> bytes:
    return dump({"rules": [r.model_dump(mode="json") for r in state.faults.rules()]})


async def _add_faults(state: SimState, req: Request, resp: Responder) -> None:
    try:
        body = json.loads(await req.read() or b"{}")
        raw = body.get("rules", []) if isinstance(body, dict) else body
        if not isinstance(raw, list):
            raise ValueError("'rules' must be a list")
        rules = [FaultRule.model_validate(r) for r in raw]
    except (ValueError, ValidationError) as exc:
        await resp.send(400, error_json(400, f"bad fault rules: {exc}"))
        return
    for rule in rules:
        state.faults.add(rule)
    await resp.send(200, _rules_json(state))


async def _list_faults(state: SimState, req: Request, resp: Responder) -> None:
    await resp.send(200, _rules_json(state))


async def _clear_faults(state: SimState, req: Request, resp: Responder) -> None:
    state.faults.clear()
    await resp.send(200, _rules_json(state))


async def _stats(state: SimState, req: Request, resp: Responder) -> None:
    await resp.send(200, dump(state.stats.as_dict()))


_ROUTES: dict[str, dict[str, Route]] = {
    "/chat/completions": {"POST": handle_chat},
    "/models": {"GET": _models},
    "/key": {"GET": _key},
    "/auth/key": {"GET": _key},
    "/generation": {"GET": _generation},
    "/_sim/faults": {"POST": _add_faults, "GET": _list_faults, "DELETE": _clear_faults},
    "/_sim/stats": {"GET": _stats},
}


class SimServer:
    """The simulator on the running event loop: ``await start()``, use ``base_url``, ``await stop()``.

    ``limits`` are the HTTP server's (connections, timeouts, body cap); the defaults suit every use."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        limits: Limits | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self._state = SimState(self.config, clock)
        self.admin_token = self.config.admin_token or secrets.token_urlsafe(24)
        self._admin_token = self.admin_token.encode()
        self._http = HttpServer(self._handle, name="autodevai-sim", limits=limits, error_body=error_json)
        self.host = "127.0.0.1"

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        """The OpenRouter-style base, e.g. ``http://127.0.0.1:PORT/api/v1``."""
        return f"http://{self.host}:{self.port}/api/v1"

    @property
    def http(self) -> HttpServer:
        """The HTTP server underneath (its ``counters`` and ``cap``)."""
        return self._http

    @property
    def stats(self) -> SimStats:
        """A snapshot of the counters (a copy: later requests do not change it)."""
        return self._state.stats.copy()

    @property
    def usage(self) -> dict[str, float]:
        """USD charged so far, per key."""
        return dict(self._state.usage)

    def add_fault(self, rule: FaultRule | dict[str, Any]) -> None:
        """Add a fault rule (``FaultRule`` or dict); raises pydantic ``ValidationError`` on bad input."""
        self._state.faults.add(rule if isinstance(rule, FaultRule) else FaultRule.model_validate(rule))

    def clear_faults(self) -> None:
        self._state.faults.clear()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 = a free port, see ``port``)."""
        self.host = host
        await self._http.start(host, port)

    async def stop(self) -> None:
        """Stop listening and close every open connection (hung ones included)."""
        await self._http.stop()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, req: Request, resp: Responder) -> None:
        path = req.path
        for prefix in _PREFIXES:
            if path.startswith(prefix + "/"):
                path = path[len(prefix) :]
                break
        path = path.rstrip("/") or "/"
        methods = _ROUTES.get(path)
        self._state.stats.route(path if methods is not None else "(unknown)")
        if methods is None:
            await resp.send(404, error_json(404, f"No route {req.method} {req.path}"))
            return
        if path.startswith("/_sim/") and not await self._admin_allowed(req, resp):
            return
        route = methods.get(req.method)
        if route is None:
            allow = ", ".join(methods)
            await resp.send(405, error_json(405, f"{req.method} not allowed; use {allow}"), [("allow", allow)])
            return
        await route(self._state, req, resp)

    async def _admin_allowed(self, req: Request, resp: Responder) -> bool:
        """True for a request that may use an admin route; otherwise answers 403 or 401 and returns False."""
        if "origin" in req.headers:
            await resp.send(403, error_json(403, "The simulator's admin routes refuse requests from web pages"))
            return False
        given = req.headers.get("x-sim-admin-token", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._admin_token):
            await resp.send(401, error_json(401, "The admin routes want the admin token in X-Sim-Admin-Token"))
            return False
        return True
