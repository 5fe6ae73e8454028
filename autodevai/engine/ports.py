"""The small protocols the engine depends on, and the values that cross them. Concrete classes live in
providers/, adapters/ and compose.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from autodevai.engine.conversations import Conversation, SearchHit, ThreadMessage
from autodevai.engine.types import ChatMessage, Completion, ModelInfo, ProviderCall, StreamEvent

__all__ = [
    "Clock",
    "ConversationStore",
    "Provider",
    "RequestRecord",
    "SecretStore",
    "SpendHold",
    "SpendTotals",
    "Store",
    "SystemClock",
    "TokenCounter",
]


@runtime_checkable
class Provider(Protocol):
    """One upstream (an OpenAI-compatible server). Raises only ``ProviderError`` subclasses."""

    name: str

    async def chat(self, call: ProviderCall, *, timeout_s: float) -> Completion: ...

    def stream(self, call: ProviderCall, *, timeout_s: float) -> AsyncGenerator[StreamEvent, None]:
        """Yield text deltas, then exactly one event carrying the final ``Completion``."""
        ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def key_info(self) -> Mapping[str, Any] | None:
        """OpenRouter's ``GET /key`` data (limit, usage, ...) or None where the server has no such endpoint."""
        ...

    async def aclose(self) -> None: ...


class TokenCounter(Protocol):
    """Counts tokens the way a model's tokenizer does (exact for models whose encoding we ship, calibrated
    estimates for the rest). Must be fast: >= 1M tokens/s on long text."""

    def count(self, text: str, model: str | None = None) -> int: ...

    def count_many(self, texts: Sequence[str], model: str | None = None) -> list[int]:
        """Counts of several texts at once (may use threads): the fast path for long documents."""
        ...

    def count_messages(self, messages: Sequence[ChatMessage], model: str | None = None) -> int:
        """Prompt tokens of a chat request, including the chat format's per-message overhead."""
        ...

    def encoding_name(self, model: str | None = None) -> str: ...

    def is_exact(self, model: str | None) -> bool:
        """True when ``model``'s own tokenizer is shipped (exact counts), False for calibrated estimates."""
        ...

    def observe(self, model: str, estimated: int, actual: int) -> None:
        """Learn from a provider's reported prompt tokens (``actual``) vs our uncalibrated count."""
        ...

    def calibration(self) -> dict[str, float]: ...

    def load_calibration(self, factors: Mapping[str, float]) -> None: ...


class SecretStore(Protocol):
    """API keys by provider name: the OS keyring first, then environment variables. Never logs a value."""

    def get(self, provider: str, env_var: str | None = None) -> str | None: ...

    def set(self, provider: str, secret: str) -> None: ...

    def delete(self, provider: str) -> None: ...

    def source(self, provider: str, env_var: str | None = None) -> str:
        """Where the key comes from ("keyring", "env VAR", "none", ...); never the key itself."""
        ...

    def describe(self) -> str:
        """Which backend holds keys (e.g. "SecretService keyring", "environment only: no keyring")."""
        ...


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One finished request (success or failure) as the store keeps it."""

    id: str
    ts: float  # wall clock, epoch seconds
    provider: str
    model: str
    preference: str
    status: str  # "ok" or the error class name
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    prompt: str = ""  # redacted before storing
    answer: str = ""
    attempts: Sequence[Mapping[str, Any]] = field(default=())
    task_class: str | None = None
    stream: bool = False
    compression: Mapping[str, Any] | None = None  # the CompressionReport when the prompt was fitted
    detail: Mapping[str, Any] | None = None  # what the request used beyond text and what came back (tools, ...)
    cost_source: str = "provider"  # "provider", "catalog" or "unknown" (cost_usd is then 0 but not known to be)
    simulated: bool = False  # AutoDevAI's simulator answered
    # Budget holds (``SpendHold.id``) this row settles: the store drops them in the transaction that writes it, so
    # every process sees either the hold or the cost, never neither.
    holds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpendHold:
    """A budget hold in the shared store: ``amount_usd`` (a request's worst-case cost) held from ``wall`` until
    the request's row settles it or, if its process died, until ``expires_wall`` (epoch seconds)."""

    id: str
    amount_usd: float
    wall: float
    expires_wall: float


@dataclass(frozen=True, slots=True)
class SpendTotals:
    """What every process on one store has spent and holds, in integer nano-dollars: spent today and this month
    (UTC, of the wall time asked about) and in all; ``held`` in open holds, ``held_here`` of them this process's."""

    today: int
    month: int
    total: int
    held: int
    held_here: int


class ConversationStore(Protocol):
    """Conversations and their message trees, with full-text search. Writes return once committed."""

    async def create(self, conversation: Conversation) -> None: ...

    async def update(self, conversation_id: str, updated: float | None, **fields: Any) -> None:
        """Set ``title``, ``pinned``, ``preset``, ``head_id`` or ``deleted_at`` (None restores), and ``updated``
        unless it is None."""
        ...

    async def add_message(self, message: ThreadMessage, *, head: bool = True) -> None:
        """Insert ``message``; with ``head`` it becomes the conversation's current leaf, in one transaction."""
        ...

    async def get(self, conversation_id: str) -> Conversation | None: ...

    async def listing(self, *, deleted: bool = False, limit: int = 1000) -> list[Conversation]:
        """Pinned first, then the most recently updated."""
        ...

    async def messages(self, conversation_id: str) -> list[ThreadMessage]:
        """Every message, every branch, oldest first."""
        ...

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]: ...

    async def purge(self, conversation_id: str) -> None: ...


