"""The README screenshot script end to end: its own Xvfb, the real window, five real pictures.

``scripts/screenshots.py --quick`` runs the demo-mode window under Xvfb (not the offscreen
platform: the preview's native video surface only draws on a real X screen). The pictures must
exist, have the window's size, not be blank, and the preview pictures must show the demo
gateway's colour bars, i.e. a decoded video frame, not a black box.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshots.py"
NAMES = (
    "composer",
    "running-jobs",
    "main-window",
    "preview",
    "failure-review",
    "gallery",
    "gallery-dark",
)
#: The demo banner's colour in the light theme (#ffc53d) and in the dark one (dark.qss).
BANNER = {"light": 0xFFC53D, "dark": 0x5C4300}
SIZE = (1280, 800)
MAX_BYTES = 300_000
#: The saturated bars of the demo test pattern (core/demo_gateway/video.py), before H.264.
BARS = {
    "yellow": (192, 192, 0),
    "cyan": (0, 192, 192),
    "green": (0, 192, 0),
    "magenta": (192, 0, 192),
    "red": (192, 0, 0),
    "blue": (0, 0, 192),
}
TOLERANCE = 48


def grid(
    image: QImage, left: float = 0.0, top: float = 0.0, step: int = 4, right: float = 1.0
) -> list[int]:
    """RGB values on a grid over the part of ``image`` between ``left`` and ``right``, below
    ``top`` (fractions of the width and height)."""
    x0, y0 = int(image.width() * left), int(image.height() * top)
    return [
        image.pixel(x, y) & 0xFFFFFF
        for y in range(y0, image.height(), step)
        for x in range(x0, int(image.width() * right), step)
    ]


def bars_seen(image: QImage, left: float = 0.68, right: float = 1.0) -> set[str]:
    """Which test-pattern bars appear in a vertical band of the window, below the banner
    (by default the detail pane: the right third)."""
    seen: set[str] = set()
    for rgb in set(grid(image, left=left, top=0.1, step=3, right=right)):
        red, green, blue = rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF
        for name, (r, g, b) in BARS.items():
            if max(abs(red - r), abs(green - g), abs(blue - b)) <= TOLERANCE:
                seen.add(name)
    return seen


def test_the_screenshot_script_photographs_the_real_window(tmp_path: Path) -> None:
    if shutil.which("Xvfb") is None:
        pytest.fail(
            "Xvfb is not installed, so the screenshots cannot be taken. Run `python3 dev.py` "
            "(its bootstrap installs the `xvfb` system package) or `sudo apt-get install xvfb`."
        )
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, f"the script failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.split() == [str(tmp_path / f"{name}.png") for name in NAMES]

    for name in NAMES:
        path = tmp_path / f"{name}.png"
        assert 0 < path.stat().st_size < MAX_BYTES, f"{name}.png is {path.stat().st_size} bytes"
        image = QImage(str(path))
        assert not image.isNull(), f"{name}.png does not load"
        assert (image.width(), image.height()) == SIZE, name
        colours = set(grid(image))
        assert len(colours) >= 12, f"{name}.png looks blank ({len(colours)} colours)"
        # The demo banner runs across the top of every picture, in the theme's colour.
        banner = BANNER["dark" if name.endswith("-dark") else "light"]
        rows = [[image.pixel(x, y) & 0xFFFFFF for x in range(0, SIZE[0], 8)] for y in range(100)]
        assert any(row.count(banner) > len(row) // 2 for row in rows), f"{name}: no banner"

    for name in ("main-window", "preview"):
        seen = bars_seen(QImage(str(tmp_path / f"{name}.png")))
        assert len(seen) >= 4, f"{name}.png shows no video frame (bars seen: {sorted(seen)})"
    for name in ("gallery", "gallery-dark"):
        # The job list sits between the composer and the preview: its cards show the clips.
        seen = bars_seen(QImage(str(tmp_path / f"{name}.png")), left=0.3, right=0.66)
        assert len(seen) >= 4, f"{name}.png shows no clip pictures (bars seen: {sorted(seen)})"
    dark, light = (QImage(str(tmp_path / f"gallery{suffix}.png")) for suffix in ("-dark", ""))
    assert dark.pixelColor(20, 400).lightness() < 80 < light.pixelColor(20, 400).lightness()
    for name in ("composer", "failure-review"):
        seen = bars_seen(QImage(str(tmp_path / f"{name}.png")))
        assert len(seen) < 3, f"{name}.png unexpectedly shows a video ({sorted(seen)})"
