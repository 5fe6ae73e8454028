"""The one place that wires concrete classes into an ``Engine``: settings file, keyring, SQLite store,
the shared HTTP client and providers, and — when nothing else is configured — the built-in simulator.

Faces get what they need from here or from the engine's facade, never by building adapters themselves: the app
(``open_engine``), the key store alone for what needs a secret but no engine (``secret_store``: the gateway's
token), and whether a local OpenAI-compatible server such as Ollama is listening (``local_server_running``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from autodevai import paths
from autodevai.adapters.audit_key import KEY_FILE, load_or_create_key
from autodevai.adapters.keyring_secrets import KeyringSecrets
from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.adapters.tokenizer import TiktokenCounter
from autodevai.engine.errors import ConfigError, redact
from autodevai.engine.orchestrator import Engine
from autodevai.engine.ports import Clock, Provider
from autodevai.engine.settings import ProviderSettings, Settings, load_settings, settings_to_toml
from autodevai.providers import build_provider
from autodevai.providers.http import make_client

__all__ = [
    "OLLAMA_URL",
    "SIM_PROVIDER",
    "App",
    "local_server_running",
    "open_engine",
    "save_settings_file",
    "secret_store",
]

SIM_PROVIDER = "sim"
SIM_KEY = "sim-local-demo"  # the simulator accepts any bearer token; this one is not a secret
OLLAMA_URL = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible endpoint when it runs (DESIGN.md)
PROBE_TIMEOUT_S = 0.3

log = logging.getLogger("autodevai")


class RedactingFilter(logging.Filter):
    """Removes anything key-shaped (and every registered secret) from log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("autodevai")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def save_settings_file(path: Path, settings: Settings, ephemeral: set[str] | None = None) -> None:
    """Write ``settings`` as TOML atomically (temp file + rename), leaving out ephemeral providers. The file is
    readable by its owner only (0600) and a directory created for it is 0700. Raises ``ConfigError`` when it cannot
    be written (a read-only or missing directory, a full disk); the old file is then left as it was."""
    keep = settings
    if ephemeral:
        keep = settings.model_copy(update={"providers": [p for p in settings.providers if p.name not in ephemeral]})
    text = settings_to_toml(keep)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the settings file {path}: {exc.strerror or exc}",
            hint="make its directory writable (or choose another file with --config / AUTODEVAI_CONFIG_DIR); "
            "nothing was changed",
        ) from None


class AppSecrets:
    """The keyring store plus what only compose knows: the built-in simulator needs no key."""

    def __init__(self, inner: KeyringSecrets) -> None:
        self.inner = inner
        self.keyless: set[str] = set()  # provider names served by our simulator

    def get(self, provider: str, env_var: str | None = None) -> str | None:
        return SIM_KEY if provider in self.keyless else self.inner.get(provider, env_var)

    def set(self, provider: str, secret: str) -> None:
        self.inner.set(provider, secret)

    def delete(self, provider: str) -> None:
        self.inner.delete(provider)

    def source(self, provider: str, env_var: str | None = None) -> str:
        return "not needed (simulator)" if provider in self.keyless else self.inner.source(provider, env_var)

    def describe(self) -> str:
        return self.inner.describe()


def secret_store() -> AppSecrets:
    """The app's key store (the OS keyring, env vars as fallback), for what needs a secret but no engine."""
    return AppSecrets(KeyringSecrets())