class Store(Protocol):
    """Durable storage. Writes run off the event loop; ``record_request`` returns once the row is committed."""

    @property
    def conversations(self) -> ConversationStore:
        """Conversations and their messages, kept in the same file."""
        ...

    @property
    def path(self) -> Path:
        """The file the store keeps its data in (shown to people; never opened by the engine)."""
        ...

    async def record_request(self, rec: RequestRecord) -> None: ...

    async def recent_requests(self, limit: int = 50, query: str | None = None) -> list[RequestRecord]: ...

    async def spent_since(self, since_ts: float) -> float:
        """USD spent by requests finished at or after ``since_ts`` (wall clock)."""
        ...

    async def spent_totals(self, now_wall: float) -> tuple[float, float, float]:
        """USD spent today (UTC), this month (UTC) and in all."""
        ...

    async def reserve_spend(
        self, hold: SpendHold, check: Callable[[SpendTotals], None], release: tuple[str, ...] = ()
    ) -> SpendTotals:
        """In one transaction: drop the holds named in ``release`` (given back) and expired ones, count what every
        process spent and holds, call ``check`` with it (it raises ``BudgetExceeded`` to refuse) and, if it
        passes, add ``hold``; return the counts from before the hold. Raises ``StorageError`` when the store
        cannot write: then nothing is held."""
        ...

    async def count_requests(self) -> int: ...

    async def recent_events(self, since_wall: float) -> list[RequestRecord]:
        """Requests finished at or after ``since_wall``, oldest first, for warming metrics and breakers: every
        field but the texts (``prompt``, ``answer``, ``compression`` and ``detail`` are left empty)."""
        ...

    async def append_audit(self, event: str, payload: Mapping[str, Any]) -> None: ...

    async def verify_audit(self) -> int:
        """Check the audit log's hash chain; return the number of entries; raise ``StorageError`` if broken."""
        ...

    async def load_catalog(self) -> list[dict[str, Any]] | None: ...

    async def catalog_fetched_at(self) -> float | None:
        """Epoch seconds when the cached catalog was saved, or None when there is none."""
        ...

    async def save_catalog(self, models: list[dict[str, Any]]) -> None: ...

    async def load_calibration(self) -> dict[str, float]: ...

    async def save_calibration(self, model: str, factor: float) -> None: ...

    async def record_outcome(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        """Count one outcome of ``model`` on ``task_class`` (adaptive workflows); returns once committed."""
        ...

    async def load_outcomes(self) -> list[tuple[str, str, float, float, float, int]]:
        """Every ``(task_class, model, successes, failures, cost_usd, pulls)`` row, for ``ThompsonRouter.load``."""
        ...

    async def integrity_check(self) -> str: ...

    async def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def wall(self) -> float:
        """Epoch seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock. Tests inject a fake one instead of patching ``time``."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
