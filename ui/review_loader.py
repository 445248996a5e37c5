"""Shows a job in the failure review at once, and its timeline once read off the GUI thread.

The review's status, cause and ids come from the job itself; its timeline needs the job's
journal events, a query that can take a while on a long history. They are read on a worker
thread and shown when they arrive, if the job is still the one in the review (a late answer
for a job no longer shown is dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QObject

from core.jobs import Job
from core.journal import JournalEvent
from ui.offthread import Submit, run_task
from ui.review_panel import ReviewPanel


class ReviewLoader(QObject):
    """Fills one :class:`ReviewPanel`, reading each job's events with ``submit``."""

    def __init__(
        self,
        review: ReviewPanel,
        read_events: Callable[[str], Sequence[JournalEvent]],
        submit: Submit,
    ) -> None:
        """``read_events(local_id)`` is the journal query; ``submit`` the worker pool's."""
        super().__init__(review)
        self.review = review
        self._read_events = read_events
        self._submit = submit
        #: The events of the job shown last: its local id and the events.
        self._known: tuple[str, Sequence[JournalEvent]] = ("", ())

    def show(self, job: Job) -> None:
        """Show ``job`` now (with the events already read for it), then its latest events."""
        known_id, known = self._known
        self.review.show_job(job, known if known_id == job.local_id else ())
        run_task(
            self._submit,
            self._read_events,
            job.local_id,
            on_result=partial(self._on_events, job.local_id),
            receiver=self,
        )

    def _on_events(self, local_id: str, events: Sequence[JournalEvent]) -> None:
        shown = self.review.job
        if shown is None or shown.local_id != local_id:
            return  # another job is shown by now
        self._known = (local_id, events)
        self.review.show_job(shown, events)
