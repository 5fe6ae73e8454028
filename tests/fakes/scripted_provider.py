"""An in-process ``Provider`` that answers from a script, on an injected clock: for engine unit tests that are
about time (deadlines, backoff, Retry-After, breakers, rate limits) and must not wait for it.

Each ``chat`` call takes the next step of the model's script: a ``Completion`` to return, an exception to raise,
``Slow(seconds, error)`` (after that long on the clock, answer "ok" or raise ``error``), or ``HANG`` (the server
never answers: the call sleeps on the clock for its whole ``timeout_s``, then raises ``ProviderTimeout``, as the
real provider does when httpx's timeout fires). A model with an empty script answers "ok" at once. Over real HTTP,
the simulator and ``scripted_server.py`` play this part; here no socket is needed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from autodevai.engine.errors import ProviderTimeout
from autodevai.engine.ports import Clock
from autodevai.engine.types import Completion, ModelInfo, ProviderCall, StreamEvent, Usage

__all__ = ["HANG", "ScriptedProvider", "Slow"]

HANG = "hang"


@dataclass(frozen=True)
class Slow:
    """A step that takes ``seconds`` on the provider's clock, then answers "ok" (or raises ``error``)."""

    seconds: float
    error: BaseException | None = None


Step = Completion | BaseException | Slow | str


class ScriptedProvider:
    """Serves ``models``; ``script(model, *steps)`` queues what its next calls do; ``calls`` records each call as
    (model, timeout_s, clock reading)."""

    def __init__(self, name: str, models: Iterable[ModelInfo], clock: Clock) -> None:
        self.name = name
        self._models = list(models)
        self._clock = clock
        self._scripts: dict[str, deque[Step]] = {}
        self.calls: list[tuple[str, float, float]] = []

    def script(self, model: str, *steps: Step) -> None:
        self._scripts.setdefault(model, deque()).extend(steps)

    async def chat(self, call: ProviderCall, *, timeout_s: float) -> Completion:
        self.calls.append((call.model, timeout_s, self._clock.now()))
        queue = self._scripts.get(call.model)
        step: Step = queue.popleft() if queue else self.answer(call.model)
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, Slow):
            await self._clock.sleep(step.seconds)
            if step.error is not None:
                raise step.error
            return self.answer(call.model)
        if step == HANG:
            await self._clock.sleep(timeout_s)
            raise ProviderTimeout(f"{self.name} did not answer in time", provider=self.name, model=call.model)
        assert isinstance(step, Completion)
        return step

    def answer(self, model: str, text: str = "ok", **usage: Any) -> Completion:
        """A completion of ``model`` (10 prompt and 2 completion tokens unless ``usage`` says otherwise)."""
        counts = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, **usage}
        return Completion(self.name, model, text, "stop", Usage(**counts))

    async def stream(self, call: ProviderCall, *, timeout_s: float) -> AsyncGenerator[StreamEvent, None]:
        completion = await self.chat(call, timeout_s=timeout_s)
        yield StreamEvent(delta=completion.content, model=completion.model)
        yield StreamEvent(completion=completion)

    async def list_models(self) -> list[ModelInfo]:
        return list(self._models)

    async def key_info(self) -> Mapping[str, Any] | None:
        return None

    async def aclose(self) -> None:
        return None
