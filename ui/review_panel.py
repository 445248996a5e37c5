"""The failure review: everything a person needs to understand a job that went wrong and act.

It shows the cause in plain words, the gateway's and provider's own words verbatim, the ids
to quote to support, the full status timeline, what was asked for and whether a charge is
likely; its buttons only emit signals (the controller does the work).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.billing import ChargeKind, job_charge
from core.failure_class import FailureClass, FailureVerdict, verdict_for
from core.jobs import UNREACHABLE_AFTER, Job, JobState
from core.journal import JournalEvent
from core.money import format_usd
from ui.timeline import TimelineView

SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse
NO_CHARGE_VOID = "Not charged (the gateway voided the bill)"
NO_CHARGE_REJECTED = "No charge expected (the gateway refused the request, nothing was made)"
CHARGE_UNKNOWN = "Unknown"

_SUBMIT_UNKNOWN_TEXT = (
    "Reelgate sent the request but got no usable answer, so the gateway may have created the "
    "job (and reserved credit). Reconciliation is running: Reelgate looks for it in the "
    "gateway's job list and picks it up if it exists. The request is never sent again "
    "automatically, so it cannot be created twice."
)
_UNREACHABLE_TEXT = (
    "The last {count} status checks could not reach the gateway. The job may still be "
    "running on the server; Reelgate keeps checking with growing pauses and picks up the "
    "result once the gateway answers."
)
_REFUSED_TEXT = (
    "The gateway answered the last {count} status checks with an error, so it is reachable: "
    "the trouble is on the provider's side. The job is kept; Reelgate keeps checking with "
    "growing pauses and picks up the result once the checks succeed."
)
_AUTH_BLOCKED_TEXT = (
    "Status checks are paused because the gateway refused the API key. Enter a working key "
    "in Settings and they resume."
)


def charge_text(job: Job) -> str:
    """Plainly whether the job was charged, and how much, from its bill."""
    if job.state is JobState.REJECTED:
        return NO_CHARGE_REJECTED
    charge = job_charge(job)
    if charge.kind is ChargeKind.VOID:
        return NO_CHARGE_VOID
    if charge.kind is ChargeKind.SETTLED and charge.nanos is not None:
        return f"Charged: {format_usd(charge.nanos)} (billing settled)"
    if charge.kind is ChargeKind.ESTIMATED and charge.nanos is not None:
        return (
            f"Not settled yet: about {format_usd(charge.nanos)} is reserved; failed, cancelled "
            "and expired jobs are not charged"
        )
    state = (job.billing_state or "").lower()
    if state:
        return f"A charge is possible (billing {state}; amount not known yet)"
    if job.state is JobState.SUBMIT_UNKNOWN:
        return f"{CHARGE_UNKNOWN}: if the job was created, credit may have been reserved"
    return CHARGE_UNKNOWN


def detail_text(job: Job) -> str:
    """The gateway's and provider's own words, verbatim, plus the raw error record."""
    verdict = verdict_for(job)
    lines: list[str] = list(verdict.provider_words) if verdict else []
    failure = job.failure
    if failure is not None and failure.raw not in (None, "", {}):
        raw = (
            failure.raw
            if isinstance(failure.raw, str)
            else json.dumps(failure.raw, indent=2, ensure_ascii=False, default=str)
        )
        lines.extend(["", "Raw error:", raw])
    if job.problem and (failure is None or job.problem not in (failure.message or "")):
        lines.insert(0, f"Last problem: {job.problem}")
    if job.download_problem:
        lines.append(f"Download problem: {job.download_problem}")
    return "\n".join(lines) if lines else "The gateway gave no error detail for this job."


def situation_text(job: Job) -> str:
    """Extra plain-words context for states where "what happens next" matters."""
    if job.state is JobState.SUBMIT_UNKNOWN:
        return _SUBMIT_UNKNOWN_TEXT
    if job.auth_blocked:
        return _AUTH_BLOCKED_TEXT
    if job.unreachable:
        return _UNREACHABLE_TEXT.format(count=max(job.failures, UNREACHABLE_AFTER))
    if job.refused:
        return _REFUSED_TEXT.format(count=max(job.failures, UNREACHABLE_AFTER))
    return ""


def heading_text(job: Job, verdict: FailureVerdict | None) -> str:
    """The panel's heading: the job's status and, when it says more, the failure's class."""
    if (
        verdict is None
        or verdict.failure_class is FailureClass.ENDED  # the status already says it
        or verdict.heading.casefold() in job.status_text.casefold()
    ):
        return job.status_text
    return f"{job.status_text} — {verdict.heading}"


