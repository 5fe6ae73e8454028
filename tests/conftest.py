"""Shared fixtures: every test gets its own config/data dirs and an in-memory keyring, never the user's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from autodevai.adapters.keyring_secrets import MemoryKeyring


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODEVAI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("AUTODEVAI_DATA_DIR", str(tmp_path / "data"))
    # Child processes (CLI tests) must never reach the user's real keyring either: they see "no keyring".
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for var in ("OPENROUTER_API_KEY", "OPENAI_API_KEY", "AUTODEVAI_GATEWAY_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After a run that loaded Qt, leave without the interpreter's final teardown: PySide6 with pyqtgraph can
    crash there ("shared QObject was deleted directly", then SIGSEGV) after every test passed and the summary
    was printed, which would turn a green run red. The exit status is pytest's own."""
    import os
    import sys

    if "PySide6" in sys.modules and _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[0])
