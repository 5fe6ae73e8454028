"""The verbs that show or change settings and keys: ``config show/path/set/key/provider``. None of them starts the
built-in simulator. ``config set`` and ``config provider`` open an engine to validate, save and audit through
``configure_enhanced_orchestration``, ``config key`` to store the key through ``set_api_key``: the same doors, and
the same audit entries, as the window's Configure panel. (``gateway token`` belongs to the gateway; the launcher
runs it.)
"""

from __future__ import annotations

import argparse
import getpass
import sys
import tomllib
from typing import Any

from pydantic import ValidationError

from autodevai import paths
from autodevai.cli.render import dump_json
from autodevai.cli.session import Needs, config_path, with_app
from autodevai.compose import App
from autodevai.engine import errors as E
from autodevai.engine.settings import ProviderSettings, load_settings, path_patch, settings_to_toml
from autodevai.text import validation_text

__all__ = [
    "cmd_config_key",
    "cmd_config_path",
    "cmd_config_provider",
    "cmd_config_set",
    "cmd_config_show",
]


async def cmd_config_show(args: argparse.Namespace) -> int:
    path = config_path(args)
    settings = load_settings(path)
    if args.json:
        dump_json(settings)
    else:
        print(f"# {path}")
        print(settings_to_toml(settings), end="")
    return 0


async def cmd_config_path(args: argparse.Namespace) -> int:
    info = {"config": str(config_path(args)), "data": str(paths.data_dir()), "database": str(paths.db_file())}
    if args.json:
        dump_json(info)
    else:
        for k, v in info.items():
            print(f"{k:9} {v}")
    return 0


def _parse_value(text: str) -> Any:
    """A TOML value when it parses as one (numbers, booleans, arrays, inline tables), else the plain string."""
    if text.lower() in ("none", "null", "unset"):
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


async def cmd_config_set(args: argparse.Namespace) -> int:
    patch = path_patch(args.key, _parse_value(args.value))

    async def body(app: App) -> int:
        settings = await app.engine.configure_enhanced_orchestration(patch)
        if args.json:
            dump_json(settings)
        else:
            print(f"{args.key} = {args.value}  (saved to {app.config_path})")
        return 0

    return await with_app(args, Needs.STORE, body)


def _read_key(provider: str) -> str:
    """The key from the terminal (hidden) or the first line of stdin. Raises ``InvalidRequest`` when empty."""
    hidden = f"API key for {provider} (input hidden): "
    key = (getpass.getpass(hidden) if sys.stdin.isatty() else sys.stdin.readline()).strip()
    if not key:
        raise E.InvalidRequest("no key given on stdin")
    return key


async def cmd_config_key(args: argparse.Namespace) -> int:
    """Store or delete a provider's key through the engine (``set_api_key`` / ``delete_api_key``): the OS keyring,
    and an audit entry, as the window's key field does."""
    key = None if args.delete else _read_key(args.provider)

    async def body(app: App) -> int:
        engine = app.engine
        if key is None:
            await engine.delete_api_key(args.provider)
            if args.json:
                dump_json({"provider": args.provider, "deleted": True})
            else:
                print(f"deleted the key of {args.provider} from the keyring")
            return 0
        await engine.set_api_key(args.provider, key)
        if args.json:
            dump_json({"provider": args.provider, "stored_in": engine.secrets_backend()})
        else:
            print(f"stored the key of {args.provider} in {engine.secrets_backend()}")
        return 0

    return await with_app(args, Needs.STORE, body)


def _provider(args: argparse.Namespace) -> ProviderSettings:
    """The provider ``config provider add`` describes. Raises ``ConfigError`` naming the bad option."""
    if not args.base_url:
        raise E.ConfigError("`config provider add` needs --base-url")
    try:
        return ProviderSettings(name=args.name, kind=args.kind, base_url=args.base_url, api_key_env=args.api_key_env)
    except ValidationError as exc:
        raise E.ConfigError(f"provider {args.name!r}: {validation_text(exc)[0]}") from None


async def cmd_config_provider(args: argparse.Namespace) -> int:
    """Add or remove a provider through ``configure_enhanced_orchestration`` (validated, saved, audited as
    ``settings.changed``), as the window's Providers tab does."""
    path = config_path(args)
    configured = load_settings(path).providers  # the file's providers: never one this run added by itself
    providers = [p for p in configured if p.name != args.name]
    if args.action == "add":
        providers.append(_provider(args))
    elif len(providers) == len(configured):
        names = [p.name for p in configured]
        raise E.ConfigError(f"no provider named {args.name!r}", field=args.name, valid=names)

    async def body(app: App) -> int:
        # With no provider configured, an OpenRouter key makes the app add "openrouter" by itself, unsaved; a
        # provider of that name the user adds now must be saved.
        app.ephemeral.discard(args.name)
        await app.engine.configure_enhanced_orchestration({"providers": [p.model_dump(mode="json") for p in providers]})
        done = "added" if args.action == "add" else "removed"
        if args.json:
            dump_json({"provider": args.name, "action": done, "config": str(path)})
        else:
            print(f"{done} provider {args.name} in {path}")
        return 0

    return await with_app(args, Needs.STORE, body)