class ReviewPanel(QWidget):
    """Shows one job's failure in full and offers resubmit, diagnostics and mark-reviewed."""

    resubmit_requested = Signal(str)
    copy_diagnostics_requested = Signal(str)
    export_diagnostics_requested = Signal(str)
    mark_reviewed_requested = Signal(str, bool, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the panel, empty until :meth:`show_job`."""
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.setAccessibleName("Failure review")
        self._job: Job | None = None
        self._build()
        self.clear()

    # -- construction ------------------------------------------------------------------------

    def _label(self, name: str, accessible: str, *, selectable: bool = False) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setWordWrap(True)
        if selectable:
            label.setTextInteractionFlags(SELECTABLE)
        return label

    def _id_field(self, name: str, accessible: str) -> QLineEdit:
        """A read-only, frameless one-line field for an id.

        Unlike a label it never widens the panel: a long id scrolls inside the field, and
        selecting or copying it gives the id exactly.
        """
        field = QLineEdit(self)
        field.setObjectName(name)
        field.setAccessibleName(accessible)
        field.setReadOnly(True)
        field.setFrame(False)
        # Its look (no box, no background) comes from the app's stylesheet: a stylesheet of
        # its own would be restyled on every show of the panel.
        field.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 12)
        return field

    def _button(self, name: str, text: str, accessible: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        return button

    def _build(self) -> None:
        self.status_label = self._label("reviewStatus", "Job status")
        self.cause_label = self._label("causeLabel", "Cause in plain words")
        self.next_step_label = self._label("nextStepLabel", "Next step")
        self.situation_label = self._label("situationLabel", "What happens next")
        self.error_detail = QPlainTextEdit(self)
        self.error_detail.setObjectName("errorDetail")
        self.error_detail.setAccessibleName("Gateway and provider error, verbatim")
        self.error_detail.setReadOnly(True)
        self.error_detail.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.error_detail.setMaximumHeight(160)
        self.request_id_label = self._id_field("requestIdLabel", "Gateway request id")
        self.job_id_label = self._id_field("jobIdLabel", "Job id")
        self.copy_request_id_button = self._button(
            "copyRequestIdButton", "Copy", "Copy the request id"
        )
        self.copy_request_id_button.clicked.connect(
            lambda: self._copy(self.request_id_label.text())
        )
        self.copy_job_id_button = self._button("copyJobIdButton", "Copy", "Copy the job id")
        self.copy_job_id_button.clicked.connect(lambda: self._copy(self.job_id_label.text()))
        self.charge_label = self._label("chargeLabel", "Charge", selectable=True)
        self.timeline = TimelineView(self)
        self.timeline.setMinimumHeight(140)
        self.model_label = self._label("modelLabel", "Model", selectable=True)
        self.shape_label = self._label("shapeLabel", "Duration and aspect", selectable=True)
        self.advanced_label = self._label("advancedLabel", "Advanced options", selectable=True)
        self.images_label = self._label("imagesLabel", "Image inputs", selectable=True)
        self.prompt_view = QPlainTextEdit(self)
        self.prompt_view.setObjectName("promptView")
        self.prompt_view.setAccessibleName("Prompt")
        self.prompt_view.setReadOnly(True)
        self.prompt_view.setMaximumHeight(90)
        self.review_state_label = self._label("reviewStateLabel", "Review state")
        self.review_note_edit = QLineEdit(self)
        self.review_note_edit.setObjectName("reviewNoteEdit")
        self.review_note_edit.setAccessibleName("Review note")
        self.review_note_edit.setPlaceholderText("Note (optional), e.g. “refunded”, “rephrased”")
        self.mark_reviewed_button = self._button(
            "markReviewedButton", "Mark reviewed", "Mark reviewed"
        )
        self.mark_reviewed_button.clicked.connect(self._on_mark_reviewed)
        self.resubmit_button = self._button(
            "resubmitButton", "Resubmit with edits…", "Resubmit with edits"
        )
        self.resubmit_button.clicked.connect(lambda: self._emit(self.resubmit_requested))
        self.copy_diagnostics_button = self._button(
            "copyDiagnosticsButton", "Copy diagnostics", "Copy diagnostics"
        )
        self.copy_diagnostics_button.clicked.connect(
            lambda: self._emit(self.copy_diagnostics_requested)
        )
        self.export_diagnostics_button = self._button(
            "exportDiagnosticsButton", "Export diagnostics…", "Export diagnostics"
        )
        self.export_diagnostics_button.clicked.connect(
            lambda: self._emit(self.export_diagnostics_requested)
        )
        self._layout()

    def _layout(self) -> None:
        ids = QFormLayout()
        # A long request id goes under its label in a narrow pane instead of widening it.
        ids.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        ids.addRow("Request id:", self._row(self.request_id_label, self.copy_request_id_button))
        ids.addRow("Job id:", self._row(self.job_id_label, self.copy_job_id_button))
        ids.addRow("Charge:", self.charge_label)
        params = QGroupBox("What was asked for", self)
        form = QFormLayout(params)
        form.addRow("Model:", self.model_label)
        form.addRow("Length and shape:", self.shape_label)
        form.addRow("Prompt:", self.prompt_view)
        form.addRow("Advanced:", self.advanced_label)
        form.addRow("Images:", self.images_label)
        self.params_form = form
        # A short title and a wrapping hint, and the buttons on two rows: the panel fits the
        # detail pane of a default-sized window without a horizontal scroll bar.
        timeline = QGroupBox("Status timeline", self)
        timeline_layout = QVBoxLayout(timeline)
        hint = QLabel("Expand a row for the gateway's answer.", timeline)
        hint.setWordWrap(True)
        timeline_layout.addWidget(hint)
        timeline_layout.addWidget(self.timeline)
        review = QHBoxLayout()
        review.addWidget(self.review_state_label)
        review.addWidget(self.review_note_edit, 1)
        review.addWidget(self.mark_reviewed_button)
        actions = QHBoxLayout()
        actions.addWidget(self.resubmit_button)
        actions.addStretch(1)
        diagnostics = QHBoxLayout()
        diagnostics.addWidget(self.copy_diagnostics_button)
        diagnostics.addWidget(self.export_diagnostics_button)
        diagnostics.addStretch(1)

        body = QWidget(self)
        column = QVBoxLayout(body)
        column.addWidget(self.status_label)
        column.addWidget(self.cause_label)
        column.addWidget(self.next_step_label)
        column.addWidget(self.situation_label)
        column.addWidget(QLabel("The gateway's own words:", body))
        column.addWidget(self.error_detail)
        column.addLayout(ids)
        column.addWidget(timeline, 1)
        column.addWidget(params)
        column.addLayout(review)
        column.addLayout(actions)
        column.addLayout(diagnostics)
        self.body = body
        scroll = QScrollArea(self)
        scroll.setObjectName("reviewScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.placeholder = self._label("reviewPlaceholder", "Review placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.placeholder)
        outer.addWidget(scroll, 1)
        self.scroll_area = scroll

    def _row(self, label: QWidget, button: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(label, 1)
        row.addWidget(button)
        return row

    # -- public API ---------------------------------------------------------------------------

    @property
    def job(self) -> Job | None:
        """The job shown, if any."""
        return self._job

    def show_job(self, job: Job, events: Sequence[JournalEvent]) -> None:
        """Show ``job`` with its journal ``events`` (oldest first)."""
        same_job = self._job is not None and self._job.local_id == job.local_id
        self._job = job
        self.placeholder.hide()
        self.scroll_area.show()
        verdict = verdict_for(job)
        self.status_label.setText(heading_text(job, verdict))
        self.cause_label.setText(verdict.cause if verdict else "")
        self.cause_label.setVisible(verdict is not None)
        self.next_step_label.setText(f"Next step: {verdict.next_step}" if verdict else "")
        self.next_step_label.setVisible(verdict is not None)
        situation = situation_text(job)
        self.situation_label.setText(situation)
        self.situation_label.setVisible(bool(situation))
        self.error_detail.setPlainText(detail_text(job))
        self.request_id_label.setText(job.request_id or "—")
        self.request_id_label.setCursorPosition(0)
        self.copy_request_id_button.setEnabled(job.request_id is not None)
        ids = job.local_id if job.remote_id is None else f"{job.remote_id}"
        self.job_id_label.setText(ids)
        self.job_id_label.setCursorPosition(0)
        self.job_id_label.setToolTip(f"Local id: {job.local_id}")
        self.charge_label.setText(charge_text(job))
        self.timeline.set_events(list(events))
        self._show_params(job)
        self.review_state_label.setText(
            f"Reviewed{': ' + job.review_note if job.review_note else ''}"
            if job.reviewed
            else "Not reviewed yet"
        )
        self.mark_reviewed_button.setText("Mark not reviewed" if job.reviewed else "Mark reviewed")
        self.mark_reviewed_button.setAccessibleName(self.mark_reviewed_button.text())
        if not same_job or not self.review_note_edit.isModified():
            self.review_note_edit.setText(job.review_note)
            self.review_note_edit.setModified(False)
        self.resubmit_button.setToolTip(
            "The original request may still have been created: resubmitting makes a new job."
            if job.state is JobState.SUBMIT_UNKNOWN or job.troubled
            else "Open the request in the composer to edit and send it again."
        )
        for button in self._action_buttons():
            button.setEnabled(True)

    def clear(self) -> None:
        """Show nothing (no job selected)."""
        self._job = None
        self.placeholder.setText("Select a job that needs review to see what happened.")
        self.placeholder.show()
        self.scroll_area.hide()
        self.timeline.clear()
        self.error_detail.clear()
        for button in self._action_buttons():
            button.setEnabled(False)

    # -- helpers ------------------------------------------------------------------------------

    def _action_buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.resubmit_button,
            self.copy_diagnostics_button,
            self.export_diagnostics_button,
            self.mark_reviewed_button,
        )

    def _show_params(self, job: Job) -> None:
        params = job.params
        self.model_label.setText(params.model)
        chosen = params.size or params.aspect_ratio or "model default aspect ratio"
        shape = f"{params.duration} s, {chosen}"
        if params.resolution:
            shape += f", {params.resolution}"
        self.shape_label.setText(shape)
        self.prompt_view.setPlainText(params.prompt)
        advanced = []
        if params.negative_prompt:
            advanced.append(f"negative prompt: {params.negative_prompt}")
        if params.seed is not None:
            advanced.append(f"seed {params.seed}")
        if params.generate_audio is not None:
            advanced.append("with audio" if params.generate_audio else "no audio")
        if params.sample_count is not None:
            advanced.append(f"{params.sample_count} sample(s)")
        if params.enhance_prompt is not None:
            advanced.append("prompt enhanced" if params.enhance_prompt else "prompt as written")
        self.advanced_label.setText("; ".join(advanced) or "none")
        self.images_label.setText("\n".join(image.describe() for image in params.images))
        self.params_form.setRowVisible(self.images_label, bool(params.images))

    def _emit(self, signal: SignalInstance) -> None:
        if self._job is not None:
            signal.emit(self._job.local_id)

    @Slot()
    def _on_mark_reviewed(self) -> None:
        if self._job is None:
            return
        self.mark_reviewed_requested.emit(
            self._job.local_id, not self._job.reviewed, self.review_note_edit.text().strip()
        )

    @staticmethod
    def _copy(text: str) -> None:
        if text and text != "—":
            QGuiApplication.clipboard().setText(text)
