"""Render the app icon (``autodevai/data/autodevai.svg``) into the installers' icon set under ``resources/icons``.

Owns ``resources/icons/hicolor/``: the freedesktop icon-theme layout that Linux installers copy as is —
``scalable/apps/autodevai.svg`` (a copy of the package's SVG) and ``NxN/apps/autodevai.png`` for every size in
``SIZES``, drawn by Qt's own SVG renderer (QSvgRenderer) on the offscreen platform, so no display is needed.

    python packaging/render_icons.py           write the icons
    python packaging/render_icons.py --check   exit 1 if a committed icon is missing or differs from a fresh render
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # PySide6 is imported lazily so --help works without Qt
    from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "autodevai" / "data" / "autodevai.svg"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
SIZES = (16, 32, 48, 64, 128, 256)
ICON_NAME = "autodevai"  # the desktop file's Icon= and the name installers give the files
# --check tolerates this much per-channel difference (another Qt version may round antialiasing differently).
CHANNEL_TOLERANCE = 8


def png_path(size: int) -> Path:
    """Where the ``size`` x ``size`` PNG lives: ``resources/icons/hicolor/NxN/apps/autodevai.png``."""
    return HICOLOR / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def svg_path() -> Path:
    """Where the scalable icon lives: ``resources/icons/hicolor/scalable/apps/autodevai.svg``."""
    return HICOLOR / "scalable" / "apps" / f"{ICON_NAME}.svg"


def render(size: int) -> QImage:
    """The SVG drawn into a transparent ``size`` x ``size`` ARGB image."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SOURCE} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def max_channel_difference(a: QImage, b: QImage) -> int:
    """The largest difference of one RGBA channel between two same-sized images (256 if the sizes differ)."""
    from PySide6.QtGui import QImage

    if a.size() != b.size():
        return 256
    a = a.convertToFormat(QImage.Format.Format_RGBA8888)
    b = b.convertToFormat(QImage.Format.Format_RGBA8888)
    # RGBA8888 rows are width * 4 bytes, already 4-aligned: the buffers have no padding between rows.
    pixels_a = bytes(cast(memoryview, a.constBits()))[: a.sizeInBytes()]
    pixels_b = bytes(cast(memoryview, b.constBits()))[: b.sizeInBytes()]
    if pixels_a == pixels_b:
        return 0
    return max(abs(p - q) for p, q in zip(pixels_a, pixels_b, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed icons; write nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QPainter needs one)
    problems: list[str] = []
    svg = SOURCE.read_bytes()
    if args.check:
        if not svg_path().exists() or svg_path().read_bytes() != svg:
            problems.append(f"{svg_path().relative_to(ROOT)} is not a copy of {SOURCE.relative_to(ROOT)}")
    else:
        svg_path().parent.mkdir(parents=True, exist_ok=True)
        svg_path().write_bytes(svg)
    for size in SIZES:
        image, path = render(size), png_path(size)
        if args.check:
            committed = QImage(str(path))
            if committed.isNull():
                problems.append(f"{path.relative_to(ROOT)} is missing or unreadable")
            elif (diff := max_channel_difference(image, committed)) > CHANNEL_TOLERANCE:
                problems.append(f"{path.relative_to(ROOT)} differs from a fresh render (max channel diff {diff})")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):  # the format follows the .png suffix
            raise SystemExit(f"render_icons: could not write {path}")
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check and not problems:
        print(f"icons up to date: {len(SIZES)} PNGs and the SVG match {SOURCE.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
