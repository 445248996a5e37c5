"""The window shown the moment Reelgate starts, while the core and the main window load.

Loading the core (HTTP client, journal, demo gateway, Qt Multimedia) and building the main
window takes a few hundred milliseconds; a bare PySide6 window shows in about 110 ms. So
``run_app`` shows this light frame first, where the main window will be (its saved geometry),
with the app's title, icon and style and a line saying what is happening, and the main window
replaces it as soon as it is ready (``tests/bench/bench_startup.py`` measures both).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from core.paths import AppPaths
from core.settings import load_settings
from core.version import APP_NAME


class StartupFrame(QMainWindow):
    """An empty main-window frame saying "Opening Reelgate…"."""

    def __init__(self, geometry: QByteArray | None = None) -> None:
        """Open at ``geometry`` (the main window's saved one) or the first-run size."""
        super().__init__()
        self.setObjectName("startupFrame")
        self.setWindowTitle(APP_NAME)
        # Centred with stretches: the ``Qt`` namespace costs 15 ms to load on first use.
        central = QWidget(self)
        row = QHBoxLayout()
        row.addStretch(1)
        label = QLabel("Opening Reelgate…", central)
        label.setObjectName("startupMessage")
        row.addWidget(label)
        row.addStretch(1)
        column = QVBoxLayout(central)
        column.addStretch(1)
        column.addLayout(row)
        column.addStretch(1)
        self.setCentralWidget(central)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1360, 820)  # the main window's first-run size

    @classmethod
    def show_now(cls, paths: AppPaths) -> StartupFrame:
        """Show the frame at the main window's last place and paint it at once."""
        settings, _message = load_settings(paths.settings)
        saved = (settings.window or {}).get("geometry")
        geometry = QByteArray.fromBase64(saved.encode("ascii")) if isinstance(saved, str) else None
        frame = cls(geometry)
        frame.show()
        QApplication.processEvents()
        return frame

    def hand_over(self) -> None:
        """The main window is showing: go away."""
        self.close()
        self.deleteLater()
