"""The right-hand pane: a placeholder, the video preview, or the review of a failed job.

Which page shows follows from the job alone: a completed job gets the preview (or why it
cannot play yet), a failed, unreachable or refused one gets the review, anything still
running gets a status line with its countdown. The preview (Qt Multimedia) and the review
are built on first use so the window paints sooner; :attr:`DetailPane.preview_built` and
:attr:`DetailPane.review_built` let the window wire their buttons then. The review's
timeline is read from the journal on a worker thread (:class:`ui.review_loader.ReviewLoader`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from core.jobs import REVIEW_STATES, DownloadState, Job, JobState
from core.journal import JournalEvent
from ui.offthread import Submit

if TYPE_CHECKING:
    from ui.preview import PreviewPanel
    from ui.review_loader import ReviewLoader
    from ui.review_panel import ReviewPanel

NOTHING_SELECTED = "Select a job to see it here."


class DetailPane(QStackedWidget):
    """Shows one job: ``placeholder``, ``preview`` or ``review`` (objectName ``detailStack``)."""

    #: The preview was just built (the PreviewPanel): wire its buttons.
    preview_built = Signal(object)
    #: The review was just built (the ReviewPanel): wire its buttons.
    review_built = Signal(object)

    def __init__(
        self,
        status_line: Callable[[Job], str],
        read_events: Callable[[str], Sequence[JournalEvent]],
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        """Start with the placeholder; the preview and the review are built when needed.

        ``status_line(job)`` words a running job; ``read_events(local_id)`` (run on the
        pool through ``submit``) reads the review's timeline.
        """
        super().__init__(parent)
        self.setObjectName("detailStack")
        self._status_line = status_line
        self._read_events = read_events
        self._submit = submit
        self._preview: PreviewPanel | None = None
        self._review_loader: ReviewLoader | None = None
        self.placeholder = QLabel(NOTHING_SELECTED, self)
        self.placeholder.setObjectName("detailPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.addWidget(self.placeholder)

    # -- the pages, built on first use ----------------------------------------------------------

    @property
    def preview(self) -> PreviewPanel:
        """The video preview, built on first use and reused for every video after that."""
        if self._preview is None:
            from ui.preview import PreviewPanel  # Qt Multimedia loads on first use

            self._preview = PreviewPanel(self)
            self.addWidget(self._preview)
            self.preview_built.emit(self._preview)
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
            self.addWidget(panel)
            self._review_loader = ReviewLoader(panel, self._read_events, self._submit)
            self.review_built.emit(panel)
        return self._review_loader

    def prepare_review(self) -> None:
        """Build and polish the review now, while idle and with its module already loaded.

        The first failure a person opens then only has to be filled and painted.
        """
        self.review.ensurePolished()

    @property
    def built_preview(self) -> PreviewPanel | None:
        """The preview if it was built (``None``: never needed yet)."""
        return self._preview

    # -- showing a job --------------------------------------------------------------------------

    def show_job(self, job: Job | None) -> None:
        """Show ``job`` (``None``: ask for a selection)."""
        if job is None:
            self.placeholder.setText(NOTHING_SELECTED)
            self.setCurrentWidget(self.placeholder)
            return
        if job.state is JobState.COMPLETED:
            self._show_completed(job)
        elif job.state in REVIEW_STATES or job.troubled or job.auth_blocked:
            self.review_loader.show(job)
            self.setCurrentWidget(self.review)
        else:
            self.placeholder.setText(f"{self._status_line(job)}\n\n{job.params.prompt[:400]}")
            self.setCurrentWidget(self.placeholder)

    def _show_completed(self, job: Job) -> None:
        preview = self.preview
        path = Path(job.files[0]) if job.files else None
        if path is not None and job.download is DownloadState.DONE:
            if preview.current_path != path:
                preview.show_file(path, job.params.prompt.splitlines()[0][:120])
        else:
            reason = {
                DownloadState.ACTIVE: "The video is downloading…",
                DownloadState.FAILED: "The download failed: "
                f"{job.download_problem or 'unknown problem'}. Use Retry download.",
            }.get(job.download, "The video has not been downloaded yet.")
            preview.clear(reason)
        self.setCurrentWidget(preview)

    def activate(self, job: Job) -> None:
        """Show ``job`` and act on it: play a finished video, or focus a failure's review."""
        self.show_job(job)
        if job.state is JobState.COMPLETED and job.download is DownloadState.DONE:
            self.preview.play()
        elif self._review_loader is not None and self.currentWidget() is self.review:
            self.review.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh_countdown(self, selected: Callable[[], Job | None]) -> None:
        """Re-word the placeholder of the ``selected()`` running job (called every second)."""
        if self.currentWidget() is not self.placeholder:
            return
        job = selected()
        if job is not None and not job.terminal:
            self.show_job(job)
