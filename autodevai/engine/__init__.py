"""The AutoDevAI engine: pure asyncio orchestration behind small ports (no Qt, httpx, sqlite3 or keyring).

Faces (CLI, GUI, gateway) import these names; ``autodevai.compose.open_engine`` builds a wired ``Engine``.
"""

from autodevai.engine.advisor import Recommendation
from autodevai.engine.errors import (
    AuthRejected,
    BadRequest,
    BudgetExceeded,
    Cancelled,
    CircuitOpen,
    ConfigError,
    ContentFiltered,
    ContextTooLong,
    DeadlineExceeded,
    EngineError,
    InvalidRequest,
    MalformedResponse,
    NoRouteAvailable,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StorageError,
    StreamInterrupted,
)
from autodevai.engine.metrics import MetricsSummary, RequestEvent, Stats
from autodevai.engine.orchestrator import Engine
from autodevai.engine.reports import Capabilities, InitReport, SelfTestReport, SystemStatus
from autodevai.engine.settings import Settings
from autodevai.engine.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    EngineResponse,
    ModelInfo,
    ModelRef,
    Preference,
    RouteDecision,
    StreamEvent,
    Usage,
)
from autodevai.engine.workflows import WorkflowResult, WorkflowSpec, WorkflowStep

__all__ = [
    "AuthRejected",
    "BadRequest",
    "BudgetExceeded",
    "Cancelled",
    "Capabilities",
    "ChatMessage",
    "ChatRequest",
    "CircuitOpen",
    "Completion",
    "ConfigError",
    "ContentFiltered",
    "ContextTooLong",
    "DeadlineExceeded",
    "Engine",
    "EngineError",
    "EngineResponse",
    "InitReport",
    "InvalidRequest",
    "MalformedResponse",
    "MetricsSummary",
    "ModelInfo",
    "ModelRef",
    "NoRouteAvailable",
    "PaymentRequired",
    "Preference",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "Recommendation",
    "RequestEvent",
    "RouteDecision",
    "SelfTestReport",
    "Settings",
    "Stats",
    "StorageError",
    "StreamEvent",
    "StreamInterrupted",
    "SystemStatus",
    "Usage",
    "WorkflowResult",
    "WorkflowSpec",
    "WorkflowStep",
]
