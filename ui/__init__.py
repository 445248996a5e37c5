"""Reelgate's Qt side: widgets, the table model, dialogs, the media preview and the poller."""

from ui.pyside_fixes import install as _install_pyside_fixes
from ui.pyside_imports import install as _install_pyside_imports

# Before any widget exists: every signal emitted from Python needs the fix (see the module).
_install_pyside_fixes()
# Before the other ui modules load: PySide6 would read each one's source (see the module).
_install_pyside_imports()
