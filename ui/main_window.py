"""Reelgate's main window: composer, job table, detail pane, toolbar and status bar.

The window is layout and wiring: it builds the pieces, connects their signals and decides
where things are shown. The work happens in the controller (worker threads); the job
actions are declared in :mod:`ui.action_table` and handled in :mod:`ui.job_actions`, the
linked-set actions in :mod:`ui.set_actions`, costs in :mod:`ui.costs` (none of them import
this module: they get narrow dependencies, see :mod:`ui.action_ports`); the right-hand pane
is :mod:`ui.detail_pane` and the status bar :mod:`ui.status_bar`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import ModelInfo
from core.errors import GatewayError
from core.jobs import Job
from resources.paths import icon_path
from ui.action_table import ACTIONS, TOOLBAR, add_all, more_button
from ui.composer import Composer
from ui.controller import Controller
from ui.costs import Costs
from ui.detail_pane import DetailPane
from ui.gallery_frames import GalleryFrames
from ui.job_actions import JobActions
from ui.jobs_model import JobsModel, is_active
from ui.jobs_view import JobsView
from ui.notifier import Notifier
from ui.offthread import run_task
from ui.pane_toggles import add_pane_toggles
from ui.poller import Poller
from ui.set_actions import SetActions
from ui.status_bar import STATUS_MESSAGE_MS, StatusBar
from ui.theme import ThemeChoice, app_theme
from ui.thumbnails import ThumbnailCache
from ui.warm_up import warm_up
from ui.window_notices import APP_TITLE, CloseNotice, key_rejected_box, startup_notes_box

# The preview (Qt Multimedia), the review panel and the dialogs are built on first use, so
# the window paints sooner (tests/bench/bench_startup.py); Qt Multimedia is loaded while the
# window is idle after it shows (ui.warm_up). The detail pane builds them (ui.detail_pane).
if TYPE_CHECKING:
    from ui.preview import PreviewPanel
    from ui.review_panel import ReviewPanel

logger = logging.getLogger(__name__)

DEMO_TEXT = (
    "<b>Demo mode.</b> The built-in demo gateway makes short test-pattern videos on this "
    "computer: nothing is sent to Phaseo and nothing is billed. To generate real videos, "
    "open <b>Settings</b> (Ctrl+,), enter your Phaseo API key and restart Reelgate."
)
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


class MainWindow(QMainWindow):
    """The one window: compose on the left, jobs in the middle, the selected job on the right."""

    #: The window closed (after saving its state); the app may quit.
    closed = Signal()

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        """Build the window for ``controller``'s context with the newest jobs listed."""
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
        demo = self.context.runs_demo_gateway
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
        first_page += [j for j in controller.engine.unfinished_jobs() if j.local_id not in listed]
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
        self.detail_stack = DetailPane(
            self.model.status_line,
            lambda local_id: journal.events(local_id),  # looked up when read
            controller.run_background,
            self,
        )
        self.placeholder = self.detail_stack.placeholder

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

        self.status = StatusBar(self)
        self.undo_button = self.status.undo_button
        self.progress_bar = self.status.progress_bar
        self.poller = Poller(
            controller, auto_download=lambda: self.preferences.auto_download, parent=self
        )
        self.notifier = Notifier(self, self.windowIcon())
        self.notifier.set_enabled(self.preferences.notifications)
        self.notifier.remember(self.model.jobs())
        self.costs = Costs(controller, self.composer, self.status, self)
        self.job_actions = JobActions(
            controller,
            selection=self.jobs_view,
            status=self.status,
            progress=self.status,
            parent=self,
            composer=self.composer,
            guard=self.costs.guard,
            jobs=self.model,
            detail=self.detail_stack,
            check_now=self.poller.wake_now,
            open_settings=self.open_settings,
            focus_search=self.jobs_view.focus_search,
        )
        self.set_actions = SetActions(
            controller,
            selection=self.jobs_view,
            jobs=self.model,
            composer=self.composer,
            guard=self.costs.guard,
            status=self.status,
            parent=self,
        )
        self.toolbar = self._place_actions()
        self.composer_toggle, self.detail_toggle = add_pane_toggles(
            self,
            self.main_splitter,
            self.jobs_splitter,
            self.toolbar,
            (COMPOSER_WIDTH, DETAIL_WIDTH),
        )
        self._connect()
        self.setTabOrder(self.composer.submit_button, self.jobs_view.filter_combo)
        self.restore_state()
        self.composer.restore(self.preferences.last_params)
        self.show_detail(None)
        self.resize(self.size().expandedTo(self.minimumSizeHint()))

    # -- construction -------------------------------------------------------------------------

    def _place_actions(self) -> QToolBar:
        """Place every action and return the toolbar.

        Sets up the toolbar, the window-wide keys, the keys of the job views, the status bar's
        permanent widgets and the context menu's extras.
        """
        actions, sets, costs = self.job_actions, self.set_actions, self.costs
        views = self.jobs_view.item_views
        for spec in ACTIONS:
            action = actions.actions[spec.attr]
            if spec.table_only:  # Del and Return edit text in the prompt
                for view in views:
                    view.addAction(action)
            elif spec.attr != "export_diagnostics":  # menus only: it has no key
                self.addAction(action)
        for view in views:
            actions.picks.attach(view)
        for action in (costs.action, sets.show_set, sets.compare, sets.batch):
            self.addAction(action)
        actions.menu_extras.extend([None, sets.show_set, sets.compare])
        toolbar = QToolBar("Jobs", self)
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        add_all(toolbar, [None if n is None else actions.actions[n] for n in TOOLBAR])
        toolbar.insertWidget(actions.settings, more_button(toolbar, actions.actions))
        toolbar.insertSeparator(actions.settings)
        for action in (costs.action, sets.compare, sets.batch):
            toolbar.insertAction(actions.settings, action)
        toolbar.insertSeparator(actions.settings)
        for button, name, accessible in (
            (toolbar.widgetForAction(actions.settings), "settingsButton", "Settings"),
            (toolbar.widgetForAction(costs.action), "spendButton", "Spend"),
        ):
            button.setObjectName(name)
            button.setAccessibleName(accessible)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.statusBar().addPermanentWidget(costs.tracker.label)
        self.statusBar().addPermanentWidget(sets.stop_button)
        return toolbar

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
        self.notifier.job_activated.connect(self._reveal_job)
        actions, sets = self.job_actions, self.set_actions
        self.jobs_view.job_activated.connect(actions.activate)
        self.jobs_view.context_menu_requested.connect(actions.show_context_menu)
        self.jobs_view.selection_changed.connect(sets.update_enabled)
        self.undo_button.clicked.connect(actions.undo_last_remove)
        self.detail_stack.preview_built.connect(self._wire_preview)
        self.detail_stack.review_built.connect(self._wire_review)
        self.composer.submit_requested.connect(actions.submit)
        self.composer.compare_requested.connect(sets.send_compare)

    def _wire_preview(self, preview: PreviewPanel) -> None:
        actions = self.job_actions
        preview.save_requested.connect(actions.save_selected)
        preview.open_external_requested.connect(actions.open_external_selected)

    def _wire_review(self, review: ReviewPanel) -> None:
        actions = self.job_actions
        review.resubmit_requested.connect(actions.resubmit_id)
        review.copy_diagnostics_requested.connect(actions.copy_diagnostics_for)
        review.export_diagnostics_requested.connect(actions.export_id)
        review.mark_reviewed_requested.connect(actions.mark_reviewed)

    def start(self) -> None:
        """Begin work: poll unfinished jobs, load the catalogue, show start-up messages."""
        self.poller.start()
        self.model.start_ticking()
        if self.context.runs_demo_gateway:  # opens the keychain, off the GUI thread
            self.controller.run_background(self.context.redact_stored_key)
        self.controller.load_catalogue()
        self.costs.start()
        self._load_history()
        if self.context.messages:
            self.show_startup_notes(self.context.messages)
        QTimer.singleShot(
            WARM_UP_AFTER_MS,
            lambda: warm_up(
                self.controller.run_background, self, then=self.detail_stack.prepare_review
            ),
        )

    @property
    def preview(self) -> PreviewPanel:
        """The video preview (built on first use)."""
        return self.detail_stack.preview

    @property
    def review(self) -> ReviewPanel:
        """The failure review (built on first use)."""
        return self.detail_stack.review

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
        return startup_notes_box(self, messages)

    # -- showing things -----------------------------------------------------------------------

    def show_status(self, message: str, timeout_ms: int = STATUS_MESSAGE_MS) -> None:
        """A transient message in the status bar (see :meth:`StatusBar.show_status`)."""
        self.status.show_status(message, timeout_ms)

    def show_error(self, title: str, text: str) -> QMessageBox:
        """A window-modal message that needs the user's attention (does not block the loop)."""
        return self.status.show_error(title, text)

    def show_detail(self, job: Job | None) -> None:
        """Show the selected job on the right and enable the actions that fit it."""
        self.job_actions.update_enabled(job)
        self.detail_stack.show_job(job)

    def _refresh_placeholder(self) -> None:
        """Keep the countdown of the selected running job current."""
        self.detail_stack.refresh_countdown(self.jobs_view.selected_job)

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
        key_rejected_box(self, reason, self.open_settings)
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
        if result.api_key_changed and context.runs_demo_gateway:
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
        running = sum(1 for job in self.controller.engine.unfinished_jobs() if is_active(job))
        if running and not self._quiet_close and not CloseNotice.ask(self, running):
            event.ignore()
            return
        self._closing = True
        self.set_actions.stop_sending()  # a batch still going out sends nothing more
        self.save_state()
        self.preferences.flush()
        self.poller.stop()
        self.model.stop_ticking()
        if self.detail_stack.built_preview is not None:
            self.detail_stack.built_preview.clear()
        self.hide()
        self.controller.close()
        event.accept()
        self.closed.emit()
