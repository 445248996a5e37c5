"""PySide6's per-import source scan is skipped; modules imported later use Qt as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_modules_imported_after_the_ui_package_use_qt_as_before(tmp_path: Path) -> None:
    """PySide6 no longer reads each imported module's source; Qt works the same from them."""
    (tmp_path / "late_widget.py").write_text(
        "from PySide6.QtCore import QObject, Signal\n"
        "from PySide6.QtWidgets import QLabel\n"
        "class Sender(QObject):\n"
        "    sent = Signal(str)\n"
        "def make():\n"
        "    label = QLabel()\n"
        "    sender = Sender()\n"
        "    sender.sent.connect(label.setText)\n"
        "    sender.sent.emit('shown')\n"
        "    return label.text(), label.isEnabled()\n",
        encoding="utf-8",
    )
    script = (
        "import inspect, sys\n"
        "import ui\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "reads = []\n"
        "real = inspect.getsource\n"
        "inspect.getsource = lambda obj: reads.append(obj) or real(obj)\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import late_widget\n"
        "print(late_widget.make(), len(reads))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "('shown', True) 0"
