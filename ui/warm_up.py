"""Loading, while the window is idle, the code of what is built on first use.

The preview (Qt Multimedia), the review panel, Settings and the thumbnail decoder (PyAV) are
built when first needed, so the window paints sooner; their modules load here instead, a
moment after the window shows. The imports run on a worker thread: PySide's modules spend
most of their import in Python code (they create their enums), which gives the GUI thread the
interpreter lock every few milliseconds, so no click waits behind them. Only the check that a
media backend exists runs on the GUI thread (it loads Qt's media plugin, which belongs there).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from core.thumbnails import preload as preload_decoder
from ui.offthread import Submit, run_task

logger = logging.getLogger(__name__)

#: Loaded one after the other on a worker thread, in this order.
MODULES = (
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "ui.preview",
    "ui.review_panel",
    "ui.dialogs.settings_dialog",
)
#: A pause between two imports, for the GUI thread (seconds).
PAUSE = 0.02
#: After the media check, the wait before ``then`` runs, so the two never share one turn.
THEN_AFTER_MS = 250


def load_modules() -> None:
    """Import :data:`MODULES` and the thumbnail decoder (on a worker thread)."""
    for name in MODULES:
        importlib.import_module(name)
        time.sleep(PAUSE)
    preload_decoder()


def warm_up(submit: Submit, receiver: QObject, then: Callable[[], object] | None = None) -> None:
    """Load the modules on ``submit``'s pool, then check the media backend on the GUI thread.

    ``then`` runs on the GUI thread a moment later (to build what the modules make).
    """

    def loaded(_result: object) -> None:
        _check_media()
        if then is not None:
            QTimer.singleShot(THEN_AFTER_MS, then)

    run_task(submit, load_modules, on_result=loaded, on_error=_failed, receiver=receiver)


def _check_media() -> None:
    importlib.import_module("ui.preview").multimedia_available()


def _failed(error: BaseException) -> None:
    # Not fatal: whatever failed to load is loaded (and reported) again on first use.
    logger.warning("Loading ahead of first use failed: %s", error)