async def local_server_running(base_url: str = OLLAMA_URL, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when something accepts a TCP connection at ``base_url``'s host and port within ``timeout_s`` (a quick
    look for a local server such as Ollama; nothing is sent)."""
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@dataclass
class App:
    """An engine with the resources it owns. ``notices`` are sentences for the user (e.g. "using the simulator")."""

    engine: Engine
    config_path: Path
    client: httpx.AsyncClient
    notices: list[str] = field(default_factory=list)
    sim: object | None = None  # a running autodevai.sim.SimThread when the simulator was started for us
    ephemeral: set[str] = field(default_factory=set)
    secrets: AppSecrets | None = None  # keys and the gateway token (keyring, env fallback)

    async def aclose(self) -> None:
        await self.engine.aclose()
        await self.client.aclose()
        if self.sim is not None:
            self.sim.stop()  # type: ignore[attr-defined]


def _start_simulator() -> tuple[object, str]:
    from autodevai.sim.config import SimConfig
    from autodevai.sim.thread import SimThread

    sim = SimThread(SimConfig(latency_scale=float(os.environ.get("AUTODEVAI_SIM_LATENCY_SCALE", "0.1"))))
    url = sim.start()
    return sim, url


async def open_engine(
    config_path: Path | None = None,
    *,
    settings: Settings | None = None,
    extra_providers: list[ProviderSettings] | None = None,
    auto_simulator: bool = True,
    refresh: str = "background",
    clock: Clock | None = None,
    rng: random.Random | None = None,
    db_path: Path | None = None,
    trust_env: bool = True,
) -> App:
    """Build and initialize an engine. Raises ``ConfigError`` for a bad config file.

    Providers come from the config file, plus ``extra_providers`` (ephemeral, never saved). With none and an
    OpenRouter key in the keyring or ``OPENROUTER_API_KEY``, OpenRouter is used; with no key either, the
    built-in simulator is started (if ``auto_simulator``) and a notice says so.
    """
    install_log_redaction()
    config_path = config_path or paths.config_file()
    settings = settings or load_settings(config_path)
    secrets = secret_store()
    notices: list[str] = []
    ephemeral: set[str] = set()
    sim = None
    sim_url: str | None = None
    extra = list(extra_providers or [])
    if extra:
        settings = settings.model_copy(update={"providers": [*settings.providers, *extra]})
        ephemeral.update(p.name for p in extra)
    if not any(p.enabled for p in settings.providers):
        ps: ProviderSettings | None = None
        if secrets.get("openrouter"):
            from autodevai.engine.constants import OPENROUTER_BASE_URL

            ps = ProviderSettings(name="openrouter", kind="openrouter", base_url=OPENROUTER_BASE_URL)
            notices.append("using OpenRouter with the key from the keyring / OPENROUTER_API_KEY")
        elif auto_simulator:
            sim, sim_url = _start_simulator()
            ps = ProviderSettings(name=SIM_PROVIDER, kind="openrouter", base_url=sim_url, attribution=False)
            secrets.keyless.add(SIM_PROVIDER)
            notices.append(
                f"No provider or API key is configured: using the built-in simulator at {sim_url} "
                "(answers are simulated). Add a key with `autodevai config key openrouter`."
            )
        # else: an engine with no provider (configuration commands need none)
        if ps is not None:
            settings = settings.model_copy(update={"providers": [*settings.providers, ps]})
            ephemeral.add(ps.name)

    res = settings.resilience
    client = make_client(res.connect_timeout_s, res.read_timeout_s, trust_env=trust_env)

    def factory(ps: ProviderSettings) -> Provider:
        key = secrets.get(ps.name, ps.api_key_env)
        return build_provider(ps.kind, ps.name, ps.base_url, key, client, ps.models, attribution=ps.attribution)

    db = db_path or paths.db_file()
    try:
        # The audit log is signed with a key kept beside the database (0600, created once: audit_key.py).
        store = await SqliteStore.open(db, audit_key=load_or_create_key(db.parent / KEY_FILE))
    except BaseException:
        await client.aclose()
        if sim is not None:
            sim.stop()  # type: ignore[attr-defined]
        raise
    try:
        spent = await store.spent_totals(time.time())
        save: Callable[[Settings], None] = lambda s: save_settings_file(config_path, s, ephemeral)  # noqa: E731
        counter = TiktokenCounter()
        # Load the default encoding off the event loop (~0.2 s) so a GUI keeps painting; cl100k_base (GPT-4 and
        # GPT-3.5 only) loads when first needed instead of on every start.
        await asyncio.to_thread(counter.preload, ("o200k_base",))
        engine = Engine(
            settings,
            provider_factory=factory,
            store=store,
            secrets=secrets,
            clock=clock,
            rng=rng,
            save_settings=save,
            spent=spent,
            counter=counter,
        )
        app = App(engine, config_path, client, notices, sim, ephemeral, secrets)
        report = await engine.initialize_enhanced_orchestration(refresh=refresh)
        notices.extend(report.warnings)
    except BaseException:
        await store.close()
        await client.aclose()
        if sim is not None:
            sim.stop()  # type: ignore[attr-defined]
        raise
    return app
