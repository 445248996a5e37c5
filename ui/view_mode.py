"""The Table / Gallery switch above the job list."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget


class ViewMode(StrEnum):
    """How the job list is shown."""

    TABLE = "table"
    GALLERY = "gallery"

    @classmethod
    def parse(cls, value: object) -> ViewMode:
        """A remembered mode; anything unknown is the table."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.TABLE


class ViewModeToggle(QWidget):
    """Two exclusive buttons: "Table" (Ctrl+Shift+T) and "Gallery" (Ctrl+G)."""

    #: The person picked a mode.
    mode_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the two buttons, with Table chosen."""
        super().__init__(parent)
        self.setObjectName("viewModeToggle")
        self.setAccessibleName("Show jobs as")
        self.table_button = self._button("tableViewButton", "Table", "Ctrl+Shift+T")
        self.gallery_button = self._button("galleryViewButton", "Gallery", "Ctrl+G")
        self.table_button.setChecked(True)
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.table_button)
        group.addButton(self.gallery_button)
        self.table_button.clicked.connect(lambda: self.mode_chosen.emit(ViewMode.TABLE))
        self.gallery_button.clicked.connect(lambda: self.mode_chosen.emit(ViewMode.GALLERY))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.table_button)
        row.addWidget(self.gallery_button)

    def _button(self, name: str, text: str, keys: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setAccessibleName(f"Show jobs as a {text.lower()}")
        button.setCheckable(True)
        button.setAutoRaise(False)
        button.setShortcut(QKeySequence(keys))
        native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(f"Show the jobs as a {text.lower()} ({native})")
        return button

    def show_mode(self, mode: ViewMode) -> None:
        """Reflect ``mode`` without announcing it."""
        button = self.gallery_button if mode is ViewMode.GALLERY else self.table_button
        button.setChecked(True)
