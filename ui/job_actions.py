"""What can be done to a job from the toolbar, the context menu and the keyboard.

The actions themselves are declared in :mod:`ui.action_table`; this module holds their
handlers. Each handler works through narrow dependencies (the controller, the selection, a
status sink, the composer...; see :mod:`ui.action_ports`), never the main window. Dialogs
are asked from plain slots (never inside a coroutine); the work they lead to runs as a
coroutine that awaits the controller, so the window stays responsive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from core.errors import GatewayError
from core.jobs import DownloadState, Job, JobParams, JobState
from ui.action_ports import (
    CostCheck,
    DetailView,
    JobList,
    ProgressSink,
    RequestForm,
    Selection,
    StatusSink,
)
from ui.action_table import ACTIONS, CONTEXT_MENU, JobFacts, add_all, build_action
from ui.controller import Controller
from ui.file_actions import FileActions
from ui.pick_actions import PickActions

logger = logging.getLogger(__name__)


class Confirm:
    """A yes/no question before something that cannot be undone (``ask`` is faked in tests)."""

    @classmethod
    def ask(cls, parent: QWidget, title: str, text: str, action: str) -> bool:
        """True when the user confirmed ``action``."""
        box = QMessageBox(
            QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
        )
        box.setObjectName("confirmBox")
        yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is yes


class JobActions(QObject):
    """The job actions (one QAction attribute per row of the table) and their handlers."""

    preview: QAction
    save_as: QAction
    copy_link: QAction
    open_folder: QAction
    resubmit: QAction
    copy_diagnostics: QAction
    export_diagnostics: QAction
    delete_on_server: QAction
    remove: QAction
    undo_remove: QAction
    refresh: QAction
    download: QAction
    settings: QAction
    find: QAction

    def __init__(
        self,
        controller: Controller,
        *,
        selection: Selection,
        status: StatusSink,
        progress: ProgressSink,
        parent: QWidget,
        composer: RequestForm,
        guard: CostCheck,
        jobs: JobList,
        detail: DetailView,
        check_now: Callable[[], None],
        open_settings: Callable[[], None],
        focus_search: Callable[[], None],
    ) -> None:
        """Build the actions; ``parent`` owns the dialogs and menus they open."""
        super().__init__(parent)
        self.controller = controller
        self._selection = selection
        self._status = status
        self._parent = parent
        self._composer = composer
        self._guard = guard
        self._jobs = jobs
        self._detail = detail
        self._check_now = check_now
        self.open_settings = open_settings
        self.focus_search = focus_search
        self._removed: list[Job] = []
        self._job: Job | None = None
        #: More actions for the job's context menu (None adds a separator): linked sets...
        self.menu_extras: list[QAction | None] = []
        self.files = FileActions(controller, status=status, progress=progress, parent=parent)
        self.actions: dict[str, QAction] = {}
        for spec in ACTIONS:
            action = build_action(spec, getattr(self, spec.slot), self)
            self.actions[spec.attr] = action
            setattr(self, spec.attr, action)
        self.undo_remove.setEnabled(False)
        self.picks = PickActions(
            self.selected, controller.set_rating, controller.set_kept, self._spawn, self
        )

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.controller.spawn(coro)

    # -- state --------------------------------------------------------------------------------

    def selected(self) -> Job | None:
        """The selected job, newest version."""
        return self._selection.selected_job()

    def update_enabled(self, job: Job | None) -> None:
        """Enable exactly the actions that make sense for ``job``."""
        self._job = job
        self.picks.update_enabled(job)
        facts = JobFacts(job, owned=job is not None and self.controller.engine.owns(job))
        for spec in ACTIONS:
            if spec.enabled_when is not None:
                self.actions[spec.attr].setEnabled(spec.enabled_when(facts))
        auto = self.controller.preferences.auto_download
        self.download.setText("Retry download" if auto else "Download")

    def show_context_menu(self, position: QPoint) -> None:
        """The job's actions at the mouse (or keyboard menu key) position."""
        menu = QMenu(self._parent)
        menu.setObjectName("jobContextMenu")
        group: list[QAction | None] = []
        for name in CONTEXT_MENU:
            if name == "picks":
                add_all(menu, group)
                group = []
                self.picks.add_to(menu)
            else:
                group.append(None if name is None else self.actions[name])
        add_all(menu, [*group, *self.menu_extras])
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(position)

    def activate(self, job: Job) -> None:
        """Double-click: preview a finished video, or open the review of a failed job."""
        self._detail.activate(job)

    # -- submission ---------------------------------------------------------------------------

    def submit(self, params: JobParams, parent_id: str | None) -> None:
        """The composer asked for a video."""
        self._spawn(self.submit_job(params, parent_id))

    async def submit_job(self, params: JobParams, parent_id: str | None) -> Job | None:
        """Check the cost, send the create off the GUI thread, say how it went (None: not sent)."""
        composer = self._composer
        composer.set_busy(True)
        try:
            if not await self._guard.approve([params]):
                composer.clear_submit_messages()
                composer.show_submit_error(self._guard.last_note or "Not sent.")
                return None
            job = await self.controller.submit(params, parent_id)
        finally:
            composer.set_busy(False)
        composer.show_submit_result(job)
        # Images stay in the composer for the next job but are not kept in the settings.
        skip = ("prompt", "images", "image_field")
        last = {k: v for k, v in params.to_dict().items() if k not in skip}
        self.controller.preferences.last_params = last
        self._selection.select_job(job.local_id)
        return job

    # -- per-job actions ----------------------------------------------------------------------

    def preview_selected(self) -> None:
        """Show and play the selected video."""
        job = self.selected()
        if job is not None:
            self.activate(job)

    def open_external_selected(self) -> None:
        """Open the selected video in the system's player."""
        self.files.open_external(self.selected())

    def open_folder_selected(self) -> None:
        """Open the folder holding the selected video."""
        self.files.open_folder(self.selected())

    def save_selected(self) -> None:
        """Ask where to save the selected video, then copy it there."""
        self.files.save(self.selected())

    def copy_link_selected(self) -> None:
        """Mint a signed link for the selected video and copy it."""
        job = self.selected()
        if job is not None:
            self._spawn(self.copy_link_for(job.local_id))

    async def copy_link_for(self, local_id: str) -> str | None:
        """Mint a link off the GUI thread, copy it, and say when it expires."""
        try:
            link = await self.controller.mint_link(local_id)
        except GatewayError as error:
            self._status.show_status(f"Could not make a download link: {error.summary}")
            return None
        QGuiApplication.clipboard().setText(link.url)
        if link.expires_at:
            until = time.strftime("%H:%M", time.localtime(link.expires_at))
            self._status.show_status(f"Link copied, expires at {until}")
        else:
            self._status.show_status("Link copied")
        return link.url

    def resubmit_selected(self) -> None:
        """Load the selected job's request into the composer."""
        job = self.selected()
        if job is not None:
            self.resubmit_id(job.local_id)

    def resubmit_id(self, local_id: str) -> None:
        """Load job ``local_id``'s request into the composer."""
        job = self.controller.engine.job(local_id)
        if job is not None:
            self._composer.fill_from(job.params, parent_id=job.local_id)
            self._status.show_status("The request is in the composer: edit it and press Generate.")

    def copy_diagnostics_selected(self) -> None:
        """Copy the selected job's diagnostics."""
        job = self.selected()
        if job is not None:
            self.copy_diagnostics_for(job.local_id)

    def copy_diagnostics_for(self, local_id: str) -> None:
        """Put a job's redacted diagnostics on the clipboard."""
        self._spawn(self.copy_diagnostics_text(local_id))

    async def copy_diagnostics_text(self, local_id: str) -> str | None:
        """Build the diagnostics off the GUI thread (a journal read), then copy them."""
        text = await self.controller.diagnostics_text(local_id)
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self._status.show_status("Diagnostics copied (the API key is never included).")
        return text

    def export_diagnostics_selected(self) -> None:
        """Export the selected job's diagnostics to a file."""
        job = self.selected()
        if job is not None:
            self.export_id(job.local_id)

    def export_id(self, local_id: str) -> None:
        """Export job ``local_id``'s diagnostics to a file."""
        self.files.export_diagnostics(local_id)

    def mark_reviewed(self, local_id: str, reviewed: bool, note: str) -> None:
        """Mark a failed job reviewed (or not) with a note."""
        self._spawn(self.controller.review(local_id, reviewed, note))

    def delete_selected(self) -> None:
        """Delete the selected job's server copy after confirmation."""
        job = self.selected()
        if job is None or job.remote_id is None:
            return
        if job.download is DownloadState.DONE and job.files:
            title, action = "Delete on server", "Delete on server"
            text = (
                "Delete this job's video on the gateway? The copy on this computer and the "
                "job's record stay; the gateway's copy cannot be restored."
            )
        else:
            # The only copy is the gateway's: say plainly that it goes for good.
            title, action = "Delete on server: the video will be lost", "Delete and lose it"
            text = (
                "This video is not saved on this computer. Deleting it on the gateway loses "
                "it for good: it can no longer be downloaded, and nothing can restore it. "
                "Download it first to keep it."
            )
        if Confirm.ask(self._parent, title, text, action):
            self._spawn(self.delete_job(job.local_id))

    async def delete_job(self, local_id: str) -> None:
        """Delete a server copy off the GUI thread."""
        try:
            await self.controller.delete_on_server(local_id)
        except GatewayError as error:
            self._status.show_status(f"Could not delete on the server: {error.summary}")
            return
        self._status.show_status("Deleted on the server.")

    def remove_selected(self) -> None:
        """Hide the selected job from the list, with Undo for a few seconds."""
        job = self.selected()
        if job is None:
            return
        removed = self._jobs.remove(job.local_id)
        if removed is None:
            return
        self._removed.append(removed)
        self.undo_remove.setEnabled(True)
        self._spawn(self.controller.set_hidden(job.local_id, True))
        self._status.offer_undo("Removed from the list. The journal keeps the job.")

    def undo_last_remove(self) -> None:
        """Bring back the job removed last."""
        if not self._removed:
            return
        job = self._removed.pop()
        current = self.controller.engine.job(job.local_id) or job
        self._jobs.restore(current)
        self.undo_remove.setEnabled(bool(self._removed))
        self._status.hide_undo()
        self._spawn(self.controller.set_hidden(job.local_id, False))
        self._selection.select_job(job.local_id)
        self._status.show_status("The job is back in the list.")

    def refresh_selected(self) -> None:
        """Poll the selected job now (or every due job when none is selected)."""
        job = self.selected()
        pollable = job is not None and (job.pollable or job.state is JobState.SUBMIT_UNKNOWN)
        if job is not None and pollable and self.controller.engine.owns(job):
            self._spawn(self._refresh(job.local_id))
        else:
            self._check_now()
            self._status.show_status("Checking jobs now…", 2_000)

    async def _refresh(self, local_id: str) -> None:
        await self.controller.refresh(local_id)

    def download_pending(self) -> None:
        """Download (or retry) every completed video not yet on this computer."""
        self._spawn(self.controller.download_now())
