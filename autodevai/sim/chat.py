"""``POST /chat/completions`` for the simulator: checks, fallback over ``models``, faults, answers, streaming.

The order follows OpenRouter: auth (401), request shape and model ids (400, "... is not a valid model ID"),
optional fields (400, ``options``), context window (400), what the models can serve (404 "No endpoints found
that support ...", ``capabilities``: the first model of a ``models`` list that can serve it answers), ``:free``
limit (429, 20/min per key), credits (402, ``metadata.limit_source``), then the model runs (``reply`` shapes
tools, JSON, reasoning, logprobs, media), or a fault shapes what the client sees. A 5xx fault rule on a model of
a ``models`` list makes the next model answer, and the response's ``model`` names it (OpenRouter's fallback
behavior). Streams are SSE over chunked encoding: a ``: OPENROUTER PROCESSING`` comment first (and while
waiting), ``data: {json}`` deltas, a last chunk with ``usage`` and ``finish_reason``, then ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from autodevai.sim.answers import answer, prompt_tokens, split_pieces
from autodevai.sim.capabilities import refusal, serves
from autodevai.sim.catalog import SimModel
from autodevai.sim.faults import FaultKind, FaultRule, parse_fault_spec
from autodevai.sim.options import ChatOptions, has_options, parse_options
from autodevai.sim.reply import Reply, compose, plain
from autodevai.sim.state import Generation, SimState, ceil_seconds, dump, error_json, retry_after_value
from autodevai.webserver import BodyRefused, ClientGone, Request, Responder

__all__ = ["handle_chat"]

KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
SIMULATED = ("x-autodevai-simulated", "1")  # every answer says it is simulated (clients show it)
DONE = b"data: [DONE]\n\n"
_CHUNK_TAIL = b'},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}\n\n'
_MESSAGES = {
    400: "Bad request (simulated fault)",
    401: "User not found.",
    402: "Insufficient credits. Add more using https://openrouter.ai/credits",
    403: "Your chosen model requires moderation and your input was flagged (simulated)",
    408: "Request timed out (simulated)",
    429: "Rate limit exceeded (simulated)",
    500: "Internal Server Error (simulated)",
    502: "Upstream provider returned an error (simulated)",
    503: "No available provider meets your routing requirements (simulated)",
}


@dataclass(slots=True)
class _Call:
    key: str
    messages: list[Any]
    candidates: list[str]
    max_tokens: int | None
    stream: bool
    prompt_tokens: int
    options: ChatOptions | None  # None: a plain text request (the fast path)
    skipped: bool = False  # the first model could not serve the request; a later one of ``models`` answers


def _parse(state: SimState, req: Request, key: str) -> _Call | str:
    """The request (its body already read) as a ``_Call``, or the 400 message that explains what is wrong with it."""
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        return "Invalid JSON body"
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return "'messages' must be a non-empty list of message objects"
    ids: list[str] = []
    if isinstance(body.get("model"), str) and body["model"]:
        ids.append(body["model"])
    if isinstance(body.get("models"), list):
        ids += [m for m in body["models"] if isinstance(m, str) and m]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return "No model given: set 'model' (or a 'models' fallback list)"
    valid = [m for m in ids if m in state.models]
    if not valid:
        return f"{ids[0]} is not a valid model ID"
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        return "'max_tokens' must be a positive integer"
    options = parse_options(body, messages) if has_options(body, messages) else None
    if isinstance(options, str):
        return options
    first = state.models[valid[0]]
    asked = prompt_tokens(messages) + (options.extra_prompt_tokens if options is not None else 0)
    if asked + (max_tokens or 0) > first.context_length:
        return (
            f"This endpoint's maximum context length is {first.context_length} tokens. "
            f"However, you requested about {asked + (max_tokens or 0)} tokens "
            f"({asked} of text input, {max_tokens or 0} in the output). "
            "Please reduce the length of either one, "
            'or use the "middle-out" transform to compress your prompt.'
        )
    return _Call(key, messages, valid, max_tokens, body.get("stream") is True, asked, options)


async def handle_chat(state: SimState, req: Request, resp: Responder) -> None:
    """Answer one chat completion request; every request ends in exactly one ``stats.by_outcome`` entry."""
    stats = state.stats
    key = state.auth(req.headers)
    if key is None:
        stats.outcome("unauthorized")
        msg = "User not found." if "authorization" in req.headers else "No auth credentials found"
        await resp.send(401, error_json(401, msg))
        return
    try:
        await req.read()  # only now: an unauthenticated body is never read
    except BodyRefused:
        stats.outcome("bad_request")
        raise
    call = _parse(state, req, key)
    header_fault: FaultRule | None = None
    if isinstance(call, _Call) and (spec := req.headers.get("x-sim-fault")):
        try:
            header_fault = parse_fault_spec(spec)
        except ValueError as exc:
            call = str(exc)
    if isinstance(call, str):
        stats.outcome("bad_request")
        await resp.send(400, error_json(400, call))
        return
    if call.options is not None and call.options.needs:
        needs = call.options.needs
        capable = [mid for mid in call.candidates if serves(state.models[mid], needs)]
        if not capable:
            stats.outcome("unsupported")
            message = refusal(state.models[call.candidates[0]], needs, call.options.modalities)
            await resp.send(404, error_json(404, message or "No endpoints found for this request"))
            return
        call.skipped = capable[0] != call.candidates[0]
        call.candidates = capable
    first = state.models[call.candidates[0]]
    if first.free and (wait := state.free_wait(key)) > 0:
        stats.outcome("rate_limited")
        headers = _ratelimit_headers(state.config.free_rpm, wait)
        msg = "Rate limit exceeded: free-models-per-min. "
        await resp.send(429, error_json(429, msg, {"headers": dict(headers)}), headers=headers)
        return
    left = state.credits_left(key)
    if not first.free and left is not None and left <= 0:
        stats.outcome("payment_required")
        meta = {"limit_source": "openrouter_key_limit", "limit": state.config.credit_limit}
        msg = f"Insufficient credits: this key's limit of ${state.config.credit_limit:g} is used up."
        await resp.send(402, error_json(402, msg, meta))
        return
    model, fault = _choose(state, call, header_fault)
    stats.model(model.id)
    await _respond(state, call, model, fault, resp)


def _choose(state: SimState, call: _Call, header_fault: FaultRule | None) -> tuple[SimModel, FaultRule | None]:
    """The model that answers and the fault that shapes its answer, falling back past 5xx fault rules."""
    if header_fault is not None:  # applies to this request only: no fault counting, no fallback past it
        first = call.candidates[0]
        state.stats.fallbacks += call.skipped  # a model that could not serve the request was passed over
        return state.models[first], header_fault if header_fault.matches(first) else None
    for i, mid in enumerate(call.candidates):
        fault = state.faults.pick(mid)
        retry_next = fault is not None and fault.kind is FaultKind.HTTP_ERROR and fault.http_status >= 500
        if retry_next and i + 1 < len(call.candidates):
            state.stats.model(mid)
            continue
        if i or call.skipped:
            state.stats.fallbacks += 1
        return state.models[mid], fault
    raise AssertionError("unreachable: the loop returns on the last candidate")


def _ratelimit_headers(limit: int, wait: float) -> list[tuple[str, str]]:
    reset_ms = int((time.time() + wait) * 1000)
    return [
        ("retry-after", str(ceil_seconds(wait))),
        ("x-ratelimit-limit", str(limit)),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", str(reset_ms)),
    ]


async def _error_fault(state: SimState, model: SimModel, fault: FaultRule, resp: Responder) -> None:
    status = fault.http_status
    headers: list[tuple[str, str]] = []
    meta: dict[str, Any] = {"provider_name": model.provider_name, "simulated": True}
    if fault.kind is FaultKind.RATE_LIMIT:
        headers = _ratelimit_headers(200, fault.retry_after if fault.retry_after is not None else 1.0)
        if fault.retry_after is not None:
            headers[0] = ("retry-after", retry_after_value(fault.retry_after))
        meta["headers"] = dict(headers)
    elif fault.retry_after is not None:
        headers.append(("retry-after", retry_after_value(fault.retry_after)))
    if status == 402:
        meta["limit_source"] = "openrouter_credits"
    elif status == 403:
        meta.update(reasons=["simulated"], flagged_input="...", model_slug=model.id)
    elif status == 502:
        meta["raw"] = "upstream connection error (simulated)"
    message = _MESSAGES.get(status, f"Simulated error {status}")
    await resp.send(status, error_json(status, message, meta), headers=headers)


async def _respond(state: SimState, call: _Call, model: SimModel, fault: FaultRule | None, resp: Responder) -> None:
    stats = state.stats
    kind = fault.kind if fault is not None else None
    if fault is not None and kind in (FaultKind.HTTP_ERROR, FaultKind.RATE_LIMIT):
        stats.outcome(kind.value)
        await _error_fault(state, model, fault, resp)
        return
    if kind is FaultKind.RESET:
        stats.outcome(kind.value)
        resp.abort()
        return
    if fault is not None and kind is FaultKind.TIMEOUT:
        stats.outcome(kind.value)
        await resp.hang(fault.delay)
        return
    if fault is not None and kind is FaultKind.SLOW_FIRST_BYTE:
        await asyncio.sleep(fault.delay)
    t0 = state.clock()
    max_tokens = call.max_tokens
    if model.max_output is not None:
        max_tokens = min(max_tokens or model.max_output, model.max_output)
    options = call.options
    seed = state.config.seed
    if options is not None and options.seed is not None:  # a request's seed picks another deterministic answer
        seed = seed * 1_000_003 + options.seed + 1
    ans = answer(seed, model.id, call.messages, max_tokens, model.profile.accuracy)
    if options is None and "reasoning" not in model.params:
        reply = plain(ans)
    else:
        reply = compose(ans, options, model, call.messages, seed, max_tokens)
    created = int(time.time())
    gen = Generation(
        id=state.new_generation_id(created), model=model.id, provider=model.provider_name, created=created,
        prompt_tokens=call.prompt_tokens, completion_tokens=reply.completion_tokens, cost=0.0,
        latency_s=0.0, finish_reason=reply.finish_reason, streamed=call.stream,
        reasoning_tokens=reply.reasoning_tokens,
    )  # fmt: skip
    gen.cost = round(model.cost(gen.prompt_tokens, gen.completion_tokens), 12)
    outcome = kind.value if kind is not None else "ok"
    try:
        if call.stream:
            await _stream(state, call, model, fault, reply, gen, resp, t0)
        else:
            await _whole(state, call, model, fault, reply, gen, resp, t0)
    except (ClientGone, asyncio.CancelledError):  # the server cancels the handler of a client that left
        stats.outcome("client_gone")
        raise
    stats.outcome(outcome)


def _usage(gen: Generation) -> dict[str, Any]:
    return {
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "total_tokens": gen.prompt_tokens + gen.completion_tokens,
        "cost": gen.cost,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": gen.reasoning_tokens},
    }


def _settle(state: SimState, call: _Call, gen: Generation, t0: float) -> None:
    """Charge the key and remember the generation before the client hears the end: /key is never behind."""
    gen.latency_s = state.clock() - t0
    state.charge(call.key, gen.cost)
    state.remember(gen)


def _envelope(gen: Generation, obj: str) -> dict[str, Any]:
    created = int(gen.created)
    return {"id": gen.id, "provider": gen.provider, "model": gen.model, "object": obj, "created": created}


async def _whole(
    state: SimState, call: _Call, model: SimModel, fault: FaultRule | None, reply: Reply, gen: Generation,
    resp: Responder, t0: float,
) -> None:  # fmt: skip
    scale = state.config.latency_scale
    if scale > 0:
        await asyncio.sleep(scale * (model.profile.ttft_s + reply.completion_tokens / model.profile.tokens_per_s))
    kind = fault.kind if fault is not None else None
    headers = [("x-generation-id", gen.id), SIMULATED]
    body = _envelope(gen, "chat.completion")
    message = reply.message()
    choice = {"logprobs": reply.logprobs_json(), "finish_reason": reply.finish_reason,
              "native_finish_reason": reply.finish_reason, "index": 0, "message": message}  # fmt: skip
    if kind is FaultKind.STREAM_ERROR:  # an error after the model began: 200 with an error in the body
        kept = fault.chunks if fault else 0
        message["content"] = "".join(reply.pieces[:kept])
        message.pop("tool_calls", None)
        choice["logprobs"] = reply.logprobs_json(kept)
        choice["finish_reason"] = choice["native_finish_reason"] = "error"
        body["error"] = {"code": fault.http_status if fault and fault.status else 502,
                         "message": "Upstream provider failed mid-generation (simulated)"}  # fmt: skip
    body["choices"] = [choice]
    body["usage"] = _usage(gen)
    if kind is None or kind is FaultKind.SLOW_FIRST_BYTE:
        _settle(state, call, gen, t0)
    payload = dump(body)
    if kind is FaultKind.MALFORMED:
        await resp.send(200, payload[: len(payload) * 2 // 3], headers=headers)
    elif kind is FaultKind.CUT_STREAM:
        await resp.send_partial(200, payload, headers=headers)
    else:
        await resp.send(200, payload, headers=headers)


async def _wait(resp: Responder, seconds: float, keepalive_s: float) -> None:
    """Sleep ``seconds``, sending a keep-alive comment every ``keepalive_s`` meanwhile."""
    while seconds > 0:
        step = min(seconds, keepalive_s)
        await asyncio.sleep(step)
        seconds -= step
        if seconds > 0:
            await resp.send_chunks([KEEPALIVE])


async def _stream(
    state: SimState, call: _Call, model: SimModel, fault: FaultRule | None, reply: Reply, gen: Generation,
    resp: Responder, t0: float,
) -> None:  # fmt: skip
    scale = state.config.latency_scale
    kind = fault.kind if fault is not None else None
    await resp.start_stream(200, [("x-generation-id", gen.id), SIMULATED])
    await resp.send_chunks([KEEPALIVE])
    if scale > 0:
        await _wait(resp, scale * model.profile.ttft_s, state.config.keepalive_s)
    env = _envelope(gen, "chat.completion.chunk")
    head = dump(env)[:-1] + b',"choices":[{"index":0,"delta":{"role":"assistant","content":'
    special = reply.content is None or reply.logprobs or reply.reasoning or reply.images
    chunks = _chunks(env, reply) if special else []
    if not reply.logprobs:  # plain content pieces: one template, no JSON encoding of the envelope per piece
        chunks += [b"data: " + head + json.dumps(p).encode() + _CHUNK_TAIL for p in reply.pieces]
    if kind is FaultKind.MALFORMED:
        await resp.send_chunks([b"data: " + head + b'"unterminated\n\n', DONE])
        await resp.end_stream()
        return
    if fault is not None and kind in (FaultKind.CUT_STREAM, FaultKind.STREAM_ERROR):
        chunks = chunks[: fault.chunks]
    last: dict[str, Any] = dict(env)
    if kind is FaultKind.STREAM_ERROR:
        status = fault.status if fault is not None and fault.status else 502
        last["error"] = {"code": status, "message": "Upstream provider failed mid-generation (simulated)"}
        last["choices"] = [{"index": 0, "delta": {"content": ""}, "finish_reason": "error",
                            "native_finish_reason": "error", "logprobs": None}]  # fmt: skip
    else:
        last["choices"] = [{"index": 0, "delta": {"role": "assistant", "content": ""},
                            "finish_reason": reply.finish_reason, "native_finish_reason": reply.finish_reason,
                            "logprobs": None}]  # fmt: skip
        last["usage"] = _usage(gen)
    tail = [b"data: " + dump(last) + b"\n\n", DONE]
    if scale > 0:  # the generation time of the whole reply, spread evenly over its events
        step = scale * gen.completion_tokens / model.profile.tokens_per_s / max(1, len(chunks))
        for chunk in chunks:
            await asyncio.sleep(step)
            await resp.send_chunks([chunk])
        chunks = []
    if kind is None or kind is FaultKind.SLOW_FIRST_BYTE:
        _settle(state, call, gen, t0)
    if kind is FaultKind.CUT_STREAM:
        await resp.send_chunks(chunks)
        resp.close()
        return
    await resp.send_chunks([*chunks, *tail])
    await resp.end_stream()


def _chunks(env: dict[str, Any], reply: Reply) -> list[bytes]:
    """The stream events of everything but plain content pieces: reasoning, images, tool calls, and content
    pieces carrying their logprobs. Reasoning pieces, the many ones, go through a byte template."""
    out = []
    head = b"data: " + dump(env)[:-1] + b',"choices":[{"index":0,"delta":{"role":"assistant","content":"",'
    for piece in split_pieces(reply.reasoning) if reply.reasoning else ():
        text = json.dumps(piece).encode()
        detail = b'"reasoning_details":[{"type":"reasoning.text","text":' + text + b',"format":"unknown","index":0}]'
        out.append(head + b'"reasoning":' + text + b"," + detail + _CHUNK_TAIL)
    deltas: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(d, None) for d in reply.head_deltas()]
    if reply.logprobs:
        for piece, entry in zip(reply.pieces, reply.logprobs, strict=True):
            deltas.append(({"role": "assistant", "content": piece}, {"content": [entry], "refusal": None}))
    for delta, logprobs in deltas:
        choice = {"index": 0, "delta": delta, "finish_reason": None, "native_finish_reason": None, "logprobs": logprobs}
        out.append(b"data: " + dump({**env, "choices": [choice]}) + b"\n\n")
    return out
