"""Run something right after a window has first painted, so it does not delay that paint.

Start-up work that the window does not need to draw (polling, the model catalogue, the
costs, the older history, the keychain) starts worker threads that compete with the GUI
thread for the interpreter while the window paints. :func:`after_first_paint` holds it back
until the first paint is done (``tests/bench/bench_startup.py`` measures that paint).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: If the window is not painted by then (hidden, minimised), the work starts anyway (ms).
FALLBACK_MS = 1000


class _FirstPaint(QObject):
    """Watches one widget until its first paint, then runs ``then`` once from the event loop."""

    def __init__(self, widget: QWidget, then: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(widget)
        self._widget = widget
        self._then = then
        self._done = False
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first paint, queue ``then`` behind the rest of that paint."""
        if event.type() == QEvent.Type.Paint and not self._done:
            QTimer.singleShot(0, self, self._run)
        return False

    def _run(self) -> None:
        if self._done:
            return
        self._done = True
        self._widget.removeEventFilter(self)
        if self._widget.isVisible():  # not when it closed before painting
            self._then()


def after_first_paint(
    widget: QWidget, then: Callable[[], None], *, fallback_ms: int = FALLBACK_MS
) -> None:
    """Call ``then()`` once, right after ``widget`` first paints (or after ``fallback_ms``)."""
    _FirstPaint(widget, then, fallback_ms)
