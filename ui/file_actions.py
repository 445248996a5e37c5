"""Job actions that touch files: Save as, export diagnostics, open the video or its folder.

The file chooser is asked from the plain slot; the copy then runs as a coroutine on a worker
thread with a progress bar in the status bar. Copies are atomic (``core.download``), so a
failed save never leaves a half-written file; the reason is shown in plain words.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from core.diagnostics import sidecar_document
from core.download import DownloadError
from core.filenames import suggest_filename
from core.jobs import Job
from ui.action_ports import ProgressSink, StatusSink
from ui.controller import Controller
from ui.dialogs.save_dialog import ExportDialog, SaveDialog
from ui.offthread import on_gui_thread


def output_paths(dest: Path, count: int) -> list[Path]:
    """``name.mp4``, ``name-2.mp4``... for a job with several outputs."""
    return [dest] + [dest.with_name(f"{dest.stem}-{i + 1}{dest.suffix}") for i in range(1, count)]


class FileActions(QObject):
    """Saving, exporting and opening files, reporting to a status and a progress sink."""

    def __init__(
        self,
        controller: Controller,
        *,
        status: StatusSink,
        progress: ProgressSink,
        parent: QWidget,
    ) -> None:
        """``parent`` owns the file choosers."""
        super().__init__(parent)
        self.controller = controller
        self.preferences = controller.preferences
        self._status = status
        self._progress = progress
        self._parent = parent
        #: Copy progress ``(bytes done, total or None)``, callable from the worker thread.
        self._save_progressed = on_gui_thread(progress.progress, self)

    def _folder(self) -> Path:
        """The last folder saved to, else the home folder."""
        last = self.preferences.last_save_dir
        folder = Path(last) if last else Path.home()
        return folder if folder.is_dir() else Path.home()

    # -- opening ------------------------------------------------------------------------------

    def open_external(self, job: Job | None) -> None:
        """Open the video in the system's player."""
        if job is not None and job.files:
            QDesktopServices.openUrl(QUrl.fromLocalFile(job.files[0]))

    def open_folder(self, job: Job | None) -> None:
        """Open the folder holding the video."""
        if job is not None and job.files:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(job.files[0]).parent)))

    # -- Save as ------------------------------------------------------------------------------

    def save(self, job: Job | None) -> None:
        """Ask where to save the video (suggesting a safe name), then copy it there."""
        if job is None or not job.files:
            return
        name = suggest_filename(
            job.params.prompt, job.created_at, job.remote_id, outputs=len(job.files)
        )
        dest = SaveDialog.ask(self._parent, self._folder() / name)
        if dest is None:
            return
        self.preferences.last_save_dir = str(dest.parent)
        self.controller.spawn(self.save_job(job, dest))

    async def save_job(self, job: Job, dest: Path) -> list[Path]:
        """Copy every output of ``job`` next to ``dest``; problems shown in plain words."""
        self._progress.begin_progress()
        saved: list[Path] = []
        try:
            for index, path in enumerate(output_paths(dest, len(job.files))):
                await self.controller.save_as(job.local_id, path, self._save_progressed, index)
                saved.append(path)
        except DownloadError as error:
            self._status.show_error("Could not save the video", error.message)
            return saved
        finally:
            self._progress.end_progress()
        if self.preferences.save_sidecar:
            sidecar = dest.with_suffix(".json")
            document = sidecar_document(job, [path.name for path in saved])
            try:
                await self.controller.write_json(sidecar, document)
            except DownloadError as error:
                self._status.show_error("Saved the video, but not its parameters", error.message)
                return saved
        self._status.show_status(f"Saved to {dest}")
        return saved

    # -- diagnostics --------------------------------------------------------------------------

    def export_diagnostics(self, local_id: str) -> None:
        """Ask for a file, then write the job's redacted diagnostics there."""
        if self.controller.engine.job(local_id) is None:
            return
        suggested = self._folder() / f"reelgate-diagnostics-{local_id[:8]}.json"
        dest = ExportDialog.ask(self._parent, suggested)
        if dest is not None:
            self.controller.spawn(self.export_to(local_id, dest))

    async def export_to(self, local_id: str, dest: Path) -> None:
        """Build the diagnostics off the GUI thread (a journal read), then write them."""
        text = await self.controller.diagnostics_text(local_id)
        if text is not None:
            await self.write_export(dest, text)

    async def write_export(self, dest: Path, text: str) -> None:
        """Write exported diagnostics atomically."""
        try:
            await self.controller.write_json(dest, json.loads(text))
        except DownloadError as error:
            self._status.show_error("Could not export the diagnostics", error.message)
            return
        self._status.show_status(f"Diagnostics exported to {dest}")
