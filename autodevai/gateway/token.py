"""The gateway's bearer token: where it comes from, and how it is created the first time.

The token is a local secret shared by the gateway and the tools that call it (not a provider's API key). In order:

1. ``AUTODEVAI_GATEWAY_TOKEN`` wins when set (CI, containers, several machines sharing one value);
2. the OS keyring's (service ``autodevai``, username ``gateway-token``);
3. the token file ``gateway-token`` in the config dir (``paths.config_dir()``; ``AUTODEVAI_CONFIG_DIR`` moves it);
4. else a new ``secrets.token_urlsafe(32)``, kept in the keyring, or — when there is no keyring, or it refuses to
   store — in the token file, so ``autodevai serve`` and ``autodevai gateway token`` work out of the box.

The file is created with ``os.open(O_CREAT | O_EXCL | O_WRONLY, 0o600)``: readable and writable by its owner only
from its first byte, never briefly world-readable, and never overwritten (two processes starting at once agree on
the first one's token). An existing file that group or others may read or write (any of mode 0o077), that another
user owns, or that holds no usable token is refused with a ``ConfigError`` saying how to fix it; on Windows, where
modes mean little, the file inherits the per-user config dir's ACL. Provider keys never touch a file: only this
token does. The token never appears in an error message; every value returned is registered with
``errors.register_secret`` so logs redact it.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from secrets import token_urlsafe

from autodevai import paths
from autodevai.engine.errors import ConfigError, register_secret
from autodevai.engine.ports import SecretStore

__all__ = ["ENV_VAR", "FILE_NAME", "KEYRING_USERNAME", "MIN_LENGTH", "get_or_create_token", "token_file"]

ENV_VAR = "AUTODEVAI_GATEWAY_TOKEN"
KEYRING_USERNAME = "gateway-token"  # under the keyring service "autodevai", beside the providers' keys
FILE_NAME = "gateway-token"  # in the config dir, when there is no keyring
MIN_LENGTH = 8  # shorter tokens are guessable, and redaction ignores very short strings
_MAX_FILE_BYTES = 4096
_PRIVATE = 0o600
_RACE_WAIT_S = 0.5  # a file another process has just created may still be empty: wait this long for its token


def token_file() -> Path:
    """Where the token is kept when there is no keyring: ``config_dir()/gateway-token`` (it may not exist)."""
    return paths.config_dir() / FILE_NAME


def _refuse(path: Path, what: str, fix: str) -> ConfigError:
    return ConfigError(f"the gateway token file {path} {what}", hint=f"{fix}, or set {ENV_VAR} instead")


def _read_file(path: Path) -> str | None:
    """The token in ``path``; None when there is no file, "" when it is (still) empty. Raises ``ConfigError``
    when the file is not private to this user or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror or exc})", "fix its permissions") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())  # the opened file itself: no window between the check and the read
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, "is not a regular file", "remove it")
        if os.name == "posix":
            if st.st_mode & 0o077:
                mode = stat.S_IMODE(st.st_mode)
                raise _refuse(
                    path,
                    f"may be read or changed by other users (mode {mode:04o}, expected 0600)",
                    f"run `chmod 600 {path}`, or delete the file to get a new token (do, if others may have read it)",
                )
            if hasattr(os, "getuid") and st.st_uid != os.getuid():
                raise _refuse(path, "belongs to another user", "delete it so a new one is created")
        data = fh.read(_MAX_FILE_BYTES + 1)
    if len(data) > _MAX_FILE_BYTES:
        raise _refuse(path, "is too large to hold a token", "delete it so a new one is created")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _refuse(path, "does not hold a text token", "delete it so a new one is created") from None


def _read_token(path: Path) -> str | None:
    """The token file's token, waiting briefly for one that another process is writing right now."""
    deadline = time.monotonic() + _RACE_WAIT_S
    while True:
        token = _read_file(path)
        if token is None or len(token) >= MIN_LENGTH:
            return token
        if time.monotonic() >= deadline:
            raise _refuse(path, "is empty or holds too short a token", "delete it so a new one is created")
        time.sleep(0.02)


def _create_file(path: Path, token: str) -> str:
    """Write ``token`` to a new file at ``path`` (mode 0600 from the start); if another process created the file
    first, its token is the one to use. Raises ``ConfigError`` when the file cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # FileExistsError here means a file sits where the directory should be
        raise _refuse(path, f"cannot be created ({exc.strerror or exc})", "make the config dir writable") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), _PRIVATE)
    except FileExistsError:
        theirs = _read_token(path)
        if theirs is None:  # created and removed again in between: extremely unlikely; do not loop
            raise _refuse(path, "appeared and vanished while being created", "try again") from None
        register_secret(theirs)
        return theirs
    except OSError as exc:
        raise _refuse(path, f"cannot be created ({exc.strerror or exc})", "make the config dir writable") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(token.encode("ascii") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise _refuse(path, f"cannot be written ({exc.strerror or exc})", "free disk space") from None
    return token


def get_or_create_token(secrets: SecretStore, path: Path | None = None) -> str:
    """The gateway token: ``AUTODEVAI_GATEWAY_TOKEN``, else the keyring's, else the token file's (``path``,
    default ``token_file()``), else a new one kept in the keyring or, without a usable keyring, in that file.

    ``secrets`` is the app's ``SecretStore`` (``compose.secret_store()``: the keyring). Raises ``ConfigError``
    when the variable holds a token that is too short, or the token file is not private to this user, unreadable
    or cannot be created.
    """
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        if len(from_env) < MIN_LENGTH:
            raise ConfigError(
                f"{ENV_VAR} is too short ({len(from_env)} characters; at least {MIN_LENGTH} are needed)",
                hint=f"set {ENV_VAR} to a long random string, or unset it to use a generated token",
            )
        register_secret(from_env)
        return from_env
    # With no env var mapping for this name, the store reads the keyring only.
    stored = secrets.get(KEYRING_USERNAME)
    if stored:
        register_secret(stored)
        return stored
    path = path or token_file()
    from_file = _read_token(path)
    if from_file:
        register_secret(from_file)
        return from_file
    token = token_urlsafe(32)
    register_secret(token)  # before the keyring sees it: whatever a backend error says, the token is redacted
    try:
        secrets.set(KEYRING_USERNAME, token)
    except ConfigError:  # no usable keyring, or it refused: the private file keeps the token instead
        return _create_file(path, token)
    return token
