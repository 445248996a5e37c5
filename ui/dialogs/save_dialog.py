"""File choosers for saving a video (MP4) and exporting a job's diagnostics (JSON)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QWidget


class _SaveFileDialog:
    """A save-file chooser with one filter and a forced suffix; overwrite confirmation stays on."""

    title = "Save"
    name_filter = "All files (*)"
    suffix = ""

    @classmethod
    def build(cls, parent: QWidget | None, suggested: Path) -> QFileDialog:
        """The configured dialog (separate from :meth:`ask` so tests can inspect it)."""
        dialog = QFileDialog(parent, cls.title, str(suggested.parent), cls.name_filter)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        # With a default suffix Qt adds it before asking about overwriting, so the
        # confirmation is about the file that will really be written.
        dialog.setDefaultSuffix(cls.suffix.lstrip("."))
        dialog.selectFile(suggested.name)
        return dialog

    @classmethod
    def with_suffix(cls, path: Path) -> Path:
        """``path`` with the expected suffix added when it is missing."""
        if path.suffix.lower() == cls.suffix:
            return path
        return path.with_name(path.name + cls.suffix)

    @classmethod
    def ask(cls, parent: QWidget | None, suggested: Path) -> Path | None:
        """The chosen path (suffix ensured), or ``None`` when cancelled."""
        dialog = cls.build(parent, suggested)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            files = dialog.selectedFiles()
        finally:
            dialog.deleteLater()
        if not files or not files[0]:
            return None
        return cls.with_suffix(Path(files[0]))


class SaveDialog(_SaveFileDialog):
    """Asks where to save a video as MP4."""

    title = "Save video as"
    name_filter = "MP4 video (*.mp4)"
    suffix = ".mp4"


class ExportDialog(_SaveFileDialog):
    """Asks where to export a job's diagnostics as JSON."""

    title = "Export diagnostics"
    name_filter = "JSON file (*.json)"
    suffix = ".json"
