"""Where AutoDevAI keeps its files: the config dir (config.toml) and the data dir (the SQLite database).

Both come from platformdirs (appname ``autodevai``) and can be moved with the environment variables
``AUTODEVAI_CONFIG_DIR`` and ``AUTODEVAI_DATA_DIR`` (tests set them so no test touches the user's files).
Nothing here creates a directory except ``ensure_dirs``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "CONFIG_DIR_ENV",
    "DATA_DIR_ENV",
    "config_dir",
    "config_file",
    "data_dir",
    "db_file",
    "ensure_dirs",
]

APP_NAME = "autodevai"
CONFIG_DIR_ENV = "AUTODEVAI_CONFIG_DIR"
DATA_DIR_ENV = "AUTODEVAI_DATA_DIR"


def _from_env(var: str) -> Path | None:
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """The directory of ``config.toml``: ``$AUTODEVAI_CONFIG_DIR`` or the platform's user config dir."""
    return _from_env(CONFIG_DIR_ENV) or platformdirs.user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    """The directory of the database: ``$AUTODEVAI_DATA_DIR`` or the platform's user data dir."""
    return _from_env(DATA_DIR_ENV) or platformdirs.user_data_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    """The settings file, ``config_dir()/config.toml`` (it may not exist yet)."""
    return config_dir() / "config.toml"


def db_file() -> Path:
    """The SQLite database, ``data_dir()/autodevai.db`` (it may not exist yet)."""
    return data_dir() / "autodevai.db"


def _make_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        # mkdir's mode is filtered by the umask, and an existing dir keeps its mode: set it explicitly.
        # Prompts, answers and the audit log live here; other local users have no business reading them.
        path.chmod(0o700)


def ensure_dirs() -> None:
    """Create the config and data dirs (mode 0700 on POSIX). Raises ``OSError`` if that is impossible."""
    _make_private_dir(config_dir())
    _make_private_dir(data_dir())
