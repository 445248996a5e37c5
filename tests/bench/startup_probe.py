"""Start-up probe: run a window the way the app (or a bare PySide6 program) does; time it.

    python startup_probe.py bare              a QApplication and an empty QMainWindow
    python startup_probe.py app ARGS...       ``main.main(ARGS)``, exactly as ``main.py`` runs

Prints ``exposed <time.monotonic()>`` when the first main window (any ``QMainWindow``: the
app shows a start-up frame first) is exposed, ``window <time>`` when the app's own main
window (``mainWindow``) is, and ``table <time>`` when the job table (``jobsTable``) first
paints with rows in it. It ends at the first expose, or with ``BENCH_WAIT_WINDOW=1`` at the
main window, or with ``BENCH_WAIT_TABLE=1`` at the table. With ``BENCH_AFTER_TABLE=
module:function`` it then calls ``function(main_window)``, which must end the process.

The probe hooks ``QMainWindow.__init__`` to put a small event filter on each main window
(and later on the table's viewport), so Python runs only for those windows' own events, the
same for both programs; an application-wide filter ran Python for every event and cost the
app, with more widgets, 30 ms more than the bare window. Only ``os``, ``sys`` and ``time``
are imported before the measured code, plus ``PySide6.QtWidgets`` (which both import first
anyway).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def _install_probe() -> None:
    """Watch every ``QMainWindow`` made from now on for its first paint (and the table's)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow, QTableView

    wait_table = os.environ.get("BENCH_WAIT_TABLE") == "1"
    wait_window = os.environ.get("BENCH_WAIT_WINDOW") == "1"
    after = os.environ.get("BENCH_AFTER_TABLE", "")
    seen: set[str] = set()

    def report(what: str) -> None:
        seen.add(what)
        print(f"{what} {time.monotonic():.6f}", flush=True)

    class TablePaint(QObject):
        """Sees the job table's viewport paint for the first time with rows in it."""

        def __init__(self, table: QTableView) -> None:
            super().__init__(table)
            self.table = table

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            model = self.table.model()
            if (
                "table" not in seen
                and event.type() == QEvent.Type.Paint
                and model is not None
                and model.rowCount() > 0
            ):
                report("table")
                if not after:
                    os._exit(0)
                window = self.table.window()
                QTimer.singleShot(0, lambda: _after_table(after, window))
            return False

    class WindowPaint(QObject):
        """Sees a main window paint: it is on screen (exposed and drawn)."""

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() != QEvent.Type.Paint or not isinstance(watched, QMainWindow):
                return False
            if "exposed" not in seen:
                report("exposed")
            if watched.objectName() == "mainWindow" and "window" not in seen:
                report("window")
            if wait_table and "filter" not in seen:
                table = watched.findChild(QTableView, "jobsTable")
                if table is not None:
                    seen.add("filter")
                    table.viewport().installEventFilter(TablePaint(table))
            if not wait_table and ("window" in seen or not wait_window):
                os._exit(0)  # the figure is the first paint: skip the orderly shutdown
            return False

    watcher = WindowPaint()
    original = QMainWindow.__init__

    def init(self: QMainWindow, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.installEventFilter(watcher)

    QMainWindow.__init__ = init  # type: ignore[method-assign]
    _KEEP.append(watcher)


_KEEP: list[Any] = []


def _after_table(spec: str, window: Any) -> None:
    module_name, _, function = spec.partition(":")
    import importlib

    getattr(importlib.import_module(module_name), function)(window)


def bare() -> None:
    """The baseline: the least a PySide6 program does to show a main window."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    _install_probe()
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    app.exec()


def app(argv: list[str]) -> None:
    """The app: ``main.main(argv)``, its main windows watched."""
    _install_probe()
    import main

    main.main(argv)


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare()
    else:
        app(sys.argv[2:])
    sys.exit("the window closed before it was shown")
