"""What can be done to a job from the toolbar, the context menu and the keyboard.

Each action is enabled only when it makes sense for the selected job. Dialogs are asked
from plain slots (never inside a coroutine); the work they lead to runs as a coroutine that
awaits the controller, so the window stays responsive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolBar, QWidget

from core.errors import GatewayError
from core.jobs import DownloadState, Job, JobState
from ui.file_actions import FileActions
from ui.pick_actions import PickActions

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.preview import PreviewPanel
    from ui.review_panel import ReviewPanel

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


def _add_all(target: QToolBar | QMenu, *items: QAction | None) -> None:
    """Add actions in order; ``None`` adds a separator."""
    for item in items:
        if item is None:
            target.addSeparator()
        else:
            target.addAction(item)


class JobActions(QObject):
    """The job actions and their handlers, for one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self._removed: list[Job] = []
        self._job: Job | None = None
        #: More actions for the job's context menu (None adds a separator): linked sets...
        self.menu_extras: list[QAction | None] = []
        self.files = FileActions(window)
        add = self._action
        self.preview = add("Preview", "previewAction", "Return", self.preview_selected)
        self.save_as = add("Save as…", "saveAsAction", "Ctrl+S", self.save_selected)
        self.copy_link = add(
            "Copy download link", "copyLinkAction", "Ctrl+L", self.copy_link_selected
        )
        self.open_folder = add(
            "Open containing folder", "openFolderAction", "Ctrl+Shift+O", self.open_folder_selected
        )
        self.resubmit = add("Resubmit", "resubmitAction", "Ctrl+R", self.resubmit_selected)
        self.copy_diagnostics = add(
            "Copy diagnostics",
            "copyDiagnosticsAction",
            "Ctrl+Shift+C",
            self.copy_diagnostics_selected,
        )
        self.export_diagnostics = add(
            "Export diagnostics…", "exportDiagnosticsAction", None, self.export_diagnostics_selected
        )
        self.delete_on_server = add(
            "Delete on server…", "deleteOnServerAction", "Shift+Del", self.delete_selected
        )
        self.remove = add("Remove from list", "removeAction", "Del", self.remove_selected)
        self.undo_remove = add("Undo remove", "undoRemoveAction", "Ctrl+Z", self.undo_last_remove)
        self.refresh = add("Refresh", "refreshAction", "F5", self.refresh_selected)
        self.download = add("Retry download", "downloadAction", "Ctrl+D", self.download_pending)
        self.settings = add("Settings", "settingsAction", "Ctrl+,", window.open_settings)
        self.find = add("Find", "findAction", "Ctrl+F", window.jobs_view.focus_search)
        self.undo_remove.setEnabled(False)
        self.picks = PickActions(
            self.selected, self.controller.set_rating, self.controller.set_kept, self._spawn, self
        )
        # Del and Return belong to the table and the gallery: in the prompt they edit text.
        for view in window.jobs_view.item_views:
            for action in (self.remove, self.preview):
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                view.addAction(action)
            self.picks.attach(view)
        for action in (
            self.save_as,
            self.copy_link,
            self.open_folder,
            self.resubmit,
            self.copy_diagnostics,
            self.delete_on_server,
            self.undo_remove,
            self.refresh,
            self.download,
            self.settings,
            self.find,
        ):
            window.addAction(action)

        self.toolbar = QToolBar("Jobs", window)
        self.toolbar.setObjectName("mainToolBar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        _add_all(self.toolbar, self.preview, self.save_as, self.copy_link, self.open_folder, None)
        _add_all(self.toolbar, self.resubmit, self.refresh, self.download, None)
        _add_all(self.toolbar, self.copy_diagnostics, self.delete_on_server, self.remove, None)
        _add_all(self.toolbar, self.settings)
        settings_button = self.toolbar.widgetForAction(self.settings)
        settings_button.setObjectName("settingsButton")
        settings_button.setAccessibleName("Settings")
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

        window.undo_button.clicked.connect(self.undo_last_remove)
        window.jobs_view.context_menu_requested.connect(self.show_context_menu)
        window.composer.submit_requested.connect(self.submit)

    def attach_preview(self, preview: PreviewPanel) -> None:
        """Wire the preview's buttons (the window builds it on first use)."""
        preview.save_requested.connect(self.save_selected)
        preview.open_external_requested.connect(self.open_external_selected)

    def attach_review(self, review: ReviewPanel) -> None:
        """Wire the review panel's buttons (the window builds it on first use)."""
        review.resubmit_requested.connect(self._resubmit_id)
        review.copy_diagnostics_requested.connect(self.copy_diagnostics_for)
        review.export_diagnostics_requested.connect(self._export_id)
        review.mark_reviewed_requested.connect(self._mark_reviewed)

    def _action(
        self, text: str, name: str, shortcut: str | None, slot: Callable[[], Any]
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            keys = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text.rstrip('…')} ({keys})")
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.controller.spawn(coro)

    # -- state --------------------------------------------------------------------------------

    def selected(self) -> Job | None:
        """The selected job, newest version."""
        return self.window.jobs_view.selected_job()

    def update_enabled(self, job: Job | None) -> None:
        """Enable exactly the actions that make sense for ``job``."""
        self._job = job
        self.picks.update_enabled(job)
        on_disk = job is not None and job.download is DownloadState.DONE and bool(job.files)
        completed = job is not None and job.state is JobState.COMPLETED
        # A job made on another gateway (demo vs real) must not be asked about here.
        remote = (
            job is not None
            and job.remote_id is not None
            and not job.deleted_on_server
            and self.controller.engine.owns(job)
        )
        self.preview.setEnabled(on_disk)
        self.save_as.setEnabled(on_disk)
        self.open_folder.setEnabled(on_disk)
        self.copy_link.setEnabled(completed and remote)
        for action in (self.resubmit, self.copy_diagnostics, self.export_diagnostics, self.remove):
            action.setEnabled(job is not None)
        self.delete_on_server.setEnabled(
            remote and job is not None and job.state in (JobState.COMPLETED, JobState.FAILED)
        )
        self.download.setEnabled(
            job is not None and job.wants_download and job.download is not DownloadState.ACTIVE
        )
        self.download.setText(
            "Retry download" if self.window.preferences.auto_download else "Download"
        )

    def show_context_menu(self, position: QPoint) -> None:
        """The job's actions at the mouse (or keyboard menu key) position."""
        menu = QMenu(self.window)
        menu.setObjectName("jobContextMenu")
        _add_all(menu, self.preview, self.save_as, self.copy_link, self.open_folder, None)
        _add_all(menu, self.resubmit, self.refresh, self.download, None)
        self.picks.add_to(menu)
        _add_all(menu, None, self.copy_diagnostics, self.export_diagnostics, None)
        _add_all(menu, self.delete_on_server, self.remove, *self.menu_extras)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(position)

    def activate(self, job: Job) -> None:
        """Double-click: preview a finished video, or open the review of a failed job."""
        self.window.show_detail(job)
        if job.state is JobState.COMPLETED and job.download is DownloadState.DONE:
            self.window.preview.play()
        elif self.window.detail_stack.currentWidget() is self.window.review:
            self.window.review.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- submission ---------------------------------------------------------------------------

    def submit(self, params: Any, parent_id: Any) -> None:
        """The composer asked for a video."""
        self._spawn(self.submit_job(params, parent_id))

    async def submit_job(self, params: Any, parent_id: str | None) -> Job | None:
        """Check the cost, send the create off the GUI thread, say how it went (None: not sent)."""
        composer = self.window.composer
        composer.set_busy(True)
        try:
            guard = self.window.costs.guard
            if not await guard.approve([params]):
                composer.clear_submit_messages()
                composer.show_submit_error(guard.last_note or "Not sent.")
                return None
            job = await self.controller.submit(params, parent_id)
        finally:
            composer.set_busy(False)
        composer.show_submit_result(job)
        last = {k: v for k, v in params.to_dict().items() if k != "prompt"}
        self.window.preferences.last_params = last
        self.window.jobs_view.select_job(job.local_id)
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
            self.window.show_status(f"Could not make a download link: {error.summary}")
            return None
        QGuiApplication.clipboard().setText(link.url)
        if link.expires_at:
            until = time.strftime("%H:%M", time.localtime(link.expires_at))
            self.window.show_status(f"Link copied, expires at {until}")
        else:
            self.window.show_status("Link copied")
        return link.url

    def resubmit_selected(self) -> None:
        """Load the selected job's request into the composer."""
        job = self.selected()
        if job is not None:
            self._resubmit_id(job.local_id)

    def _resubmit_id(self, local_id: str) -> None:
        job = self.controller.engine.job(local_id)
        if job is not None:
            self.window.composer.fill_from(job.params, parent_id=job.local_id)
            self.window.show_status("The request is in the composer: edit it and press Generate.")

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
            self.window.show_status("Diagnostics copied (the API key is never included).")
        return text

    def export_diagnostics_selected(self) -> None:
        """Export the selected job's diagnostics to a file."""
        job = self.selected()
        if job is not None:
            self._export_id(job.local_id)

    def _export_id(self, local_id: str) -> None:
        self.files.export_diagnostics(local_id)

    def _mark_reviewed(self, local_id: str, reviewed: bool, note: str) -> None:
        self._spawn(self.controller.review(local_id, reviewed, note))

    def delete_selected(self) -> None:
        """Delete the selected job's server copy after confirmation."""
        job = self.selected()
        if job is None or job.remote_id is None:
            return
        if Confirm.ask(
            self.window,
            "Delete on server",
            "Delete this job's video on the gateway? The copy on this computer and the job's "
            "record stay; the gateway's copy cannot be restored.",
            "Delete on server",
        ):
            self._spawn(self.delete_job(job.local_id))

    async def delete_job(self, local_id: str) -> None:
        """Delete a server copy off the GUI thread."""
        try:
            await self.controller.delete_on_server(local_id)
        except GatewayError as error:
            self.window.show_status(f"Could not delete on the server: {error.summary}")
            return
        self.window.show_status("Deleted on the server.")

    def remove_selected(self) -> None:
        """Hide the selected job from the list, with Undo for a few seconds."""
        job = self.selected()
        if job is None:
            return
        removed = self.window.model.remove(job.local_id)
        if removed is None:
            return
        self._removed.append(removed)
        self.undo_remove.setEnabled(True)
        self._spawn(self.controller.set_hidden(job.local_id, True))
        self.window.offer_undo("Removed from the list. The journal keeps the job.")

    def undo_last_remove(self) -> None:
        """Bring back the job removed last."""
        if not self._removed:
            return
        job = self._removed.pop()
        current = self.controller.engine.job(job.local_id) or job
        self.window.model.restore(current)
        self.undo_remove.setEnabled(bool(self._removed))
        self.window.undo_button.setVisible(False)
        self._spawn(self.controller.set_hidden(job.local_id, False))
        self.window.jobs_view.select_job(job.local_id)
        self.window.show_status("The job is back in the list.")

    def refresh_selected(self) -> None:
        """Poll the selected job now (or every due job when none is selected)."""
        job = self.selected()
        pollable = job is not None and (job.pollable or job.state is JobState.SUBMIT_UNKNOWN)
        if job is not None and pollable and self.controller.engine.owns(job):
            self._spawn(self._refresh(job.local_id))
        else:
            self.window.poller.wake_now()
            self.window.show_status("Checking jobs now…", 2_000)

    async def _refresh(self, local_id: str) -> None:
        await self.controller.refresh(local_id)

    def download_pending(self) -> None:
        """Download (or retry) every completed video not yet on this computer."""
        self._spawn(self.controller.download_now())
