"""The packaging files agree with the package and with each other (a fast check; no PyInstaller build).

Covers ``packaging/autodevai.spec`` (read with ``ast``, never executed), ``resources/autodevai.desktop``, the icon
set under ``resources/icons/hicolor`` and the ``packaging/*.sh`` scripts' command lines. The build itself is
exercised by ``packaging/smoke.sh``.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import zlib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "autodevai.spec"
DESKTOP = ROOT / "resources" / "autodevai.desktop"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
PACKAGE_SVG = ROOT / "autodevai" / "data" / "autodevai.svg"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def spec_constants() -> dict[str, Any]:
    """The spec's literal top-level assignments (DATA_FILES, HIDDEN_PACKAGES, EXCLUDES, APP_NAME, ...)."""
    found: dict[str, Any] = {}
    for node in ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal (paths built from SPECPATH, Analysis(...), ...)
    return found


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)  # strict: a duplicated key is an error
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive in the spec
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def png_info(path: Path) -> tuple[int, int, int, bytes]:
    """(width, height, colour type, RGBA of the top-left pixel) of an 8-bit RGBA PNG, with the stdlib only."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert data[12:16] == b"IHDR" and depth == 8
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    # Byte 0 is row 0's filter type; every PNG filter leaves the first pixel of the first row unchanged
    # (its left, upper and upper-left neighbours count as zero), so bytes 1..4 are that pixel as stored.
    return width, height, colour, raw[1:5]


# ---- the spec -------------------------------------------------------------------------------------------------


def test_spec_bundles_every_package_data_file_at_the_path_importlib_resources_reads() -> None:
    data_files: list[tuple[str, str]] = spec_constants()["DATA_FILES"]
    shipped = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "autodevai" / "data").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert any(f.endswith(".tiktoken") for f in shipped) and "autodevai/data/autodevai.svg" in shipped
    for pattern, dest in data_files:
        assert fnmatch.filter(shipped, pattern), f"{pattern} matches no file: the build would miss it"
        # Same folder inside the bundle as in the package, or importlib.resources.files("autodevai") misses it.
        assert dest == pattern.rsplit("/", 1)[0]
    missed = [f for f in shipped if not any(fnmatch.fnmatch(f, pattern) for pattern, _ in data_files)]
    assert missed == [], f"package data the frozen app would lack: {missed}"
    # The same files a wheel ships (pyproject's package-data), so pip and PyInstaller installs agree.
    package_data = pyproject()["tool"]["setuptools"]["package-data"]["autodevai"]
    for pattern, _ in data_files:
        directory = pattern.removeprefix("autodevai/").rsplit("/", 1)[0]
        assert f"{directory}/*" in package_data


def test_spec_runs_the_same_entry_point_as_the_installed_command() -> None:
    constants = spec_constants()
    scripts = pyproject()["project"]["scripts"]
    assert scripts == {constants["APP_NAME"]: "autodevai.launch:main"}  # the launcher above the three faces
    assert '"autodevai" / "__main__.py"' in SPEC.read_text(encoding="utf-8")
    main_source = (ROOT / "autodevai" / "__main__.py").read_text(encoding="utf-8")
    assert "from autodevai.launch import main" in main_source and "raise SystemExit(main())" in main_source


def test_every_module_imported_by_name_at_run_time_is_collected() -> None:
    import importlib.util

    from autodevai.gui.panels import PANELS

    constants = spec_constants()
    packages: list[str] = constants["HIDDEN_PACKAGES"]
    for name in constants["HIDDEN_MODULES"]:
        assert importlib.util.find_spec(name) is not None, f"hidden import {name} does not exist"
    for name in packages:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations is not None, f"{name} is not a package"
    lazily_imported = [target.partition(":")[0] for _, target in PANELS] + ["autodevai.engine.compression"]
    for module in lazily_imported:
        assert any(module == p or module.startswith(p + ".") for p in packages), f"{module} would be left out"
    assert {"qasync", "PySide6.QtSvg"} <= set(constants["HIDDEN_MODULES"])
    assert {"keyring.backends", "tiktoken_ext"} <= set(packages)


def test_excluded_modules_are_never_imported_by_the_app() -> None:
    excluded = set(spec_constants()["EXCLUDES"])
    imported: dict[str, str] = {}
    for path in (ROOT / "autodevai").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                imported.setdefault(name.split(".")[0], path.relative_to(ROOT).as_posix())
    clashes = {name: where for name, where in imported.items() if name in excluded}
    assert clashes == {}, f"the spec excludes modules the app imports: {clashes}"
    assert {"PySide6", "qasync", "pyqtgraph", "keyring", "tiktoken"} <= imported.keys()


# ---- desktop entry and icons ----------------------------------------------------------------------------------


def test_desktop_entry_launches_the_command_with_the_shipped_icon() -> None:
    assert DESKTOP.read_text(encoding="utf-8").startswith("[Desktop Entry]\n")
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "AutoDevAI" and entry["Comment"]
    assert entry["Exec"] == spec_constants()["APP_NAME"] == "autodevai"
    assert entry["Terminal"] == "false"
    assert entry["Categories"] == "Development;Utility;"
    icon = entry["Icon"]
    assert icon == "autodevai" and "/" not in icon  # a theme name, resolved in hicolor
    assert (HICOLOR / "scalable" / "apps" / f"{icon}.svg").is_file()
    for size in ICON_SIZES:
        assert (HICOLOR / f"{size}x{size}" / "apps" / f"{icon}.png").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_icon_is_a_transparent_cornered_rgba_render_of_its_size(size: int) -> None:
    width, height, colour, corner = png_info(HICOLOR / f"{size}x{size}" / "apps" / "autodevai.png")
    assert (width, height) == (size, size)
    assert colour == 6  # RGBA: the rounded corners must stay transparent on any panel colour
    assert corner[3] == 0


def test_icons_are_the_app_svg_and_up_to_date_renders_of_it() -> None:
    assert (HICOLOR / "scalable" / "apps" / "autodevai.svg").read_bytes() == PACKAGE_SVG.read_bytes()
    # Windows and macOS builds convert this PNG to .ico/.icns (the spec's EXE icon).
    assert 'ICON_PNG = ROOT / "resources" / "icons" / "hicolor" / "256x256"' in SPEC.read_text("utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "render_icons.py"), "--check"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, f"re-run packaging/render_icons.py: {result.stderr}"
    assert "icons up to date: 6 PNGs" in result.stdout


# ---- the scripts' command lines -------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="bash scripts")
@pytest.mark.parametrize("script", ["build.sh", "smoke.sh"])
def test_script_is_executable_parses_and_rejects_unknown_options(script: str) -> None:
    path = ROOT / "packaging" / script
    assert os.access(path, os.X_OK), f"chmod +x packaging/{script}"
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30).returncode == 0
    shown = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and "--onefile" in shown.stdout
    wrong = subprocess.run([str(path), "--bogus"], capture_output=True, text=True, timeout=30)
    assert wrong.returncode == 2 and "unknown option --bogus" in wrong.stderr
