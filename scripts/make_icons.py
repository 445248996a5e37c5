#!/usr/bin/env python3
"""Regenerate Reelgate's raster icons from the scalable source icon.

Reads ``resources/icons/reelgate.svg`` and writes:

* ``resources/icons/hicolor/<N>x<N>/apps/app.phaseo.Reelgate.png`` for every size in
  :data:`PNG_SIZES` (freedesktop icon-theme layout, used by Linux packaging),
* ``resources/icons/hicolor/scalable/apps/app.phaseo.Reelgate.svg`` (a byte copy of the source),
* ``resources/icons/reelgate.ico`` (Windows; PNG-compressed entries for :data:`ICO_SIZES`),
* ``resources/icons/reelgate.icns`` (macOS; PNG-payload entries, see :data:`ICNS_TYPES`).

The SVG is rendered with Qt (``QSvgRenderer`` into a transparent premultiplied-ARGB
``QImage``) on the offscreen platform, so no display is needed. The ICO and ICNS containers
are assembled here with :mod:`struct`; no extra imaging library is required.

Usage::

    .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "app.phaseo.Reelgate"
"""Reverse-DNS application id; the icon-theme file name is ``<APP_ID>.png``."""

ROOT = Path(__file__).resolve().parent.parent
"""Repository root."""

ICONS_DIR = ROOT / "resources" / "icons"
"""Directory holding the source SVG and all generated icons."""

SOURCE_SVG = ICONS_DIR / "reelgate.svg"
"""The hand-written scalable icon every raster is rendered from."""

PNG_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
"""Pixel sizes written into the hicolor theme tree."""

ICO_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)
"""Pixel sizes stored in the Windows ``.ico`` (256 is the largest the format allows)."""

ICNS_TYPES: tuple[tuple[bytes, int], ...] = (
    (b"ic11", 32),  # 16x16@2x
    (b"ic12", 64),  # 32x32@2x
    (b"ic07", 128),  # 128x128
    (b"ic13", 256),  # 128x128@2x
    (b"ic08", 256),  # 256x256
    (b"ic14", 512),  # 256x256@2x
    (b"ic09", 512),  # 512x512
)
"""ICNS element types (all of which accept PNG payloads) and their pixel sizes."""


def render_image(renderer: QSvgRenderer, size: int) -> QImage:
    """Render the loaded SVG into a ``size`` x ``size`` transparent image.

    Args:
        renderer: A renderer with a valid SVG document loaded.
        size: Edge length of the square output image, in pixels.

    Returns:
        A premultiplied-ARGB image with the icon drawn over a transparent background.
    """
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        renderer.render(painter)
    finally:
        painter.end()
    return image


def save_png(image: QImage, target: Path) -> bytes:
    """Save ``image`` as a PNG file at ``target`` and return the file's bytes.

    Args:
        image: The image to encode.
        target: Destination path; its parent directories are created if missing.

    Returns:
        The PNG-encoded bytes that were written.

    Raises:
        RuntimeError: If Qt fails to write the file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target)):  # format inferred from the ".png" suffix
        raise RuntimeError(f"Qt could not write {target}")
    return target.read_bytes()


def build_ico(pngs: Mapping[int, bytes], sizes: Iterable[int]) -> bytes:
    """Assemble a Windows ICO file whose entries are PNG-compressed images.

    The layout is an ``ICONDIR`` header, one 16-byte ``ICONDIRENTRY`` per image and then
    the PNG payloads back to back. A width or height of 256 is stored as ``0``.

    Args:
        pngs: PNG bytes keyed by pixel size.
        sizes: The sizes to include, in the order they should be listed.

    Returns:
        The complete ``.ico`` file contents.
    """
    chosen = list(sizes)
    header = struct.pack("<HHH", 0, 1, len(chosen))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(chosen)
    entries = bytearray()
    payload = bytearray()
    for size in chosen:
        if not 1 <= size <= 256:
            raise ValueError(f"ICO entries must be 1..256 px, got {size}")
        data = pngs[size]
        dim = 0 if size == 256 else size
        # width, height, palette colours, reserved, colour planes, bits per pixel, size, offset
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        payload += data
        offset += len(data)
    return header + bytes(entries) + bytes(payload)


def build_icns(pngs: Mapping[int, bytes], types: Iterable[tuple[bytes, int]]) -> bytes:
    """Assemble a macOS ICNS file whose elements carry PNG payloads.

    Each element is a 4-byte type code, a big-endian 32-bit length (including its own
    8-byte header) and the PNG data; the file starts with ``icns`` and the total length.

    Args:
        pngs: PNG bytes keyed by pixel size.
        types: ``(type code, pixel size)`` pairs to include, in file order.

    Returns:
        The complete ``.icns`` file contents.
    """
    body = bytearray()
    for code, size in types:
        if len(code) != 4:
            raise ValueError(f"ICNS type codes are 4 bytes, got {code!r}")
        data = pngs[size]
        body += code + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(body)) + bytes(body)


def main() -> int:
    """Render every icon size and write all outputs under ``resources/icons``.

    Returns:
        Process exit status: ``0`` on success, ``1`` if the SVG could not be loaded or a
        container needs a size that is not rendered.
    """
    # Keep a GUI application alive while painting (QPainter/QImage text and font support).
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE_SVG))
    if not renderer.isValid():
        print(f"error: cannot load {SOURCE_SVG}", file=sys.stderr)
        return 1

    # The ICO and ICNS entries reuse the hicolor PNGs, so every size they need must be there.
    missing = (set(ICO_SIZES) | {size for _, size in ICNS_TYPES}) - set(PNG_SIZES)
    if missing:
        print(f"error: sizes {sorted(missing)} are not in PNG_SIZES", file=sys.stderr)
        return 1

    written: list[Path] = []
    pngs: dict[int, bytes] = {}
    hicolor = ICONS_DIR / "hicolor"
    for size in PNG_SIZES:
        target = hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        pngs[size] = save_png(render_image(renderer, size), target)
        written.append(target)

    scalable = hicolor / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE_SVG, scalable)
    written.append(scalable)

    ico = ICONS_DIR / "reelgate.ico"
    ico.write_bytes(build_ico(pngs, ICO_SIZES))
    written.append(ico)

    icns = ICONS_DIR / "reelgate.icns"
    icns.write_bytes(build_icns(pngs, ICNS_TYPES))
    written.append(icns)

    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
