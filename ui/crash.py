"""The crash handler: an unexpected error becomes a dialog with a copyable, redacted report.

Installed as ``sys.excepthook`` before the event loop starts, so exceptions from Qt slots
and from qasync's async slots land here. The report (app version, system, traceback, never
the API key) is written to the data folder's ``crash-reports`` and shown in a dialog the
user can copy from. The app keeps running: most errors affect one action, not everything.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.logsetup import redact
from core.version import APP_NAME, __version__

logger = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def build_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    redacted: tuple[str, ...] = (),
) -> str:
    """The crash report as text: versions, system, time and the traceback, redacted."""
    lines = [
        f"{APP_NAME} {__version__} crash report",
        f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"Python: {platform.python_version()} ({sys.executable})",
        f"PySide6: {pyside_version}",
        f"System: {platform.platform()}",
        f"Thread: {threading.current_thread().name}",
        "",
        "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
    ]
    return redact("\n".join(lines), redacted) + "\n"


def write_report(folder: Path, report: str) -> Path | None:
    """Save the report as ``crash-YYYYmmdd-HHMMSS.txt``; ``None`` when that fails too."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"crash-{stamp}.txt"
        counter = 1
        while path.exists():
            counter += 1
            path = folder / f"crash-{stamp}-{counter}.txt"
        path.write_text(report, encoding="utf-8")
        return path
    except OSError:
        logger.warning("Could not write the crash report to %s", folder, exc_info=True)
        return None


class CrashDialog(QDialog):
    """Shows a crash report with Copy, Open folder, Quit and Continue."""

    def __init__(self, report: str, path: Path | None, parent: QWidget | None = None) -> None:
        """Show ``report`` (saved at ``path``, when it could be written) with its buttons."""
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle(f"{APP_NAME} ran into a problem")
        self.path = path
        intro = QLabel(
            "Something unexpected went wrong. Your jobs are safe in the journal, and Reelgate "
            "can usually keep running. Please send this report to the developers; it does not "
            "contain your API key." + (f"\n\nSaved as {path}" if path else ""),
            self,
        )
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_view = QPlainTextEdit(self)
        self.report_view.setObjectName("crashReport")
        self.report_view.setAccessibleName("Crash report")
        self.report_view.setReadOnly(True)
        self.report_view.setPlainText(report)
        self.report_view.setMinimumSize(640, 300)
        buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton("Copy report", self)
        self.copy_button.setObjectName("copyReportButton")
        self.copy_button.setAccessibleName("Copy report")
        self.copy_button.clicked.connect(self.copy_report)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        if path is not None:
            folder = buttons.addButton("Open folder", QDialogButtonBox.ButtonRole.ActionRole)
            folder.clicked.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
            )
        quit_button = buttons.addButton(
            "Quit Reelgate", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        quit_button.clicked.connect(self._quit)
        keep = buttons.addButton("Continue", QDialogButtonBox.ButtonRole.AcceptRole)
        keep.setDefault(True)
        keep.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.report_view, 1)
        layout.addWidget(buttons)

    def add_report(self, report: str) -> None:
        """Append a further crash that happened while this dialog was open."""
        self.report_view.appendPlainText("\n" + "-" * 60 + "\n" + report)

    def copy_report(self) -> None:
        """Put the whole report on the clipboard."""
        QGuiApplication.clipboard().setText(self.report_view.toPlainText())

    def _quit(self) -> None:
        self.reject()
        app = QApplication.instance()
        for widget in QApplication.topLevelWidgets():
            if widget is not self and widget.isVisible():
                widget.close()
        if app is not None:
            app.quit()


class CrashHandler(QObject):
    """``sys.excepthook``: writes a redacted report and shows it (from any thread)."""

    #: Internal: a report to show, sent to the GUI thread.
    _report_ready = Signal(str, object)

    def __init__(self, folder: Path, redacted: Callable[[], tuple[str, ...]] = tuple) -> None:
        """Write reports into ``folder``, hiding the strings ``redacted()`` returns."""
        super().__init__()
        self.folder = folder
        self.redacted = redacted
        self.dialog: CrashDialog | None = None
        self.last_report: str | None = None
        self._previous: Callable[..., object] | None = None
        self._report_ready.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        """Become ``sys.excepthook``."""
        self._previous = sys.excepthook
        sys.excepthook = self

    def uninstall(self) -> None:
        """Put the previous hook back."""
        if sys.excepthook is self and self._previous is not None:
            sys.excepthook = self._previous

    def __call__(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """Handle one uncaught exception."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            try:
                redacted = tuple(self.redacted())
            except Exception:  # a broken provider of values to redact must not lose the report
                redacted = ()
            report = build_report(exc_type, exc, tb, redacted=redacted)
            self.last_report = report
            path = write_report(self.folder, report)
            logger.error("Unexpected error (report: %s)\n%s", path, report)
            if QApplication.instance() is not None:
                self._report_ready.emit(report, path)
        except Exception:  # the hook itself must never raise
            sys.__excepthook__(exc_type, exc, tb)

    def _show(self, report: str, path: Path | None) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add_report(report)
            return
        dialog = CrashDialog(report, path, QApplication.activeWindow())
        dialog.finished.connect(self._on_finished)
        self.dialog = dialog
        dialog.open()

    def _on_finished(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
