"""The welcome dialog shown when no API key is configured: try the demo or enter a key."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

WELCOME_TEXT = (
    "<h2>Welcome to Reelgate</h2>"
    "<p>Reelgate turns a text prompt into a video using the Phaseo AI gateway.</p>"
    "<p>No API key is configured yet. You can <b>try the demo</b>: a built-in gateway on "
    "this computer makes short test-pattern videos, costs nothing and needs no account. "
    "Or <b>enter your Phaseo API key</b> to generate real videos (billed to your account).</p>"
    "<p>You can change this later in Settings.</p>"
)


class FirstRunDialog(QDialog):
    """Asks a newcomer whether to try the demo gateway or enter an API key."""

    DEMO = "demo"
    KEY = "key"

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the welcome text and its two choices (the demo is the default)."""
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Welcome to Reelgate")
        self.choice: str | None = None
        text = QLabel(WELCOME_TEXT, self)
        text.setObjectName("welcomeText")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setAccessibleName("Welcome to Reelgate")
        self.demo_button = QPushButton("Try the demo", self)
        self.demo_button.setObjectName("tryDemoButton")
        self.demo_button.setAccessibleName("Try the demo")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(lambda: self._choose(self.DEMO))
        self.key_button = QPushButton("Enter API key…", self)
        self.key_button.setObjectName("enterKeyButton")
        self.key_button.setAccessibleName("Enter API key")
        self.key_button.clicked.connect(lambda: self._choose(self.KEY))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.key_button)
        buttons.addWidget(self.demo_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget | None) -> str | None:
        """``"demo"``, ``"key"``, or ``None`` when the dialog was closed."""
        dialog = cls(parent)
        try:
            dialog.exec()
            return dialog.choice
        finally:
            dialog.deleteLater()
