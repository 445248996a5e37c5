"""The start-up frame: shown at once where the main window was, then handed over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel, QMainWindow

from core.paths import resolve_paths
from core.settings import Settings, save_settings
from ui.startup_frame import StartupFrame


def test_the_frame_opens_where_the_main_window_was_and_goes_away(
    tmp_path: Path, qtbot: Any
) -> None:
    paths = resolve_paths(tmp_path / "data").ensure()
    earlier = QMainWindow()
    qtbot.addWidget(earlier)
    earlier.resize(640, 480)  # inside the offscreen 800x600 screen
    earlier.show()
    qtbot.waitExposed(earlier)
    geometry = bytes(earlier.saveGeometry().toBase64().data()).decode("ascii")
    earlier.close()
    save_settings(paths.settings, Settings(window={"geometry": geometry}))

    frame = StartupFrame.show_now(paths)
    qtbot.addWidget(frame)
    assert frame.isVisible()
    assert frame.windowTitle() == "Reelgate"
    assert frame.size() == earlier.size()
    message = frame.findChild(QLabel, "startupMessage")
    assert message is not None and "Opening" in message.text()
    frame.hand_over()
    assert not frame.isVisible()


def test_without_saved_geometry_the_frame_has_the_first_run_size(
    tmp_path: Path, qtbot: Any
) -> None:
    frame = StartupFrame.show_now(resolve_paths(tmp_path / "data").ensure())
    qtbot.addWidget(frame)
    assert (frame.width(), frame.height()) == (1360, 820)
    frame.hand_over()
