"""The simulator's mutable state and the small pieces every route shares.

Owns: counters (``SimStats``), per-key usage (credits), the sliding one-minute window of ``:free`` requests
per key, the bounded record of past generations (``GET /generation``), bearer-token checks, and OpenRouter's
error body. Everything here runs on the server's event loop; other threads go through ``SimThread``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from autodevai.sim.catalog import SimModel, select_models
from autodevai.sim.config import SimConfig
from autodevai.sim.faults import FaultSet

__all__ = ["SimState", "SimStats", "dump", "error_json"]

MAX_GENERATIONS = 10_000
FREE_WINDOW_S = 60.0
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def dump(obj: Any) -> bytes:
    """Compact JSON bytes (one shared encoder: faster than ``json.dumps`` with options on every call)."""
    return _ENCODER.encode(obj).encode()


def error_json(code: int, message: str, metadata: dict[str, Any] | None = None) -> bytes:
    """OpenRouter's error body: ``{"error": {"code", "message", "metadata"?}}``."""
    err: dict[str, Any] = {"code": code, "message": message}
    if metadata:
        err["metadata"] = metadata
    return dump({"error": err})


@dataclass
class SimStats:
    """What a server saw. ``total`` counts chat requests, each with exactly one ``by_outcome`` entry.

    ``by_model`` counts chat attempts per model (a request that fell back from a faulted model counts for
    both).
    ``by_route`` counts every HTTP request per route ("/chat/completions", "/models", ...).
    Outcomes: "ok", "bad_request", "unsupported" (404: no model of the request can serve it), "unauthorized",
    "payment_required", "rate_limited" (the ``:free`` limit),
    "client_gone", or the fault kind that shaped the answer ("http_error", "rate_limit", "timeout", "reset",
    "malformed", "cut_stream", "stream_error", "slow_first_byte").
    """

    total: int = 0
    by_model: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_route: dict[str, int] = field(default_factory=dict)
    fallbacks: int = 0  # requests answered by a later model of the ``models`` list

    def copy(self) -> SimStats:
        return SimStats(self.total, dict(self.by_model), dict(self.by_outcome), dict(self.by_route), self.fallbacks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_model": self.by_model,
            "by_outcome": self.by_outcome,
            "by_route": self.by_route,
            "fallbacks": self.fallbacks,
        }

    def outcome(self, name: str) -> None:
        self.total += 1
        self.by_outcome[name] = self.by_outcome.get(name, 0) + 1

    def model(self, model_id: str) -> None:
        self.by_model[model_id] = self.by_model.get(model_id, 0) + 1

    def route(self, path: str) -> None:
        self.by_route[path] = self.by_route.get(path, 0) + 1


@dataclass(slots=True)
class Generation:
    id: str
    model: str
    provider: str
    created: float
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency_s: float
    finish_reason: str
    streamed: bool
    reasoning_tokens: int = 0

    def as_json(self) -> bytes:
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.created)) + "Z"
        data = {
            "id": self.id,
            "model": self.model,
            "provider_name": self.provider,
            "created_at": created,
            "total_cost": self.cost,
            "usage": self.cost,
            "is_byok": False,
            "streamed": self.streamed,
            "cancelled": False,
            "latency": round(self.latency_s * 1000),
            "generation_time": round(self.latency_s * 1000),
            "finish_reason": self.finish_reason,
            "native_finish_reason": self.finish_reason,
            "tokens_prompt": self.prompt_tokens,
            "tokens_completion": self.completion_tokens,
            "native_tokens_prompt": self.prompt_tokens,
            "native_tokens_completion": self.completion_tokens,
            "native_tokens_reasoning": self.reasoning_tokens,
        }
        return dump({"data": data})


def _catalog_json(models: dict[str, SimModel]) -> bytes:
    return dump({"data": [m.entry for m in models.values()]})


@lru_cache(maxsize=1)
def _full_catalog_json() -> bytes:
    """``GET /models`` of the whole catalog, serialized once per process."""
    return _catalog_json(select_models(None))


class SimState:
    """Everything one simulator instance knows and counts."""

    def __init__(self, config: SimConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.models: dict[str, SimModel] = select_models(config.models)
        self.models_json = _full_catalog_json() if config.models is None else _catalog_json(self.models)
        self.faults = FaultSet(list(config.faults), seed=config.seed)
        self.stats = SimStats()
        self.usage: dict[str, float] = {}
        self.generations: OrderedDict[str, Generation] = OrderedDict()
        self._free: dict[str, deque[float]] = {}
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()

    def new_generation_id(self, created: int) -> str:
        return f"gen-{created}-{self._id_prefix}{next(self._ids):08d}"

    def auth(self, headers: Mapping[str, str]) -> str | None:
        """The caller's key; None when the bearer token is missing, empty or (with ``keys`` set) unknown."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self.config.keys and token not in self.config.keys:
            return None
        return token

    def free_wait(self, key: str) -> float:
        """Seconds until ``key`` may call a ``:free`` model again (0 = now; the call is then counted)."""
        now = self.clock()
        window = self._free.setdefault(key, deque())
        while window and now - window[0] >= FREE_WINDOW_S:
            window.popleft()
        if len(window) >= self.config.free_rpm:
            return max(window[0] + FREE_WINDOW_S - now, 0.001)
        window.append(now)
        return 0.0

    def credits_left(self, key: str) -> float | None:
        limit = self.config.credit_limit
        return None if limit is None else limit - self.usage.get(key, 0.0)

    def charge(self, key: str, cost: float) -> None:
        self.usage[key] = self.usage.get(key, 0.0) + cost

    def remember(self, gen: Generation) -> None:
        self.generations[gen.id] = gen
        if len(self.generations) > MAX_GENERATIONS:
            self.generations.popitem(last=False)

    def key_json(self, key: str) -> bytes:
        used = self.usage.get(key, 0.0)
        limit = self.config.credit_limit
        data = {
            "label": "AutoDevAI simulator key",
            "limit": limit,
            "limit_remaining": None if limit is None else max(limit - used, 0.0),
            "limit_reset": None,
            "usage": used,
            "usage_daily": used,
            "usage_weekly": used,
            "usage_monthly": used,
            "is_free_tier": False,
            "is_provisioning_key": False,
            "rate_limit": {"requests": -1, "interval": "10s"},
        }
        return dump({"data": data})


def retry_after_value(seconds: float) -> str:
    """A Retry-After value: whole seconds when whole, else a decimal (our clients accept both)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def ceil_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
