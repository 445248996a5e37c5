"""The PySide6 reference fix: a long session must not wear down None, True or False."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

import ui  # noqa: F401 - installs the fix, as every ui import does
from ui.pyside_fixes import install, protected

ROOT = Path(__file__).resolve().parents[2]


class Pinger(QObject):
    pinged = Signal(int)
    relayed = Signal(int)


def test_many_emits_and_void_calls_cannot_exhaust_the_singletons(qapp: Any) -> None:
    pinger = Pinger()
    label = QLabel()
    got: list[int] = []
    pinger.pinged.connect(got.append)
    for value in range(20_000):
        pinger.pinged.emit(value)
        label.setEnabled(value % 2 == 0)
    assert len(got) == 20_000
    assert install() and protected()
    for singleton in (None, True, False):
        assert sys.getrefcount(singleton) > 1 << 39


def test_a_signal_can_still_be_connected_to_another_signals_emit(qapp: Any) -> None:
    pinger = Pinger()
    got: list[int] = []
    pinger.relayed.connect(got.append)
    pinger.pinged.connect(pinger.relayed.emit)
    pinger.pinged.emit(7)
    assert got == [7]


def test_a_long_session_of_calls_does_not_abort_the_interpreter() -> None:
    """Without the fix this process dies with "none_dealloc" (exit 134) on Python 3.11."""
    script = (
        "import ui\n"
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "app = QApplication([])\n"
        "label = QLabel()\n"
        "for i in range(300_000):\n"
        "    label.setEnabled(i % 2 == 0)\n"
        "print('alive')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert "alive" in result.stdout
