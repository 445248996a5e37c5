"""Locate Reelgate's bundled resource files, from source or from a PyInstaller bundle.

This module is deliberately Qt-free so it can be imported by packaging scripts and tests
without a GUI. In a PyInstaller bundle the resources are expected under
``<sys._MEIPASS>/resources`` (i.e. added with ``--add-data "resources:resources"`` or the
equivalent ``datas`` entry in the spec file).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = [
    "APP_ID",
    "ICON_SIZES",
    "RESOURCES_DIR",
    "icon_path",
    "stylesheet_path",
]

APP_ID = "app.phaseo.Reelgate"
"""Reverse-DNS application id; names the themed icon files and the Linux metadata files."""

ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
"""Pixel sizes for which a PNG exists under ``icons/hicolor`` (see ``scripts/make_icons.py``)."""


def _resources_dir() -> Path:
    """Return the directory holding Reelgate's resources for the running interpreter.

    Inside a PyInstaller bundle ``sys._MEIPASS`` is the unpacked bundle root and the files
    live in its ``resources`` sub-directory; otherwise it is the directory of this module.
    """
    bundle_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and isinstance(bundle_root, str):
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parent


RESOURCES_DIR: Path = _resources_dir()
"""Absolute path of the resources directory (source checkout or PyInstaller bundle)."""


def icon_path(size: int | None = None) -> Path:
    """Return the path of the application icon.

    Args:
        size: Edge length in pixels of a pre-rendered PNG (one of :data:`ICON_SIZES`), or
            ``None`` for the scalable SVG.

    Returns:
        The icon file's path. Existence is not checked.

    Raises:
        ValueError: If ``size`` is not one of :data:`ICON_SIZES`.
    """
    icons = RESOURCES_DIR / "icons"
    if size is None:
        return icons / "reelgate.svg"
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; available sizes: {ICON_SIZES}")
    return icons / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def stylesheet_path() -> Path:
    """Return the path of the application's Qt stylesheet (``styles/app.qss``)."""
    return RESOURCES_DIR / "styles" / "app.qss"
