"""The gateway's request handling: bearer-token check, the route table, and the two OpenAI endpoints over the
engine facade.

Routes (also served without the ``/v1`` prefix, for clients configured with a bare base URL):
  ``POST /v1/chat/completions``  one engine request, plain (``chat.completion``) or streamed (SSE chunks)
  ``GET  /v1/models``            the virtual routing models, then the catalog
  ``GET  /v1/models/{id}``       one model

Every request needs ``Authorization: Bearer <token>``, compared in constant time, checked with the method and
path before a byte of the body is read (the server reads it only when ``_chat`` asks). A stream's response head and
its first chunk (the role) go out when the engine's marker says which model starts answering, so everything that
fails before (a bad body, a missing capability, budget, routing, every fallback) still gets a proper HTTP
status; a failure after that arrives as a last chunk carrying an ``error`` object and OpenRouter's
``finish_reason: "error"`` (outside OpenAI's enum, deliberately: a client that ignores the ``error`` object must
not read the answer as complete), then ``[DONE]``. A client that disconnects cancels its engine request: the
server cancels the handler, wherever it waits (the engine records the request as ``Cancelled``).

Plain answers carry ``x-autodevai-request-id`` (also as ``x-request-id``), ``x-autodevai-cost-usd`` ("unknown"
when no price or reported cost exists, never a silent 0), ``x-autodevai-provider``, ``x-autodevai-simulated: 1``
for a simulated answer and ``x-autodevai-compression`` whenever the prompt was compressed ("6120->4010 tokens;
auto; quality 0.93"). A stream's head goes out before the engine knows them, so its last chunks carry them
instead, as ``"autodevai": {"request_id", "provider", "cost_usd", "simulated"?, "compression"?}``. Every chunk
names the routed model: delta
chunks the model the marker named, the last chunks the model the engine's response names.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from typing import TYPE_CHECKING

from autodevai.engine.errors import EngineError
from autodevai.engine.types import ChatRequest, EngineResponse
from autodevai.gateway import response
from autodevai.gateway.errors import ApiError, from_engine_error
from autodevai.gateway.request import VIRTUAL_MODELS, ParsedChat, parse_chat
from autodevai.webserver import Request, Responder

if TYPE_CHECKING:
    from autodevai.engine.orchestrator import Engine

__all__ = ["GatewayApp"]

log = logging.getLogger("autodevai.gateway")

_CHAT = "/chat/completions"
_MODELS = "/models"


class GatewayApp:
    """Answers HTTP requests for one engine; ``handle`` is the ``webserver.HttpServer`` handler."""

    def __init__(self, engine: Engine, token: str) -> None:
        self._engine = engine
        self._token = token.encode()
        self._created = int(time.time())  # the "created" of the virtual models
        self._models_cache: tuple[int, bytes] | None = None  # (catalog version, the /v1/models body)

    # ---- routing ------------------------------------------------------------------------------------------

    async def handle(self, req: Request, resp: Responder) -> None:
        if not self._authorized(req.headers.get("authorization")):
            await _send_error(resp, _unauthorized(req.headers.get("authorization")))
            return
        path = req.path.rstrip("/")
        if path.startswith("/v1/") or path == "/v1":
            path = path[3:]
        if path == _CHAT:
            if req.method != "POST":
                await _send_error(resp, _not_allowed(req, "POST"))
                return
            await self._chat(req, resp)
        elif path == _MODELS:
            if req.method != "GET":
                await _send_error(resp, _not_allowed(req, "GET"))
                return
            await self._models(resp)
        elif path.startswith(_MODELS + "/") and req.method == "GET":
            await self._model(resp, path[len(_MODELS) + 1 :])
        else:
            await _send_error(
                resp,
                ApiError(
                    404,
                    f"Unknown request URL: {req.method} {req.path}. The AutoDevAI gateway serves "
                    "POST /v1/chat/completions and GET /v1/models.",
                    "invalid_request_error",
                    "unknown_url",
                ),
            )

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        # Constant time whatever the guess (hmac.compare_digest), so the token cannot be found byte by byte.
        given = value.strip().encode("utf-8", "surrogateescape")  # header bytes that are not UTF-8 stay bytes
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self._token)

    # ---- /v1/models ---------------------------------------------------------------------------------------

    async def _models(self, resp: Responder) -> None:
        version = self._engine.catalog_version
        cached = self._models_cache
        if cached is None or cached[0] != version:
            cached = (version, response.models_json(self._engine.models(), self._created))
            self._models_cache = cached
        await resp.send(200, cached[1])

    async def _model(self, resp: Responder, model_id: str) -> None:
        if model_id in VIRTUAL_MODELS:
            await resp.send(200, response.model_json(model_id, "autodevai", self._created))
            return
        info = self._engine.find_model(model_id)
        if info is None:
            await _send_error(resp, self._unknown_model(model_id))
            return
        await resp.send(200, response.model_json(info.id, info.vendor or info.provider, info.created or 0))

    def _unknown_model(self, model_id: str) -> ApiError:
        close = self._engine.suggest_models(model_id, 3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        return ApiError(
            404,
            f"The model {model_id!r} is not in AutoDevAI's catalog{hint}. GET /v1/models lists the ids; "
            "'auto' and 'autodevai/cheapest|best|fastest|balanced' let AutoDevAI choose.",
            "invalid_request_error",
            "model_not_found",
            "model",
        )

    # ---- /v1/chat/completions -----------------------------------------------------------------------------

    async def _chat(self, req: Request, resp: Responder) -> None:
        # Only now is the body read: auth, method and path were checked (a refused body is never read).
        parsed = parse_chat(await req.read(), self._engine.settings.routing.default_preference)
        if isinstance(parsed, ApiError):
            await _send_error(resp, parsed)
            return
        request = parsed.request
        if request.model is not None and self._engine.find_model(request.model) is None:
            await _send_error(resp, self._unknown_model(request.model))
            return
        if parsed.stream:
            await self._stream(parsed, resp)
        else:
            await self._complete(request, resp)

    async def _complete(self, request: ChatRequest, resp: Responder) -> None:
        try:
            result = await self._engine.execute_enhanced_ai_request(request)
        except EngineError as exc:
            await _send_error(resp, self._engine_error(exc))
            return
        await resp.send(200, response.completion_json(result, int(time.time())), _result_headers(result))

    async def _stream(self, parsed: ParsedChat, resp: Responder) -> None:
        writer = response.ChunkWriter("chatcmpl-" + os.urandom(12).hex(), int(time.time()), parsed.model)
        stream = self._engine.stream_enhanced_ai_request(parsed.request)
        try:
            try:
                # The first item is the marker naming the model that starts answering (or, for an upstream that
                # streamed nothing, the final response): everything that fails before it gets a real status.
                item = await anext(stream)
            except EngineError as exc:
                await _send_error(resp, self._engine_error(exc))
                return
            await resp.start_stream(200, [("x-accel-buffering", "no")])
            try:
                while not isinstance(item, EngineResponse):
                    chunks = writer.feed(item)
                    if chunks:
                        await resp.send_chunks(chunks)
                    item = await anext(stream)
            except EngineError as exc:
                await resp.send_chunks(writer.error(self._engine_error(exc).error_object()))
                await resp.end_stream()
                return
            await resp.send_chunks(writer.finish(item, include_usage=parsed.include_usage))
            await resp.end_stream()
        finally:
            await stream.aclose()  # a no-op after the final response; a cancel when the client left mid-stream

    def _engine_error(self, exc: EngineError) -> ApiError:
        err = from_engine_error(exc, now=self._engine.now())
        log.info("gateway request failed: %s %s", err.status, type(exc).__name__)
        return err


def _result_headers(result: EngineResponse) -> list[tuple[str, str]]:
    cost = "unknown" if result.cost_source == "unknown" else f"{result.cost_usd:.10f}"
    headers = [
        ("x-autodevai-request-id", result.request_id),
        ("x-request-id", result.request_id),
        ("x-autodevai-cost-usd", cost),
        ("x-autodevai-provider", result.provider),
    ]
    if result.simulated:
        headers.append(("x-autodevai-simulated", "1"))
    if result.compression is not None:  # any compression of the prompt is announced
        headers.append(("x-autodevai-compression", response.compression_note(result)))
    return headers


async def _send_error(resp: Responder, err: ApiError) -> None:
    await resp.send(err.status, err.body(), err.all_headers())


def _unauthorized(header: str | None) -> ApiError:
    if not header:
        message = (
            "You didn't provide an API key. Send the AutoDevAI gateway token as `Authorization: Bearer <token>` "
            "(`autodevai gateway token` prints it)."
        )
        code = None
    else:
        # Never echo what was sent: it may be a real key meant for another service.
        message = "Incorrect API key provided. Use the AutoDevAI gateway token (`autodevai gateway token` prints it)."
        code = "invalid_api_key"
    return ApiError(401, message, "invalid_request_error", code, headers=(("www-authenticate", "Bearer"),))


def _not_allowed(req: Request, allowed: str) -> ApiError:
    return ApiError(
        405,
        f"{req.method} is not allowed on {req.path}; use {allowed}",
        "invalid_request_error",
        "method_not_allowed",
        headers=(("allow", allowed),),
    )
