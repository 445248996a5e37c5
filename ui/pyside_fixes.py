"""Work around PySide6 6.12.0 on Python 3.11 wearing down ``None``, ``True`` and ``False``.

On Python 3.11, PySide6 6.12.0 returns ``None`` from every void method (``setText``,
``setEnabled``, painting calls...) and ``True`` from ``SignalInstance.emit()`` without taking
a reference for the caller. Python 3.12 made these objects immortal, which hides the slip
there; on 3.11 each call lowers the count by one and the interpreter aborts with
"Fatal Python error: none_dealloc" (or ``bool_dealloc``) once it reaches zero: about eight
minutes of an idle window with a few running jobs (the table repaints progress bars), or a
few thousand signal emits. Found by the GUI stall benchmark and the screenshot script.

:func:`install` probes whether the running PySide6 loses references and, only then, does what
Python 3.12 does: it raises the three singletons' reference counts so far (2**40) that no
number of lost references can bring them to zero. No call is wrapped, so there is no
per-call cost, and nothing changes on an interpreter or PySide6 without the bug.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)

#: Far beyond any number of calls a session makes, far below the counter's limit.
_RESERVE = 1 << 40
_SINGLETONS = (None, True, False)


class _Probe(QObject):
    """A throwaway object with one signal, to see how PySide6 treats return values."""

    pinged = Signal()


def drops_references(tries: int = 64) -> bool:
    """Whether void calls or ``emit()`` return ``None``/``True`` without a reference.

    Other threads may touch the singletons meanwhile, so losing at least half is proof enough.
    What the probe itself took away is given back.
    """
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(tries):
        probe.setObjectName("probe")
        probe.pinged.emit()
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    _add_references(None, max(0, lost_none))
    _add_references(True, max(0, lost_true))
    return max(lost_none, lost_true) >= tries // 2


def _add_references(singleton: object, count: int) -> None:
    """Raise a singleton's reference count (``ob_refcnt`` is the first field of every object)."""
    if count:
        ctypes.c_ssize_t.from_address(id(singleton)).value += count


def protected() -> bool:
    """Whether the singletons already carry the reserve."""
    return all(sys.getrefcount(item) > _RESERVE // 2 for item in _SINGLETONS)


def install() -> bool:
    """Protect ``None``/``True``/``False`` if this PySide6 needs it; True when protection is on."""
    if protected():
        return True
    if sys.version_info >= (3, 12) or not drops_references():
        return False
    for singleton in _SINGLETONS:
        _add_references(singleton, _RESERVE)
    logger.debug("PySide6 reference-count protection installed")
    return True
