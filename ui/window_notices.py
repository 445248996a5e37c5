"""The main window's message boxes: running jobs on close, start-up notes, a refused API key."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

APP_TITLE = "Reelgate"


class CloseNotice:
    """Tells the user that running jobs carry on next time (``ask`` is faked in tests)."""

    @classmethod
    def ask(cls, parent: QWidget, count: int) -> bool:
        """True to close (the default), False to keep the window open."""
        plural = "job is" if count == 1 else "jobs are"
        box = QMessageBox(parent)
        box.setObjectName("closeNotice")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Jobs still running")
        box.setText(f"{count} {plural} still running on the gateway.")
        box.setInformativeText(
            "They keep going there. Reelgate picks them up again and downloads the videos "
            "the next time it starts."
        )
        close = box.addButton("Close Reelgate", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep open", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(close)
        box.exec()
        return box.clickedButton() is close


def startup_notes_box(parent: QWidget, messages: list[str]) -> QMessageBox:
    """A box of things to know from start-up, shown without blocking.

    For example a damaged journal kept aside, or no keychain.
    """
    box = QMessageBox(
        QMessageBox.Icon.Information,
        APP_TITLE,
        "\n\n".join(messages),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("startupNotes")
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box


def key_rejected_box(
    parent: QWidget, reason: str, open_settings: Callable[[], None]
) -> QMessageBox:
    """Says the key was refused and polling paused; "Open Settings…" calls ``open_settings``."""
    box = QMessageBox(parent)
    box.setObjectName("keyRejectedBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("API key refused")
    box.setText(f"The gateway refused the API key ({reason}). Polling is paused.")
    box.setInformativeText("Enter a valid key in Settings; polling resumes right away.")
    settings = box.addButton("Open Settings…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    settings.clicked.connect(open_settings, Qt.ConnectionType.QueuedConnection)
    box.open()
    return box
