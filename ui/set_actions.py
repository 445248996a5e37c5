"""Actions on linked sets (compare sets and batches): list one set, compare it, send a batch."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from core.jobs import Job

if TYPE_CHECKING:
    from ui.main_window import MainWindow

logger = logging.getLogger(__name__)


def set_caption(job: Job, members: int) -> str:
    """``Batch of 12 jobs`` / ``Compare set of 3 models: "A kite over…"``."""
    kind = job.set_kind.label if job.set_kind is not None else "Linked set"
    noun = "models" if kind == "Compare set" else "jobs"
    first = job.params.prompt.splitlines()[0] if job.params.prompt else ""
    first = first if len(first) <= 50 else first[:49] + "…"
    return f"{kind} of {members} {noun}: “{first}”"


class SetActions(QObject):
    """The linked-set actions of one main window (context menu, toolbar, keyboard)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.show_set = QAction("Show this set only", self)
        self.show_set.setObjectName("showSetAction")
        self.show_set.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.show_set.setToolTip("List only the jobs of this compare set or batch (Ctrl+Shift+L)")
        self.show_set.triggered.connect(lambda _checked=False: self.show_selected_set())
        window.addAction(self.show_set)
        window.job_actions.menu_extras.extend([None, self.show_set])
        window.jobs_view.selection_changed.connect(self.update_enabled)
        self.update_enabled(None)

    def update_enabled(self, job: Job | None) -> None:
        """Enable the set actions only for a job that belongs to a set."""
        self.show_set.setEnabled(job is not None and job.set_id is not None)

    def show_selected_set(self) -> None:
        """Narrow the list to the selected job's set."""
        job = self.window.jobs_view.selected_job()
        if job is None or job.set_id is None:
            return
        members = sum(1 for item in self.window.model.jobs() if item.set_id == job.set_id)
        self.window.jobs_view.show_set(job.set_id, set_caption(job, members))
