"""The window's status bar: transient messages, the save progress bar and the Undo button.

It is the status sink and the progress sink the actions report to (see
:mod:`ui.action_ports`), so they never need the window itself.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

#: How long a transient message stays.
STATUS_MESSAGE_MS = 8_000
#: How long the Undo button stays after a removal.
UNDO_MS = 10_000


class StatusBar(QObject):
    """Messages, progress and Undo in ``window``'s status bar; errors as window-modal boxes."""

    def __init__(self, window: QMainWindow) -> None:
        """Build the permanent widgets (``saveProgress``, ``undoButton``) into the bar."""
        super().__init__(window)
        self._window = window
        self.bar = window.statusBar()
        self.bar.setObjectName("statusBar")
        self.undo_button = QPushButton("Undo", window)
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setAccessibleName("Undo remove from list")
        self.undo_button.setVisible(False)
        self.progress_bar = QProgressBar(window)
        self.progress_bar.setObjectName("saveProgress")
        self.progress_bar.setAccessibleName("Save progress")
        self.progress_bar.setMaximumWidth(200)
        self.progress_bar.setVisible(False)
        holder = QWidget(window)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_bar)
        row.addWidget(self.undo_button)
        self.bar.addPermanentWidget(holder)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self.hide_undo)

    # -- the status sink ----------------------------------------------------------------------

    def show_status(self, message: str, timeout_ms: int = STATUS_MESSAGE_MS) -> None:
        """A transient message (``timeout_ms`` 0 keeps it); also announced to screen readers."""
        self.bar.showMessage(message, timeout_ms)
        self.bar.setAccessibleDescription(message)

    def show_error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that needs the user's attention (does not block the loop)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self._window
        )
        box.setObjectName("errorBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def offer_undo(self, text: str) -> None:
        """Show the Undo button next to ``text`` for about ten seconds."""
        self.show_status(text, UNDO_MS)
        self.undo_button.setVisible(True)
        self._undo_timer.start(UNDO_MS)

    def hide_undo(self) -> None:
        """Take the Undo button away (used, or too late)."""
        self.undo_button.setVisible(False)

    # -- the progress sink --------------------------------------------------------------------

    def begin_progress(self) -> None:
        """Show a busy bar until the first figures arrive."""
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(True)

    def progress(self, done: int, total: int | None) -> None:
        """``done`` of ``total`` bytes (no total: stays busy)."""
        if total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(done * 1000 / total))

    def end_progress(self) -> None:
        """Hide the bar."""
        self.progress_bar.setVisible(False)
