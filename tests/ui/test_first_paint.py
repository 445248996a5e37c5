"""Start-up work held back until the window has painted."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QMainWindow

from ui.first_paint import after_first_paint


def test_the_work_starts_right_after_the_window_first_paints(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("jobs"))
    painted_first: list[bool] = []
    after_first_paint(window, lambda: painted_first.append(window.isVisible()))
    window.show()
    assert painted_first == []  # not while the window is still being shown
    qtbot.waitUntil(lambda: painted_first == [True], timeout=2000)
    window.update()
    qtbot.wait(100)
    assert painted_first == [True]  # once only, not on every paint


def test_a_window_closed_before_it_painted_starts_nothing(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    started: list[int] = []
    after_first_paint(window, lambda: started.append(1), fallback_ms=50)
    window.show()
    window.close()
    qtbot.wait(300)
    assert started == []


def test_a_window_that_never_paints_still_starts_its_work(qtbot: Any) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setUpdatesEnabled(False)  # shown, but nothing is painted (as when minimised)
    started: list[int] = []
    after_first_paint(window, lambda: started.append(1), fallback_ms=50)
    window.show()
    qtbot.waitUntil(lambda: started == [1], timeout=2000)
