"""Actions on linked sets: send a compare set or a batch, list one set, open the Compare view.

Sets are sent on a worker thread (:func:`core.set_sender.send_set`, one create at a time
within the engine's request budget) while the window stays responsive; the status bar counts
what was sent and offers "Stop sending". Members are read from the journal off the GUI
thread before the Compare view opens.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QPushButton, QWidget

from core.batch_file import unsent_csv
from core.catalogue import ModelInfo
from core.job_sets import PlannedJob, compare_plan, compare_window, gateway_estimator
from core.jobs import Job, JobParams, SetKind
from core.pricing_client import PriceSource
from core.set_sender import SendReport, send_set
from ui.action_ports import CostCheck, JobList, SetForm, SetSelection, StatusSink
from ui.controller import Controller
from ui.offthread import on_gui_thread, run_task

if TYPE_CHECKING:
    from collections.abc import Callable

    from ui.compare_view import CompareView

logger = logging.getLogger(__name__)


def set_caption(job: Job, members: int) -> str:
    """``Batch of 12 jobs: "A kite over…"`` / ``Compare set of 3 models: …``."""
    kind = job.set_kind.label if job.set_kind is not None else "Linked set"
    noun = "models" if job.set_kind is SetKind.COMPARE else "jobs"
    first = job.params.prompt.splitlines()[0] if job.params.prompt else ""
    first = first if len(first) <= 50 else first[:49] + "…"
    return f"{kind} of {members} {noun}: “{first}”"


class SetActions(QObject):
    """The linked-set actions (context menu, toolbar, keyboard) and the "Stop sending" button.

    The window places them: :attr:`show_set` and :attr:`compare` in the job's context menu,
    :attr:`compare` and :attr:`batch` in the toolbar, :attr:`stop_button` in the status bar;
    it calls :meth:`update_enabled` when the selection changes and :meth:`send_compare` when
    the composer asks for a compare set.
    """

    def __init__(
        self,
        controller: Controller,
        *,
        selection: SetSelection,
        jobs: JobList,
        composer: SetForm,
        guard: CostCheck,
        status: StatusSink,
        parent: QWidget,
    ) -> None:
        """``parent`` owns the dialogs, the Compare views and the Stop button."""
        super().__init__(parent)
        self.controller = controller
        self._selection = selection
        self._jobs = jobs
        self._composer = composer
        self._guard = guard
        self._status = status
        self._parent = parent
        self.views: dict[str, CompareView] = {}
        self.last_report: SendReport | None = None
        self._cancel: threading.Event | None = None
        #: The prompts (as batch CSV) the last batch did not send: Batch… opens with them.
        self.unsent = ""
        #: Prices for the batch preview, asked of the gateway off the GUI thread.
        self.estimator = gateway_estimator(PriceSource(controller.context.client))
        self.show_set = self._action(
            "Show this set only", "showSetAction", "Ctrl+Shift+L", self.show_selected_set
        )
        self.compare = self._action(
            "Compare set…", "compareAction", "Ctrl+Shift+M", self.compare_selected
        )
        self.batch = self._action("Batch…", "batchAction", "Ctrl+B", self.open_batch)
        self.batch.setToolTip("Send many prompts at once, from text or a .txt/.csv file (Ctrl+B)")
        self.stop_button = QPushButton("Stop sending", parent)
        self.stop_button.setObjectName("stopSendingButton")
        self.stop_button.setAccessibleName("Stop sending the rest of the batch")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop_sending)
        controller.job_changed.connect(self._on_job_changed, Qt.ConnectionType.QueuedConnection)
        self.update_enabled(None)

    def _action(self, text: str, name: str, shortcut: str, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{text.rstrip('…')} ({shortcut})")
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def update_enabled(self, job: Job | None) -> None:
        """Enable the set actions only for a job that belongs to a set."""
        linked = job is not None and job.set_id is not None
        self.show_set.setEnabled(linked)
        self.compare.setEnabled(linked)

    @property
    def sending(self) -> bool:
        """Whether a set is being sent right now."""
        return self._cancel is not None

    # -- listing and comparing ----------------------------------------------------------------

    def show_selected_set(self) -> None:
        """Narrow the list to the selected job's set."""
        job = self._selection.selected_job()
        if job is None or job.set_id is None:
            return
        members = sum(1 for item in self._jobs.jobs() if item.set_id == job.set_id)
        self._selection.show_set(job.set_id, set_caption(job, members))

    def compare_selected(self) -> None:
        """Open the Compare view of the selected job's set (members read off the GUI thread)."""
        job = self._selection.selected_job()
        if job is None or job.set_id is None:
            return
        run_task(
            self.controller.run_background,
            self.controller.context.journal.set_members,
            job.set_id,
            on_result=lambda members: self.open_compare(members, selected=job.local_id),
            on_error=lambda error: self._status.show_status(f"Could not read the set: {error}"),
            receiver=self,
        )

    def open_compare(self, jobs: list[Job], selected: str | None = None) -> CompareView | None:
        """Show (or bring forward) the Compare view of these set members.

        A set of more than ``MAX_COMPARED`` jobs (a batch) is compared a window at a time:
        the ``selected`` job and the ones after it.
        """
        if not jobs or jobs[0].set_id is None:
            return None
        set_id = jobs[0].set_id
        ids = [job.local_id for job in jobs]
        chosen, start = compare_window(jobs, ids.index(selected) if selected in ids else None)
        view = self.views.get(set_id)
        if view is not None and [pane.job.local_id for pane in view.panes] != [
            job.local_id for job in chosen
        ]:
            view.close()  # another window of the same batch was asked for
            view = None
        if view is None:
            newest = [self.controller.engine.job(job.local_id) or job for job in chosen]
            from ui.compare_view import CompareView  # Qt Multimedia loads on first use

            names = {model.id: model.name for model in self._composer.models}
            view = CompareView(newest, self.set_kept, self._parent, model_names=names)
            if len(chosen) < len(jobs):
                view.setWindowTitle(
                    f"Compare: jobs {start + 1}-{start + len(chosen)} of {len(jobs)}"
                )
            view.destroyed.connect(partial(self._forget, set_id, id(view)))
            self.views[set_id] = view
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def _forget(self, set_id: str, view_id: int, *_destroyed: object) -> None:
        """A Compare view closed: forget it, unless a newer view of the set took its place."""
        if id(self.views.get(set_id)) == view_id:
            del self.views[set_id]

    def _on_job_changed(self, job: Job) -> None:
        view = self.views.get(job.set_id) if job.set_id else None
        if view is not None:
            view.update_job(job)

    def set_kept(self, local_id: str, kept: bool) -> None:
        """Keep (or stop keeping) a clip the creator picked, journaled off the GUI thread."""
        run_task(
            self.controller.run_background,
            self.controller.engine.set_kept,
            local_id,
            kept,
            on_result=lambda _job: self._status.show_status(
                "Kept this clip." if kept else "No longer kept."
            ),
            receiver=self,
        )

    # -- sending ------------------------------------------------------------------------------

    def send_compare(self, params: JobParams, models: list[ModelInfo]) -> None:
        """The composer asked for one prompt on several models: send them as a compare set."""
        plan = compare_plan(params, models)
        self._composer.set_busy(True)
        self.send_plan(plan, SetKind.COMPARE)

    def open_batch(self) -> None:
        """Ask for a batch of prompts, then send it."""
        composer = self._composer
        from ui.batch_dialog import BatchDialog  # built on first use

        request = BatchDialog.ask(
            self._parent,
            composer.models,
            composer.params(),
            estimate=self.estimator,
            submit=self.controller.run_background,
            text=self.unsent,
        )
        if request is not None:
            self.unsent = ""
            self.send_plan(request.jobs, SetKind.BATCH)

    def send_plan(self, plan: list[PlannedJob], kind: SetKind) -> bool:
        """Send ``plan`` as one linked set on a worker thread once the budget guard agrees.

        Returns False (sending nothing) while another set is still being sent.
        """
        if self._cancel is not None:
            self._status.show_status("A batch is still being sent; wait for it or stop it.")
            self._composer.set_busy(False)
            return False
        cancel = threading.Event()
        self._cancel = cancel  # taken now: a second set waits while this one is approved
        self._status.show_status(f"{kind.label}: checking the cost of {len(plan)} job(s)…", 0)
        self.controller.spawn(self._approve_then_send(plan, kind, cancel))
        return True

    async def _approve_then_send(
        self, plan: list[PlannedJob], kind: SetKind, cancel: threading.Event
    ) -> None:
        """Ask the budget guard about the set's total; send it only when approved."""
        approved = await self._guard.approve([job.params for job in plan])
        if not approved:
            self._status.show_status(self._guard.last_note or "Not sent.", 0)
        if not approved or cancel.is_set():
            self._finish()
            if not approved and kind is SetKind.COMPARE:
                self._composer.show_submit_error(self._guard.last_note or "Not sent.")
            return
        self._start(plan, kind, cancel)

    def _start(self, plan: list[PlannedJob], kind: SetKind, cancel: threading.Event) -> None:
        """Send an approved set on a worker thread, counting in the status bar."""
        progress = on_gui_thread(self._on_sent, self)
        self.stop_button.setVisible(len(plan) > 1)
        self._status.show_status(f"{kind.label}: sending {len(plan)} job(s)…", 0)
        future = run_task(
            self.controller.run_background,
            lambda: send_set(self.controller.engine, plan, kind, cancel=cancel, on_sent=progress),
            on_result=lambda report: self._sent(report, plan),
            on_error=self._send_failed,
            receiver=self,
        )
        if future is None:
            self._finish()

    def stop_sending(self) -> None:
        """Send no more jobs of the set under way (those sent carry on)."""
        if self._cancel is not None:
            self._cancel.set()
            self._status.show_status("Stopping after the job being sent…", 0)

    def _on_sent(self, job: Job, sent: int, total: int) -> None:
        kind = job.set_kind.label if job.set_kind is not None else "Set"
        self._status.show_status(f"{kind}: {sent} of {total} sent…", 0)

    def _finish(self) -> None:
        self._cancel = None
        self.stop_button.setVisible(False)
        self._composer.set_busy(False)

    def _sent(self, report: SendReport, plan: list[PlannedJob]) -> None:
        self._finish()
        self.last_report = report
        summary = report.summary
        if report.kind is SetKind.BATCH and report.unsent:
            self.unsent = unsent_csv(report.not_sent(plan))
            summary += f" Batch… (Ctrl+B) opens with the {report.unsent} prompt(s) not sent."
        self._status.show_status(summary)
        if not report.jobs:
            return
        first = report.jobs[0]
        self._selection.show_set(report.set_id, set_caption(first, report.total))
        self._selection.select_job(first.local_id)
        if report.kind is SetKind.COMPARE:
            self._composer.show_set_result(report.summary)
            self.open_compare(report.jobs)

    def _send_failed(self, error: BaseException) -> None:
        self._finish()
        logger.error("Sending a set failed", exc_info=error)
        self._status.show_error("Sending stopped", f"Sending the set stopped: {error}")
