"""Reelgate's dialogs; each has a classmethod ``ask(...)`` returning a value (easy to fake).

The dialogs are imported on first use (``from ui.dialogs import SettingsDialog`` still
works): the Settings dialog pulls in the HTTP client, which the start-up does not need yet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.dialogs.first_run import FirstRunDialog
    from ui.dialogs.save_dialog import ExportDialog, SaveDialog
    from ui.dialogs.settings_dialog import SettingsDialog, SettingsResult

_HOMES = {
    "ExportDialog": "save_dialog",
    "FirstRunDialog": "first_run",
    "SaveDialog": "save_dialog",
    "SettingsDialog": "settings_dialog",
    "SettingsResult": "settings_dialog",
}

__all__ = ["ExportDialog", "FirstRunDialog", "SaveDialog", "SettingsDialog", "SettingsResult"]


def __getattr__(name: str) -> Any:
    """Import a dialog's module when the dialog is first asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
