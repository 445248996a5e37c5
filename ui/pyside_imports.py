"""Stop PySide6 from reading the source of every module imported after it, at start-up.

PySide6 watches every import made after it loads, for its optional ``__feature__`` switches
(``snake_case``, ``true_property``). For each new module it reads the module's whole source
file (``inspect.getsource``) to see whether the text "PySide6" appears in it. Reelgate's
start-up imports a few hundred modules after PySide6; on the development VM that reading
took 75-80 ms of the time before the main window showed (``tests/bench/bench_startup.py``).

Reelgate uses no ``__feature__`` switch. The answer of that source check only matters to a
module that switches features on, and such a module records its choice itself when it
imports ``__feature__``; every other module gets Qt's normal names either way. So
:func:`install` replaces the check with one that reads nothing and answers "not a feature
user". It does nothing when the running PySide6 has no such check.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType

logger = logging.getLogger(__name__)

#: Where PySide6 (6.x) keeps its feature machinery once ``PySide6`` has been imported.
_FEATURE_MODULE = "shibokensupport.feature"
_CHECK = "_mod_uses_pyside"


def _reads_nothing(module: ModuleType) -> bool:
    """PySide6's "does this module use PySide6?" question, answered without reading files."""
    return False


def install() -> bool:
    """Replace PySide6's per-import source scan; True when it was there and is now replaced."""
    feature = sys.modules.get(_FEATURE_MODULE)
    if feature is None or not callable(getattr(feature, _CHECK, None)):
        return False
    setattr(feature, _CHECK, _reads_nothing)
    logger.debug("PySide6's per-import source scan replaced")
    return True
