"""The bar above the job list that says it shows one compare set or batch, with "Show all"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class SetFilterBar(QWidget):
    """Shown while the list is narrowed to one linked set; hidden otherwise."""

    #: The user asked to list every job again.
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the label and the button that shows all jobs again."""
        super().__init__(parent)
        self.setObjectName("setFilterBar")
        self.label = QLabel(self)
        self.label.setObjectName("setFilterLabel")
        self.label.setAccessibleName("Linked set shown")
        self.clear_button = QPushButton("Show all jobs", self)
        self.clear_button.setObjectName("setFilterClear")
        self.clear_button.setAccessibleName("Show all jobs, not just this set")
        self.clear_button.clicked.connect(self.cleared)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.clear_button)
        self.setVisible(False)

    def show_set(self, text: str | None) -> None:
        """Say which set is shown (``None`` hides the bar)."""
        self.label.setText(text or "")
        self.setVisible(text is not None)
