"""What the window's actions need from the window, as small protocols (never the window itself).

The main window hands in objects that fit: the job views are the :class:`Selection` (and the
:class:`SetSelection`), the status bar is the :class:`StatusSink` and :class:`ProgressSink`,
the table model is the :class:`JobList`, the composer is the :class:`RequestForm` (and the
:class:`SetForm`), the budget guard is the :class:`CostCheck`, the detail pane is the
:class:`DetailView`. Tests may hand in anything with the same methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from core.catalogue import ModelInfo
from core.jobs import Job, JobParams


class Selection(Protocol):
    """The job the user has selected."""

    def selected_job(self) -> Job | None:
        """The selected job (its newest version), or ``None``."""
        ...

    def select_job(self, local_id: str) -> object:
        """Select the job ``local_id`` (and scroll to it)."""
        ...


class SetSelection(Selection, Protocol):
    """The selection, which can also narrow the list to one linked set."""

    def show_set(self, set_id: str | None, text: str | None = None) -> None:
        """List only the members of ``set_id`` under the caption ``text`` (None: all jobs)."""
        ...


class StatusSink(Protocol):
    """Where short news and problems are told."""

    def show_status(self, message: str, timeout_ms: int = ...) -> None:
        """A transient message (``timeout_ms`` 0 keeps it)."""
        ...

    def show_error(self, title: str, text: str) -> Any:
        """A problem that needs the user's attention (a non-blocking message box)."""
        ...

    def offer_undo(self, text: str) -> None:
        """``text`` with an Undo button for a few seconds."""
        ...

    def hide_undo(self) -> None:
        """Take the Undo button away."""
        ...


class ProgressSink(Protocol):
    """Where a long copy shows how far it got."""

    def begin_progress(self) -> None:
        """A copy started."""
        ...

    def progress(self, done: int, total: int | None) -> None:
        """``done`` of ``total`` bytes."""
        ...

    def end_progress(self) -> None:
        """The copy ended (either way)."""
        ...


class JobList(Protocol):
    """The listed jobs (hiding and bringing back)."""

    def jobs(self) -> list[Job]:
        """Every listed job."""
        ...

    def remove(self, local_id: str) -> Job | None:
        """Take a job off the list; the removed job, or ``None`` if it was not listed."""
        ...

    def restore(self, job: Job) -> None:
        """Put a removed job back."""
        ...


class RequestForm(Protocol):
    """The composer, as the submit and resubmit actions use it."""

    def set_busy(self, busy: bool) -> None:
        """Show that a create is being sent."""
        ...

    def clear_submit_messages(self) -> None:
        """Forget what the last submit said."""
        ...

    def show_submit_result(self, job: Job) -> None:
        """Say how the create went."""
        ...

    def show_submit_error(self, text: str) -> None:
        """Say why nothing was sent."""
        ...

    def fill_from(self, params: JobParams, parent_id: str | None = None) -> None:
        """Load an earlier request for editing."""
        ...


class SetForm(Protocol):
    """The composer, as the linked-set actions use it (compare sets and batches)."""

    @property
    def models(self) -> list[ModelInfo]:
        """The catalogue's models, as offered in the form."""
        ...

    def params(self) -> JobParams:
        """The request the form describes now."""
        ...

    def set_busy(self, busy: bool) -> None:
        """Show that a set is being sent."""
        ...

    def show_submit_error(self, text: str) -> None:
        """Say why nothing was sent."""
        ...

    def show_set_result(self, text: str) -> None:
        """Say how sending a compare set went."""
        ...


class CostCheck(Protocol):
    """The budget guard: asks before a costly send and refuses one over the monthly budget."""

    #: Why the last check refused (or what it noticed); empty when there was nothing to say.
    last_note: str

    async def approve(self, requests: Sequence[JobParams]) -> bool:
        """True when ``requests`` may be sent (confirmed by the user if above the threshold)."""
        ...


class DetailView(Protocol):
    """The pane that shows one job."""

    def activate(self, job: Job) -> None:
        """Show ``job`` and act on it (play the video, or focus the review)."""
        ...
