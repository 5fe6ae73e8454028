"""``OpenAICompatProvider``: one OpenAI-compatible server (OpenAI, Ollama, LM Studio, llama.cpp, vLLM, ...).

Implements the engine's ``Provider`` port over the shared ``httpx.AsyncClient`` (see ``http.py``). It sends
OpenAI's chat body only; OpenRouter's extras live in ``openrouter.py``. Every failure leaves here as a
``ProviderError`` subclass built by ``error_map`` and raised ``from`` the original exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from autodevai.engine.errors import (
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    StreamInterrupted,
    redact,
    register_secret,
)
from autodevai.engine.messages import media_chars
from autodevai.engine.types import Completion, ModelInfo, ProviderCall, StreamEvent
from autodevai.providers import error_map, models_wire, server_info, wire
from autodevai.providers.streaming import StreamState

__all__ = ["LIST_TIMEOUT_S", "OpenAICompatProvider"]

log = logging.getLogger("autodevai.providers")

LIST_TIMEOUT_S = 30.0  # budget for GET /models and GET /key (OpenRouter's catalog is ~1 MB)

_DRAIN_S = 0.5  # at most this long to read the end of a stream's body after [DONE]
_THREAD_BODY_CHARS = 1 << 20  # bodies with more media data than this are encoded off the event loop
_MAX_PAGES = 50  # a paginated model list longer than this is cut (with a warning), not followed forever
_PROBE_TIMEOUT_S = 5.0  # a server's own model-info endpoints: local servers answer at once or not at all
# Exceptions that can escape httpx (or our asyncio deadline) while a request is on the wire.
_TRANSPORT_ERRORS = (httpx.HTTPError, TimeoutError)


class OpenAICompatProvider:
    """A ``Provider`` for any server that speaks OpenAI's ``/chat/completions`` and ``/models``.

    ``models``, when given, restricts ``list_models`` to these ids (ids the server does not list are still
    offered, with default metadata: the user configured them on purpose). The shared ``client`` is never
    closed here.
    """

    kind: ClassVar[str] = "openai"

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient,
        *,
        models: Sequence[str] = (),
    ) -> None:
        if api_key:
            register_secret(api_key)  # before anything can fail and echo it
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.models: tuple[str, ...] = tuple(models)
        self._client = client
        self._api_key = api_key or None
        try:
            self._chat_url = httpx.URL(self.base_url + "/chat/completions")
        except httpx.InvalidURL as exc:
            raise ValueError(f"{name}: invalid base URL {redact(base_url)!r}") from exc
        self._headers: dict[str, str] = self._default_headers()
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    # ---- hooks for subclasses ------------------------------------------------

    def _default_headers(self) -> dict[str, str]:
        """Headers of every request (merged over the client's). Subclasses add their own."""
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        return headers

    def _body(self, call: ProviderCall, *, stream: bool) -> dict[str, Any]:
        """The request body; OpenAI's fields only. ``OpenRouterProvider`` adds its routing fields."""
        return wire.chat_body(call, stream=stream, openrouter=False)

    # ---- helpers ------------------------------------------------

    def _headers_for(self, call: ProviderCall) -> dict[str, str]:
        if not call.extra_headers:
            return self._headers
        headers = dict(self._headers)
        for key, value in call.extra_headers:
            if key.lower() != "authorization":  # the key is ours to send; a caller's header never replaces it
                headers[key] = value
        return headers

    def _check_open(self, model: str | None) -> None:
        if self._closed:
            raise ProviderUnavailable(f"{self.name} was closed", provider=self.name, model=model)

    def _transport_error(self, model: str | None, exc: BaseException, timeout_s: float) -> ProviderError:
        return error_map.error_for_exception(self.name, model, exc, timeout_s)

    def _status_error(self, model: str | None, response: httpx.Response) -> ProviderError:
        return error_map.error_for_status(
            self.name, model, response.status_code, response.headers, response.content, now=time.time()
        )

    def _malformed(self, model: str | None, exc: Exception) -> MalformedResponse:
        return MalformedResponse(
            f"{self.name} sent a malformed response for {model or 'a request'}: {exc}",
            provider=self.name,
            model=model,
            status=200,
        )

    def _parse_completion(self, call: ProviderCall, response: httpx.Response) -> Completion:
        try:
            return wire.with_headers(
                wire.parse_completion(
                    json.loads(response.content),
                    provider=self.name,
                    requested_model=call.model,
                    generation_header=response.headers.get("x-generation-id"),
                ),
                response.headers,
            )
        except wire.EmbeddedError as exc:
            raise error_map.error_for_payload(self.name, call.model, exc.error) from exc
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, WireError, nesting
            raise self._malformed(call.model, wire.readable(exc)) from exc

    async def _encode(self, call: ProviderCall, *, stream: bool) -> bytes:
        """The JSON body; one carrying megabytes of images or files is encoded in a worker thread (a 20 MB image
        takes ~100 ms to encode, which would stall the event loop and the GUI on it)."""
        if media_chars(call.messages) < _THREAD_BODY_CHARS:
            return wire.dumps(self._body(call, stream=stream))
        return await asyncio.to_thread(lambda: wire.dumps(self._body(call, stream=stream)))

    async def _get_json(self, path: str, timeout_s: float, *, url: str | None = None, body: Any = None) -> Any:
        """GET ``base_url + path`` (or ``url``; POST ``body`` when given) and return the parsed JSON body; errors
        mapped like chat's."""
        self._check_open(None)
        target = url or self.base_url + path
        try:
            async with asyncio.timeout(timeout_s):
                if body is None:
                    response = await self._client.get(target, headers=self._headers)
                else:
                    response = await self._client.post(target, content=wire.dumps(body), headers=self._headers)
        except _TRANSPORT_ERRORS as exc:
            raise self._transport_error(None, exc, timeout_s) from exc
        if response.status_code != 200:
            raise self._status_error(None, response)
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise self._malformed(None, wire.readable(exc)) from exc

    # ---- the Provider port ------------------------------------------------

    async def chat(self, call: ProviderCall, *, timeout_s: float) -> Completion:
        """One non-streaming completion within ``timeout_s`` seconds overall; raises ``ProviderError``s."""
        self._check_open(call.model)
        content = await self._encode(call, stream=False)
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._client.post(self._chat_url, content=content, headers=self._headers_for(call))
        except _TRANSPORT_ERRORS as exc:
            raise self._transport_error(call.model, exc, timeout_s) from exc
        if response.status_code != 200:
            raise self._status_error(call.model, response)
        return self._parse_completion(call, response)

    async def stream(self, call: ProviderCall, *, timeout_s: float) -> AsyncGenerator[StreamEvent, None]:
        """Yield ``StreamEvent(delta=...)`` per content delta, then one ``StreamEvent(completion=...)``.

        The whole stream must finish within ``timeout_s``. Closing the generator (``aclose()``, leaving an
        ``async with contextlib.aclosing(...)`` block, or cancelling the consuming task) closes the HTTP
        response at once, which drops the connection so the server stops generating. A stream that breaks
        after it began raises ``StreamInterrupted`` carrying the text received so far in ``partial``.
        """
        self._check_open(call.model)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        started = time.perf_counter()
        request = self._client.build_request(
            "POST", self._chat_url, content=await self._encode(call, stream=True), headers=self._headers_for(call)
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except _TRANSPORT_ERRORS as exc:
            raise self._transport_error(call.model, exc, timeout_s) from exc
        chunks = response.aiter_bytes()
        events: AsyncGenerator[StreamEvent, None] | None = None
        try:
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
                "text/event-stream"
            ):
                # An error status, or a server that ignored stream=true and sent one JSON answer.
                try:
                    async with asyncio.timeout_at(deadline):
                        await response.aread()
                except _TRANSPORT_ERRORS as exc:
                    raise self._transport_error(call.model, exc, timeout_s) from exc
                if response.status_code != 200:
                    raise self._status_error(call.model, response)
                completion = self._parse_completion(call, response)
                if completion.content or completion.reasoning or completion.refusal:
                    yield StreamEvent(
                        delta=completion.content,
                        reasoning=completion.reasoning or "",
                        refusal=completion.refusal or "",
                        model=completion.model,
                    )
                yield StreamEvent(completion=completion)
                return
            events = self._events(call, response, chunks, deadline, started, timeout_s)
            async for event in events:
                yield event
        finally:
            # Close inner generators explicitly rather than leaving them to the garbage collector's hook.
            if events is not None:
                await events.aclose()
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()
            await response.aclose()

    async def _events(
        self,
        call: ProviderCall,
        response: httpx.Response,
        chunks: AsyncIterator[bytes],
        deadline: float,
        started: float,
        timeout_s: float,
    ) -> AsyncGenerator[StreamEvent, None]:
        state = StreamState()
        ttft: float | None = None
        pending = b""
        while not state.done:
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise self._transport_error(call.model, exc, timeout_s) from exc
            except httpx.HTTPError as exc:  # connection cut mid-body
                raise self._interrupted(call.model, state, f"connection lost ({type(exc).__name__})") from exc
            lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
            pending = lines.pop()
            for line in lines:
                event = self._feed(call, state, line.rstrip(b"\r"))
                if state.done:
                    break
                if event is not None:
                    if ttft is None:
                        ttft = time.perf_counter() - started
                        event = _named(event, state.model)
                    yield event
        if not state.done and pending.strip():  # the body ended without a newline after its last line
            event = self._feed(call, state, pending.strip())
            if event is not None:
                if ttft is None:
                    ttft = time.perf_counter() - started
                    event = _named(event, state.model)
                yield event
        if not state.finished:
            raise self._interrupted(call.model, state, "the stream ended before its final chunk")
        completion = state.completion(
            provider=self.name,
            requested_model=call.model,
            generation_header=response.headers.get("x-generation-id"),
            ttft_s=ttft,
        )
        yield StreamEvent(completion=wire.with_headers(completion, response.headers))
        if state.done:
            await _drain(chunks, deadline)

    def _feed(self, call: ProviderCall, state: StreamState, line: bytes) -> StreamEvent | None:
        try:
            return state.feed(line)
        except wire.EmbeddedError as exc:
            raise self._interrupted(call.model, state, _error_text(exc.error), exc.error) from exc
        except (ValueError, RecursionError) as exc:
            raise self._malformed(call.model, wire.readable(exc)) from exc

    def _interrupted(
        self, model: str, state: StreamState, why: str, error: Mapping[str, Any] | None = None
    ) -> StreamInterrupted:
        code = error.get("code") if error else None
        status = code if isinstance(code, int) else None
        got = len(state.text)
        return StreamInterrupted(
            f"{self.name} stream for {state.model or model} broke after {got} characters: {why}",
            partial=state.text,
            provider=self.name,
            model=state.model or model,
            status=status,
        )

    async def list_models(self) -> list[ModelInfo]:
        """The server's models (``GET /models``, every page of a paginated list), restricted to ``models`` when
        configured; windows, prices and capabilities the list leaves out are asked of the server's own endpoints
        (``server_info``).

        A server without ``/models`` (404) still yields the configured ids, with default metadata.
        """
        try:
            listed = await self._listed_models()
        except ProviderError as exc:
            if self.models and exc.status == 404:
                return await self._enrich([_unlisted(self.name, m) for m in self.models])
            raise
        if self.models:
            wanted = set(self.models)
            kept = [m for m in listed if m.id in wanted]
            seen = {m.id for m in kept}
            listed = kept + [_unlisted(self.name, m) for m in self.models if m not in seen]
        return await self._enrich(listed)

    async def _listed_models(self) -> list[ModelInfo]:
        data = await self._get_json("/models", LIST_TIMEOUT_S)
        seen_pages = {self.base_url + "/models"}
        listed: list[ModelInfo] = []
        while True:
            try:
                listed += models_wire.parse_models(data, self.name)
            except (ValueError, RecursionError) as exc:
                raise self._malformed(None, wire.readable(exc)) from exc
            following = models_wire.next_page(data)
            if following is None:
                return listed
            url = str(httpx.URL(self.base_url + "/").join(following))
            if url in seen_pages or len(seen_pages) >= _MAX_PAGES:
                log.warning("%s: stopped following the model list's pages at %s", self.name, redact(url))
                return listed
            seen_pages.add(url)
            data = await self._get_json("", LIST_TIMEOUT_S, url=url)

    async def _enrich(self, models: list[ModelInfo]) -> list[ModelInfo]:
        """Ask LiteLLM's, LM Studio's or Ollama's own endpoints about models whose window or price is unknown.
        Servers without them answer 404 (or not at all); that only leaves the models as they were."""
        unknown = {m.id: m for m in models if not m.context_known or not m.price_known}
        if not unknown:
            return models
        root = server_info.server_root(self.base_url)
        probes: tuple[tuple[str, Callable[[Any, dict[str, ModelInfo]], server_info.Updates]], ...] = (
            (self.base_url + "/model/info", server_info.litellm_updates),
            (root + "/api/v0/models", server_info.lmstudio_updates),
        )
        for url, parse in probes:
            try:
                updates = parse(await self._get_json("", _PROBE_TIMEOUT_S, url=url), unknown)
            except ProviderError:
                continue
            if updates:
                return server_info.apply(models, updates)
        return await self._enrich_ollama(models, unknown, root)

    async def _enrich_ollama(
        self, models: list[ModelInfo], unknown: dict[str, ModelInfo], root: str
    ) -> list[ModelInfo]:
        try:
            await self._get_json("", _PROBE_TIMEOUT_S, url=root + "/api/version")
        except ProviderError:
            return models
        limit = asyncio.Semaphore(4)

        async def show(model: ModelInfo) -> tuple[str, dict[str, Any]]:
            async with limit:
                try:
                    data = await self._get_json("", _PROBE_TIMEOUT_S, url=root + "/api/show", body={"model": model.id})
                except ProviderError:
                    return model.id, {}
            return model.id, server_info.ollama_update(data, model)

        updates = dict(await asyncio.gather(*(show(m) for m in unknown.values() if not m.context_known)))
        return server_info.apply(models, updates)

    async def key_info(self) -> Mapping[str, Any] | None:
        """Plain OpenAI-compatible servers have no key endpoint."""
        return None

    async def aclose(self) -> None:
        """Refuse further calls. The shared client belongs to whoever made it (compose.py) and stays open."""
        self._closed = True


async def _drain(chunks: AsyncIterator[bytes], deadline: float) -> None:
    """Read what follows ``[DONE]`` (the chunked body's terminator) so the connection goes back to the pool.

    httpcore only reuses a connection whose response was read to its end; closing it early means the next call
    pays a new TCP/TLS handshake. Bounded: a server that keeps the body open after [DONE] just gets closed.
    """
    limit = min(deadline, asyncio.get_running_loop().time() + _DRAIN_S)
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout_at(limit):
            async for _ in chunks:
                pass


def _named(event: StreamEvent, model: str | None) -> StreamEvent:
    """The first event of a stream, naming the model the upstream says is answering."""
    if not model:
        return event
    return StreamEvent(
        delta=event.delta,
        reasoning=event.reasoning,
        reasoning_details=event.reasoning_details,
        tool_calls=event.tool_calls,
        refusal=event.refusal,
        model=model,
    )


def _unlisted(provider: str, model_id: str) -> ModelInfo:
    """A model the user configured that the server's list does not describe: window and price unknown."""
    return ModelInfo(
        id=model_id, provider=provider, name=model_id, vendor=_vendor(model_id), context_known=False,
        price_known=False, modalities_known=False,
    )  # fmt: skip


def _vendor(model_id: str) -> str:
    return model_id.split("/", 1)[0] if "/" in model_id else ""


def _error_text(error: Mapping[str, Any]) -> str:
    message = error.get("message")
    code = error.get("code")
    text = message if isinstance(message, str) and message else "error chunk"
    return f"{text} (code {code})" if code is not None else text
