"""The verbs that change settings, keys and the gateway token: ``config show/path/set/key/provider`` and
``gateway token``. None of them starts the built-in simulator; only ``config set`` opens an engine (to validate
and save through ``configure_enhanced_orchestration``), without providers talking to anyone.
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
from autodevai.compose import App, save_settings_file
from autodevai.engine import errors as E
from autodevai.engine.settings import ProviderSettings, load_settings, path_patch, settings_to_toml

__all__ = [
    "cmd_config_key",
    "cmd_config_path",
    "cmd_config_provider",
    "cmd_config_set",
    "cmd_config_show",
    "cmd_gateway_token",
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


async def cmd_config_key(args: argparse.Namespace) -> int:
    from autodevai.adapters.keyring_secrets import KeyringSecrets

    secrets = KeyringSecrets()
    if args.delete:
        secrets.delete(args.provider)
        if args.json:
            dump_json({"provider": args.provider, "deleted": True})
        else:
            print(f"deleted the key of {args.provider} from the keyring")
        return 0
    if sys.stdin.isatty():
        key = getpass.getpass(f"API key for {args.provider} (input hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise E.InvalidRequest("no key given on stdin")
    secrets.set(args.provider, key)
    if args.json:
        dump_json({"provider": args.provider, "stored_in": secrets.describe()})
    else:
        print(f"stored the key of {args.provider} in {secrets.describe()}")
    return 0


async def cmd_config_provider(args: argparse.Namespace) -> int:
    path = config_path(args)
    settings = load_settings(path)
    providers = [p for p in settings.providers if p.name != args.name]
    if args.action == "add":
        if not args.base_url:
            raise E.ConfigError("`config provider add` needs --base-url")
        try:
            providers.append(
                ProviderSettings(name=args.name, kind=args.kind, base_url=args.base_url, api_key_env=args.api_key_env)
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise E.ConfigError(f"provider {args.name!r}: {err['loc'][0]}: {err['msg']}") from None
    elif len(providers) == len(settings.providers):
        names = [p.name for p in settings.providers]
        raise E.ConfigError(f"no provider named {args.name!r}", field=args.name, valid=names)
    save_settings_file(path, settings.model_copy(update={"providers": providers}))
    done = "added" if args.action == "add" else "removed"
    if args.json:
        dump_json({"provider": args.name, "action": done, "config": str(path)})
    else:
        print(f"{done} provider {args.name} in {path}")
    return 0


async def cmd_gateway_token(args: argparse.Namespace) -> int:
    """Print the gateway token (created on first use: in the keyring, else in a private file)."""
    from autodevai.adapters.keyring_secrets import KeyringSecrets
    from autodevai.gateway.token import get_or_create_token

    token = get_or_create_token(KeyringSecrets())
    if args.json:
        dump_json({"token": token})
    else:
        print(token)
    return 0
