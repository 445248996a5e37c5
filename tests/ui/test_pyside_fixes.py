"""The emit() reference fix: emitting from Python must not wear down ``True``."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

import ui  # noqa: F401 - installs the fix, as every ui import does
from ui.pyside_fixes import emit_drops_a_reference, install


class Pinger(QObject):
    pinged = Signal(int)
    relayed = Signal(int)


def test_many_emits_keep_true_alive(qapp: Any) -> None:
    pinger = Pinger()
    got: list[int] = []
    pinger.pinged.connect(got.append)
    before = sys.getrefcount(True)
    for value in range(20_000):
        pinger.pinged.emit(value)
    assert len(got) == 20_000
    assert sys.getrefcount(True) >= before - 10  # unfixed, it drops by 20,000 (then aborts)
    assert not emit_drops_a_reference()
    install()  # a second install changes nothing
    assert not emit_drops_a_reference()


def test_a_signal_can_still_be_connected_to_another_signals_emit(qapp: Any) -> None:
    pinger = Pinger()
    got: list[int] = []
    pinger.relayed.connect(got.append)
    pinger.pinged.connect(pinger.relayed.emit)
    pinger.pinged.emit(7)
    assert got == [7]
