"""Tunables in one place. Settings (TOML) override the user-facing ones; these are the defaults and hard limits."""

from __future__ import annotations

__all__ = [
    "APP_TITLE",
    "APP_URL",
    "AUDIO_BYTES_PER_TOKEN",
    "BREAKER_FAILURE_RATE",
    "BREAKER_HALF_OPEN_PROBES",
    "BREAKER_MIN_CALLS",
    "BREAKER_OPEN_JITTER",
    "BREAKER_OPEN_S",
    "BREAKER_SLOW_CALL_S",
    "BREAKER_SLOW_RATE",
    "BREAKER_WINDOW",
    "CHARS_PER_TOKEN",
    "DEFAULT_BACKOFF_BASE_S",
    "DEFAULT_BACKOFF_MAX_S",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_DEADLINE_S",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_READ_TIMEOUT_S",
    "FILE_BYTES_PER_TOKEN",
    "FILE_TOKENS_MIN",
    "FREE_MODEL_RPM",
    "HOLD_MARGIN_S",
    "IMAGE_TOKENS",
    "IMAGE_TOKENS_LOW",
    "MAINTENANCE_WAKE_S",
    "MAX_JSON_DEPTH",
    "MAX_PROMPT_CHARS",
    "MAX_USD",
    "MEDIA_TOKENS_MAX",
    "MESSAGE_OVERHEAD_TOKENS",
    "OPENROUTER_BASE_URL",
    "POOL_KEEPALIVE_S",
    "POOL_MAX_CONNECTIONS",
    "POOL_MAX_KEEPALIVE",
    "ROUTE_FALLBACKS",
    "ROUTE_RESCORE_S",
    "WINDOWS",
]

# Requests
MAX_PROMPT_CHARS = 4_000_000  # ~1M tokens; beyond this no model can take it and we refuse before tokenizing
DEFAULT_MAX_TOKENS = 512
# Deepest nesting of lists/objects a request may carry (tool schemas, extra_body, ...): json encoders and decoders
# recurse and raise RecursionError near 1000 levels; 128 is far beyond any real schema (the gateway uses the same).
MAX_JSON_DEPTH = 128

# Money: the largest USD amount a cap, a price or a reservation may take. The ledger counts integer nano-dollars
# (1e9 USD = 1e18 nano, inside SQLite's and int64's range); anything larger is a typo, not a budget.
MAX_USD = 1_000_000_000.0
# A budget hold (a reservation in the shared store) outlives its request's deadline by this much before another
# process may treat it as abandoned (its owner crashed).
HOLD_MARGIN_S = 60.0

# Background maintenance (engine/health.py): how often the loop wakes to look for half-open breakers to probe
# and a stale catalog; what is due is decided on the engine clock.
MAINTENANCE_WAKE_S = 5.0

# Resilience defaults (see settings.ResilienceSettings)
DEFAULT_DEADLINE_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE_S = 0.25
DEFAULT_BACKOFF_MAX_S = 8.0

# Circuit breaker defaults
BREAKER_WINDOW = 20  # calls in the sliding window
BREAKER_MIN_CALLS = 5
BREAKER_FAILURE_RATE = 0.5
BREAKER_SLOW_CALL_S = 30.0
BREAKER_SLOW_RATE = 0.8
BREAKER_OPEN_S = 30.0
BREAKER_OPEN_JITTER = 0.1  # open duration is multiplied by 1 + U(0, jitter)
BREAKER_HALF_OPEN_PROBES = 2

# Routing
ROUTE_FALLBACKS = 3  # fallbacks after the first choice
ROUTE_RESCORE_S = 1.0  # balanced/speed scores use live metrics; recomputed at most this often

# Metrics windows, seconds
WINDOWS = {"1m": 60.0, "15m": 900.0, "24h": 86_400.0}

# HTTP pool (shared httpx.AsyncClient)
POOL_MAX_CONNECTIONS = 100
POOL_MAX_KEEPALIVE = 50
# An idle pooled connection is closed after this long: below common servers' keep-alive (uvicorn's 5 s), so a
# request never goes out on a connection the server is closing (httpx defaults to 5 s).
POOL_KEEPALIVE_S = 4.0

# Token estimate used before tiktoken is wired in: chars per token, and per-message overhead
CHARS_PER_TOKEN = 4.0
MESSAGE_OVERHEAD_TOKENS = 4

# OpenRouter
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
APP_TITLE = "AutoDevAI"
APP_URL = "https://github.com/autodevai/autodevai"
FREE_MODEL_RPM = 20

# Prompt-token estimates of non-text content parts (providers bill real numbers; these size windows and budgets)
IMAGE_TOKENS = 765  # OpenAI's count for a 1024x1024 image at detail high/auto (85 + 4 tiles x 170)
IMAGE_TOKENS_LOW = 85
AUDIO_BYTES_PER_TOKEN = 1_000  # base64 audio: ~10 tokens per second of speech
FILE_BYTES_PER_TOKEN = 40  # base64 PDF: ~500 tokens per page of ~20 KB
FILE_TOKENS_MIN = 256
MEDIA_TOKENS_MAX = 200_000
