"""Reelgate's dialogs; each has a classmethod ``ask(...)`` returning a value (easy to fake)."""

from ui.dialogs.first_run import FirstRunDialog
from ui.dialogs.save_dialog import ExportDialog, SaveDialog
from ui.dialogs.settings_dialog import SettingsDialog, SettingsResult

__all__ = ["ExportDialog", "FirstRunDialog", "SaveDialog", "SettingsDialog", "SettingsResult"]
