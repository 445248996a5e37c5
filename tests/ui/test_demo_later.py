"""The window's demo gateway starts after the window shows; a failure to start is shown."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from core.context import open_context
from ui.app import start_pending_demo


def test_the_window_is_usable_once_its_demo_gateway_starts(
    tmp_path: Path, make_window: Any, qtbot: Any
) -> None:
    context = open_context(data_dir=tmp_path / "data", demo=True, defer_demo=True)
    window = make_window(context)  # its catalogue request waits for the gateway
    assert window.windowTitle().startswith("Demo mode")
    start_pending_demo(window)
    qtbot.waitUntil(lambda: window.composer.model_combo.count() > 0, timeout=10_000)
    assert context.demo is not None


def test_a_demo_gateway_that_cannot_start_is_explained_in_the_window(
    tmp_path: Path, make_window: Any, qtbot: Any
) -> None:
    context = open_context(data_dir=tmp_path / "data", demo=True, defer_demo=True)
    assert context.pending_demo is not None

    def broken(_sock: socket.socket) -> Any:
        raise OSError("no room left on the device")

    context.pending_demo._launch = broken
    window = make_window(context)
    shown: list[str] = []  # every status line: a later one may replace it before a look
    window.statusBar().messageChanged.connect(shown.append)
    start_pending_demo(window)

    def explained() -> bool:
        boxes = [box for box in window.findChildren(QMessageBox, "errorBox") if box.isVisible()]
        return any(
            "could not start" in box.text() and "no room left on the device" in box.text()
            for box in boxes
        )

    qtbot.waitUntil(explained, timeout=5_000)
    # The catalogue request did not hang: it failed at once and the window said so too.
    qtbot.waitUntil(lambda: any("model list" in line for line in shown), timeout=10_000)
