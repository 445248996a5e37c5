"""Reelgate's main window: composer, job table, preview or review, toolbar and status bar.

The window wires the pieces together and decides where things are shown; the work itself
happens in the controller (worker threads) and the per-job actions live in
:mod:`ui.job_actions`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import ModelInfo
from core.errors import GatewayError
from core.jobs import REVIEW_STATES, Job, JobState
from resources.paths import icon_path
from ui.composer import Composer
from ui.controller import Controller
from ui.costs import Costs
from ui.gallery_frames import GalleryFrames
from ui.job_actions import JobActions
from ui.jobs_model import JobsModel, is_active
from ui.jobs_view import JobsView
from ui.notifier import Notifier
from ui.offthread import run_task
from ui.pane_toggles import add_pane_toggles
from ui.poller import Poller
from ui.set_actions import SetActions
from ui.theme import ThemeChoice, app_theme
from ui.thumbnails import ThumbnailCache
from ui.warm_up import warm_up

# The preview (Qt Multimedia), the review panel and the dialogs are built on first use, so
# the window paints sooner (tests/bench/bench_startup.py); Qt Multimedia is loaded while the
# window is idle after it shows (ui.warm_up).
if TYPE_CHECKING:
    from ui.preview import PreviewPanel
    from ui.review_loader import ReviewLoader
    from ui.review_panel import ReviewPanel

logger = logging.getLogger(__name__)

APP_TITLE = "Reelgate"
DEMO_TEXT = (
    "<b>Demo mode.</b> The built-in demo gateway makes short test-pattern videos on this "
    "computer: nothing is sent to Phaseo and nothing is billed. To generate real videos, "
    "open <b>Settings</b> (Ctrl+,), enter your Phaseo API key and restart Reelgate."
)
STATUS_MESSAGE_MS = 8_000
#: The window's first size, and the panes' widths in it: at 1280x800 the job list shows the
#: prompt, model, duration, status, cost, keep and rating columns without scrolling sideways.
DEFAULT_SIZE = (1280, 800)
COMPOSER_WIDTH = 295
DETAIL_WIDTH = 372
#: Jobs listed before the window shows; older ones follow (see MainWindow._load_history).
FIRST_PAGE = 500
#: When the modules of things built on first use load after the window shows (ms).
WARM_UP_AFTER_MS = 1500


def _b64(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")


def _unb64(text: object) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    return QByteArray.fromBase64(text.encode("ascii"))


class CloseNotice:
    """Tells the user that running jobs carry on next time (``ask`` is faked in tests)."""

    @classmethod
    def ask(cls, parent: QWidget, count: int) -> bool:
        """True to close (the default), False to keep the window open."""
        plural = "job is" if count == 1 else "jobs are"
        box = QMessageBox(parent)
        box.setObjectName("closeNotice")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Jobs still running")
        box.setText(f"{count} {plural} still running on the gateway.")
        box.setInformativeText(
            "They keep going there. Reelgate picks them up again and downloads the videos "
            "the next time it starts."
        )
        close = box.addButton("Close Reelgate", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep open", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(close)
        box.exec()
        return box.clickedButton() is close


class MainWindow(QMainWindow):
    """The one window: compose on the left, jobs in the middle, the selected job on the right."""

    #: The window closed (after saving its state); the app may quit.
    closed = Signal()

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.controller = controller
        self.context = controller.context
        self.preferences = controller.preferences
        self.theme = app_theme()
        self.theme.apply(ThemeChoice.parse(self.preferences.theme))
        self.preferences.changed.connect(self._on_preference_changed)
        self._closing = False
        self._quiet_close = False
        demo = self.context.demo_mode
        # Ending with the app name stops Qt from appending the display name a second time.
        self.setWindowTitle(f"Demo mode — {APP_TITLE}" if demo else APP_TITLE)
        self.setWindowIcon(QIcon(str(icon_path())))

        journal = self.context.journal
        self.thumbnails = ThumbnailCache(controller.run_background, self)
        # The newest jobs (and every running one) now, the rest of a long history from a
        # worker thread once the window shows: decoding 100,000 jobs takes about 1.5 s.
        first_page = journal.jobs(limit=FIRST_PAGE)
        self._history_pending = len(first_page) >= FIRST_PAGE
        listed = {job.local_id for job in first_page}
        first_page += [j for j in controller.engine.active_jobs() if j.local_id not in listed]
        self.model = JobsModel(
            first_page,
            hidden=journal.hidden_ids(),
            thumbnails=self.thumbnails,
            owns=controller.engine.owns,
            parent=self,
        )
        self.gallery_frames = GalleryFrames(controller.run_background, self)
        self.jobs_view = JobsView(self.model, self, frames=self.gallery_frames)
        self.composer = Composer(self)
        self.composer.images.use_runner(controller.run_background)
        self._preview: PreviewPanel | None = None
        self._review_loader: ReviewLoader | None = None
        self.placeholder = QLabel("Select a job to see it here.", self)
        self.placeholder.setObjectName("detailPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.detail_stack = QStackedWidget(self)
        self.detail_stack.setObjectName("detailStack")
        self.detail_stack.addWidget(self.placeholder)

        self.jobs_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.jobs_splitter.setObjectName("jobsSplitter")
        # The same breathing room as the composer's layout (nothing touches the window edge).
        self.jobs_splitter.setContentsMargins(0, 9, 9, 9)
        self.jobs_splitter.addWidget(self.jobs_view)
        self.jobs_splitter.addWidget(self.detail_stack)
        self.jobs_splitter.setStretchFactor(0, 3)
        self.jobs_splitter.setStretchFactor(1, 2)
        # Room for the job list's needed columns and for the preview's controls at 1280x800.
        self.jobs_splitter.setSizes([1000 - DETAIL_WIDTH, DETAIL_WIDTH])
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(self.composer)
        self.main_splitter.addWidget(self.jobs_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([COMPOSER_WIDTH, 1000])

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.demo_banner: QLabel | None = None
        if demo:
            self.demo_banner = QLabel(DEMO_TEXT, central)
            self.demo_banner.setObjectName("demoBanner")
            self.demo_banner.setAccessibleName("Demo mode notice")
            self.demo_banner.setWordWrap(True)
            self.demo_banner.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(self.demo_banner)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self.poller = Poller(
            controller, auto_download=lambda: self.preferences.auto_download, parent=self
        )
        self.notifier = Notifier(self, self.windowIcon())
        self.notifier.set_enabled(self.preferences.notifications)
        self.notifier.remember(self.model.jobs())
        self.job_actions = JobActions(self)
        self.costs = Costs(self)
        self.set_actions = SetActions(self)
        self.composer_toggle, self.detail_toggle = add_pane_toggles(
            self,
            self.main_splitter,
            self.jobs_splitter,
            self.job_actions.toolbar,
            (COMPOSER_WIDTH, DETAIL_WIDTH),
        )
        self._connect()
        self.setTabOrder(self.composer.submit_button, self.jobs_view.filter_combo)
        self.restore_state()
        self.composer.restore(self.preferences.last_params)
        self.show_detail(None)
        self.resize(self.size().expandedTo(self.minimumSizeHint()))

    # -- construction -------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setAccessibleName("Undo remove from list")
        self.undo_button.setVisible(False)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setObjectName("saveProgress")
        self.progress_bar.setAccessibleName("Save progress")
        self.progress_bar.setMaximumWidth(200)
        self.progress_bar.setVisible(False)
        holder = QWidget(self)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_bar)
        row.addWidget(self.undo_button)
        bar.addPermanentWidget(holder)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(lambda: self.undo_button.setVisible(False))

    def _connect(self) -> None:
        queued = Qt.ConnectionType.QueuedConnection
        self.controller.job_changed.connect(self.on_job_changed, queued)
        self.controller.download_progressed.connect(self.model.set_download_progress, queued)
        self.controller.error_raised.connect(self.show_status, queued)
        self.preferences.save_failed.connect(self.show_status)
        self.controller.catalogue_loaded.connect(self.composer.set_models, queued)
        self.controller.catalogue_loaded.connect(self._show_model_names, queued)
        self.poller.key_rejected.connect(self.on_key_rejected)
        self.jobs_view.selection_changed.connect(self.show_detail)
        self.model.ticked.connect(self._refresh_placeholder)
        self.jobs_view.job_activated.connect(self.job_actions.activate)
        self.notifier.job_activated.connect(self._reveal_job)

    def start(self) -> None:
        """Begin work: poll unfinished jobs, load the catalogue, show start-up messages."""
        self.poller.start()
        self.model.start_ticking()
        self.controller.load_catalogue()
        self.costs.start()
        self._load_history()
        if self.context.messages:
            self.show_startup_notes(self.context.messages)
        QTimer.singleShot(WARM_UP_AFTER_MS, lambda: warm_up(self.controller.run_background, self))

    @property
    def preview(self) -> PreviewPanel:
        """The video preview, built on first use and reused for every video after that."""
        if self._preview is None:
            from ui.preview import PreviewPanel

            panel = PreviewPanel(self)
            self.detail_stack.addWidget(panel)
            self.job_actions.attach_preview(panel)
            self._preview = panel
        return self._preview

    @property
    def review(self) -> ReviewPanel:
        """The failure review, built on first use."""
        return self.review_loader.review

    @property
    def review_loader(self) -> ReviewLoader:
        """Fills the review (built on first use); its timeline is read off the GUI thread."""
        if self._review_loader is None:
            from ui.review_loader import ReviewLoader
            from ui.review_panel import ReviewPanel

            panel = ReviewPanel(self)
            self.detail_stack.addWidget(panel)
            self.job_actions.attach_review(panel)
            journal = self.context.journal
            self._review_loader = ReviewLoader(
                panel, lambda local_id: journal.events(local_id), self.controller.run_background
            )
        return self._review_loader

    def _load_history(self) -> None:
        """List the jobs older than the first page, read on a worker thread."""
        if not self._history_pending:
            return
        self._history_pending = False
        run_task(
            self.controller.run_background,
            self.context.journal.jobs,
            on_result=self._on_history_loaded,
            on_error=self._on_history_failed,
            receiver=self,
        )

    def _on_history_failed(self, error: BaseException) -> None:
        logger.error("Could not list the job history", exc_info=error)
        self.show_status(f"Could not list older jobs: {error}")

    def _on_history_loaded(self, jobs: list[Job]) -> None:
        self.notifier.remember(jobs)
        self.model.add_jobs(jobs)

    def show_startup_notes(self, messages: list[str]) -> QMessageBox:
        """Things to know from start-up (a damaged journal kept aside, no keychain...)."""
        self.show_status(messages[-1], 0)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            APP_TITLE,
            "\n\n".join(messages),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("startupNotes")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        return box

    # -- showing things -----------------------------------------------------------------------

    def show_status(self, message: str, timeout_ms: int = STATUS_MESSAGE_MS) -> None:
        """A transient message in the status bar (also announced to screen readers)."""
        self.statusBar().showMessage(message, timeout_ms)
        self.statusBar().setAccessibleDescription(message)

    def show_error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that needs the user's attention (does not block the loop)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setObjectName("errorBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def offer_undo(self, text: str) -> None:
        """Show the Undo button next to ``text`` for about ten seconds."""
        self.show_status(text, 10_000)
        self.undo_button.setVisible(True)
        self._undo_timer.start(10_000)

    def show_detail(self, job: Job | None) -> None:
        """Show the selected job on the right: preview, review, or its status."""
        self.job_actions.update_enabled(job)
        if job is None:
            self.placeholder.setText("Select a job to see it here.")
            self.detail_stack.setCurrentWidget(self.placeholder)
            return
        if job.state is JobState.COMPLETED:
            self._show_completed(job)
        elif job.state in REVIEW_STATES or job.troubled or job.auth_blocked:
            self.review_loader.show(job)
            self.detail_stack.setCurrentWidget(self.review)
        else:
            self.placeholder.setText(f"{self.model.status_line(job)}\n\n{job.params.prompt[:400]}")
            self.detail_stack.setCurrentWidget(self.placeholder)

    def _show_completed(self, job: Job) -> None:
        path = Path(job.files[0]) if job.files else None
        if path is not None and job.download.value == "done":
            if self.preview.current_path != path:
                self.preview.show_file(path, job.params.prompt.splitlines()[0][:120])
        else:
            reason = {
                "active": "The video is downloading…",
                "failed": f"The download failed: {job.download_problem or 'unknown problem'}. "
                "Use Retry download.",
            }.get(job.download.value, "The video has not been downloaded yet.")
            self.preview.clear(reason)
        self.detail_stack.setCurrentWidget(self.preview)

    def _refresh_placeholder(self) -> None:
        """Keep the countdown of the selected running job current."""
        if self.detail_stack.currentWidget() is not self.placeholder:
            return
        job = self.jobs_view.selected_job()
        if job is not None and not job.terminal:
            self.show_detail(job)

    def _reveal_job(self, local_id: str) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()
        self.jobs_view.select_job(local_id)

    # -- events -------------------------------------------------------------------------------

    def on_job_changed(self, job: Job) -> None:
        """A job changed in the engine: update its row, the detail pane and notifications."""
        old = self.model.job(job.local_id)
        if old is not None and job.updated_at < old.updated_at:
            return  # a late report of an older state
        self.model.upsert(job)
        self.notifier.notify(job)
        selected = self.jobs_view.selected_job()
        if selected is not None and selected.local_id == job.local_id:
            self.show_detail(job)

    def on_key_rejected(self, error: GatewayError) -> None:
        """The key was refused: polling is paused until a new key is entered."""
        reason = error.reason or error.message or "no reason given"
        box = QMessageBox(self)
        box.setObjectName("keyRejectedBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("API key refused")
        box.setText(f"The gateway refused the API key ({reason}). Polling is paused.")
        box.setInformativeText("Enter a valid key in Settings; polling resumes right away.")
        settings = box.addButton("Open Settings…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        settings.clicked.connect(self.open_settings, Qt.ConnectionType.QueuedConnection)
        self.key_rejected_box = box
        box.open()
        self.show_status(f"The gateway refused the API key ({reason}). Polling is paused.", 0)

    # -- settings -----------------------------------------------------------------------------

    def open_settings(self) -> None:
        """Show Settings and apply what changed."""
        context = self.context
        old_base_url = self.preferences.base_url
        from ui.dialogs.settings_dialog import SettingsDialog  # built on first use

        result = SettingsDialog.ask(self, context, self.preferences)
        if result is None:
            return
        context.engine.videos_dir = (
            Path(result.download_dir) if result.download_dir else context.paths.videos
        )
        self.notifier.set_enabled(result.notifications)
        self.costs.settings_changed()
        if result.api_key_changed and context.demo_mode:
            if result.api_key:
                self.preferences.demo_mode = False
            self.show_status("The key is saved. Restart Reelgate to leave demo mode.", 0)
        elif result.api_key_changed:
            self.controller.spawn(self._use_key(result.api_key))
        elif result.base_url != old_base_url:
            self.show_status("Restart Reelgate to use the new gateway address.", 0)
        self.poller.rearm()

    async def _use_key(self, key: str | None) -> None:
        await self.controller.set_api_key(key)
        self.poller.wake_now()
        self.show_status("The new API key is in use; polling resumed.")

    def _show_model_names(self, models: list[ModelInfo], _note: str = "") -> None:
        """The job list names models as the catalogue does (the id stays in the tooltip)."""
        self.model.set_model_names({model.id: model.name for model in models})

    def _on_preference_changed(self, name: str) -> None:
        if name == "theme":
            self.theme.apply(ThemeChoice.parse(self.preferences.theme))

    # -- remembered layout --------------------------------------------------------------------

    def restore_state(self) -> None:
        """Geometry, splitters, columns and filter from ``settings.window``."""
        state: dict[str, Any] = self.preferences.window or {}
        geometry = _unb64(state.get("geometry"))
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        for splitter, key in (
            (self.main_splitter, "main_splitter"),
            (self.jobs_splitter, "jobs_splitter"),
        ):
            data = _unb64(state.get(key))
            if data is not None:
                splitter.restoreState(data)
        jobs_state = state.get("jobs")
        if isinstance(jobs_state, dict):
            self.jobs_view.restore_state(jobs_state)
        self.composer_toggle.sync()
        self.detail_toggle.sync()

    def save_state(self) -> None:
        """Put the window layout into ``settings.window`` (saved with the settings)."""
        self.preferences.window = {
            "geometry": _b64(self.saveGeometry()),
            "main_splitter": _b64(self.main_splitter.saveState()),
            "jobs_splitter": _b64(self.jobs_splitter.saveState()),
            "jobs": self.jobs_view.save_state(),
        }

    def close_without_asking(self) -> None:
        """Close at once (Ctrl+C or a stop request from the system): jobs resume next time."""
        self._quiet_close = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Say that running jobs continue next time, remember the layout, and shut down."""
        if self._closing:
            event.accept()
            return
        running = sum(1 for job in self.controller.engine.active_jobs() if is_active(job))
        if running and not self._quiet_close and not CloseNotice.ask(self, running):
            event.ignore()
            return
        self._closing = True
        self.set_actions.stop_sending()  # a batch still going out sends nothing more
        self.save_state()
        self.preferences.flush()
        self.poller.stop()
        self.model.stop_ticking()
        if self._preview is not None:
            self._preview.clear()
        self.hide()
        self.controller.close()
        event.accept()
        self.closed.emit()
