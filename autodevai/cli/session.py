"""Opening an engine for one CLI verb, and what each verb may start.

Three kinds of verbs (the list is in ``autodevai --help``'s epilog too):

- no engine at all: ``config show/path/key/provider``, ``gateway token``, ``sim`` (its own server), any ``--help``;
- an engine with no simulator (``Needs.STORE``): ``context`` (it only counts and fits tokens), ``metrics`` (history
  from the store), ``config set``, every ``conversations`` action (list, show, search, export, import, delete,
  ...). A configured provider, or an OpenRouter key, still loads with its cached catalog, but nothing is asked
  over the network and the built-in simulator is never started;
- an engine that talks to models (``Needs.MODELS``): ``run`` (in a conversation too), ``chat``, ``route``
  (``--dry-run`` too: the choice is made over the catalog, which the simulator serves when nothing else is
  configured), ``models``, ``status``, ``test``, ``init``, ``advise`` (it compares catalog models),
  ``capabilities``, ``workflow``, ``swarm``, ``serve``. With no provider and no key these start the built-in
  simulator and say so on stderr.

A one-off ``--base-url`` provider (``upstream.one_off_provider``) joins the configured ones for the call.
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from autodevai import paths
from autodevai.cli.upstream import one_off_provider
from autodevai.compose import App, open_engine
from autodevai.engine.errors import ProviderUnavailable
from autodevai.engine.settings import ProviderSettings, Settings, load_settings

__all__ = ["Needs", "Upstream", "config_path", "one_off", "open_app", "with_app"]


class Needs(enum.Enum):
    STORE = "store"  # settings, store, tokenizer, cached catalog: no simulator, no network
    MODELS = "models"  # providers (the simulator when none is configured)


def config_path(args: argparse.Namespace) -> Path:
    """The settings file: ``--config`` (before or after the verb), else the default one."""
    path: Path | None = getattr(args, "config", None)
    return path or paths.config_file()


def one_off(args: argparse.Namespace) -> tuple[ProviderSettings | None, Settings | None]:
    """The ``--base-url`` provider of this call (named by host, unique among the configured providers) and the
    settings read to check that name, or (None, None) without ``--base-url``. Raises ``ConfigError``."""
    if not getattr(args, "base_url", None):
        one_off_provider(args)  # refuses --api-key-env alone
        return None, None
    settings = load_settings(config_path(args))
    return one_off_provider(args, {p.name for p in settings.providers}), settings


Upstream = tuple[ProviderSettings | None, Settings | None]


async def open_app(
    args: argparse.Namespace, needs: Needs, *, refresh: str = "background", upstream: Upstream | None = None
) -> App:
    """An initialized ``App`` for a verb; its notices (simulator started, catalog warnings) go to stderr.
    ``upstream`` is ``one_off(args)`` when the caller has it already."""
    extra, settings = upstream if upstream is not None else one_off(args)
    if needs is Needs.STORE:
        refresh = "never"
    elif extra is not None:
        refresh = "wait"  # a one-off server has no cached catalog worth starting from
    app = await open_engine(
        getattr(args, "config", None),
        settings=settings,
        extra_providers=[extra] if extra else None,
        refresh=refresh,
        auto_simulator=needs is Needs.MODELS,
    )
    for notice in app.notices:
        print(notice, file=sys.stderr)
    if extra is not None and needs is Needs.MODELS:
        try:
            await _check_listed(app, extra)
        except BaseException:
            await app.aclose()
            raise
    return app


async def _check_listed(app: App, provider: ProviderSettings) -> None:
    """A one-off server that listed no model can answer nothing (routing picks from the catalog): say which
    server it was now, rather than "unknown model" or "the catalog is empty" later."""
    if not await app.engine.get_openrouter_models(provider=provider.name, limit=1):
        raise ProviderUnavailable(
            f"{provider.name} ({provider.base_url}) offers no model: it could not be reached, or its "
            "/models list is empty",
            provider=provider.name,
            hint="check that the server is running at that URL (and --kind, --api-key-env), then try again",
        )


async def with_app(
    args: argparse.Namespace,
    needs: Needs,
    body: Callable[[App], Awaitable[int]],
    *,
    refresh: str = "background",
    upstream: Upstream | None = None,
) -> int:
    """Run ``body`` with an app opened for ``args`` and close the app afterwards, whatever happens."""
    app = await open_app(args, needs, refresh=refresh, upstream=upstream)
    try:
        return await body(app)
    finally:
        await app.aclose()
