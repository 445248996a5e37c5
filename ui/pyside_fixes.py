"""Work around PySide6 6.12's signal ``emit()`` dropping a reference to ``True`` on every call.

``SignalInstance.emit()`` in PySide6 6.12.0 returns ``True`` without taking a reference for the
caller, so each emit from Python lowers ``True``'s reference count by one. A few thousand emits
later (the job table's one-second refresh alone emits two per running job) the interpreter
aborts with "Fatal Python error: bool_dealloc: deallocating True or False". Found by the GUI
stall benchmark (``tests/bench/bench_gui_stall.py``), which crashed after a few seconds.

:func:`install` checks whether the running PySide6 has the bug and, only then, wraps ``emit``
so the missing reference is added back. An extra reference to ``True`` would be harmless,
a missing one is fatal, so the check errs on the safe side.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

logger = logging.getLogger(__name__)

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None
_MARK = "_reelgate_keeps_bool_refs"


class _Probe(QObject):
    """A throwaway object with one signal, to see how ``emit`` treats its return value."""

    pinged = Signal()


def emit_drops_a_reference(tries: int = 64) -> bool:
    """Whether ``emit()`` returns a bool it holds no reference for (the 6.12.0 bug).

    Other threads may touch ``True`` meanwhile, so losing at least half is proof enough.
    """
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(tries):
        probe.pinged.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:
        for _ in range(lost):  # give back what the probe itself took away
            _incref(True)
    return lost >= tries // 2


def install() -> bool:
    """Wrap ``SignalInstance.emit`` if this PySide6 needs it; True when the fix is active."""
    original: Any = SignalInstance.emit
    if getattr(original, _MARK, False):
        return True
    if not emit_drops_a_reference():
        return False

    def emit(signal: SignalInstance, *args: Any) -> Any:
        result = original(signal, *args)
        if result is True or result is False:
            _incref(result)
        return result

    SignalInstance.emit = _EmitDescriptor(emit)  # type: ignore[assignment]
    logger.debug("PySide6 emit() reference fix installed")
    return True


class _EmitDescriptor:
    """Makes ``signal.emit`` a ``functools.partial``, not a bound method.

    PySide6 keeps a weak reference to the object behind a bound-method slot, and a
    ``SignalInstance`` cannot be weakly referenced: ``a.connect(b.emit)`` must keep working.
    """

    def __init__(self, emit: Any) -> None:
        # Not ``original.__doc__``: reading a PySide docstring builds its signature text,
        # 20 ms at start-up.
        self._emit = emit
        self.__doc__ = "Emit the signal (PySide6's emit, reference-count fixed)."
        setattr(self, _MARK, True)

    def __get__(self, signal: SignalInstance | None, owner: type | None = None) -> Any:
        if signal is None:
            return self
        return functools.partial(self._emit, signal)
