"""Where files go: env overrides for tests and portable installs, platformdirs otherwise, private dirs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs
import pytest

from autodevai import paths


def test_env_vars_move_config_and_data(tmp_path: Path) -> None:
    # conftest points both variables into tmp_path
    assert paths.config_dir() == tmp_path / "config"
    assert paths.data_dir() == tmp_path / "data"
    assert paths.config_file() == tmp_path / "config" / "config.toml"
    assert paths.db_file() == tmp_path / "data" / "autodevai.db"


def test_platform_dirs_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTODEVAI_CONFIG_DIR")
    monkeypatch.setenv("AUTODEVAI_DATA_DIR", "")  # empty means unset
    assert paths.config_dir() == platformdirs.user_config_path("autodevai", appauthor=False)
    assert paths.data_dir() == platformdirs.user_data_path("autodevai", appauthor=False)
    assert paths.config_dir().name == "autodevai"


def test_ensure_dirs_creates_private_dirs(tmp_path: Path) -> None:
    assert not paths.config_dir().exists()
    paths.ensure_dirs()
    paths.ensure_dirs()  # twice is fine
    for d in (paths.config_dir(), paths.data_dir()):
        assert d.is_dir()
        if os.name == "posix":
            assert stat.S_IMODE(d.stat().st_mode) == 0o700
