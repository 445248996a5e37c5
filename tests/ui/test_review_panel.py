"""ReviewPanel: each kind of trouble shows its cause, the gateway's words, ids, timeline, charge."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core.engine import failure_from_error
from core.errors import error_from_response
from core.failure_class import FailureClass, verdict_for
from core.failure_evidence import poll_error_record, problem_text
from core.jobs import (
    Cause,
    CreateAmbiguous,
    Created,
    CreateRejected,
    Event,
    Job,
    JobFailure,
    JobParams,
    JobState,
    PollFailed,
    Reviewed,
    StatusSeen,
    Vanished,
    apply,
)
from core.journal import Journal, JournalEvent
from core.wire import parse_job
from ui.review_panel import NO_CHARGE_REJECTED, NO_CHARGE_VOID, ReviewPanel
from ui.timeline import format_moment

#: The offscreen platform warns about this whenever a top-level window is shown.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
T0 = 1_800_000_000.0
PARAMS = JobParams(
    model="google/veo-3.1-lite-preview",
    prompt="A lighthouse at dusk, waves crashing",
    duration=8,
    aspect_ratio="16:9",
    resolution="720p",
    seed=42,
)
GID = "G-01KREVIEWTEST"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal.open(tmp_path / "journal.db")
    yield opened
    opened.close()


@pytest.fixture
def panel(qtbot) -> ReviewPanel:
    widget = ReviewPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


Step = tuple[Event, str, int | None, str | None, object, str | None]


def run(journal: Journal, steps: list[Step]) -> tuple[Job, list[JournalEvent]]:
    """Build a job by applying events in order, journaling each like the engine does."""
    job = Job(
        local_id="local-1", params=PARAMS, state=JobState.SUBMITTING, created_at=T0, updated_at=T0
    )
    journal.insert(job)
    for event, kind, http_status, request_id, raw, note in steps:
        job = apply(job, event)
        journal.save(job, kind, http_status=http_status, request_id=request_id, raw=raw, note=note)
    return job, journal.events(job.local_id)


def created(at: float = T0 + 1) -> Step:
    raw = {"id": GID, "object": "video", "status": "queued", "model": PARAMS.model}
    return Created(parse_job(raw), at), "created", 200, GID, raw, None


def status(raw: dict[str, object], at: float) -> Step:
    return StatusSeen(parse_job(raw), at), "status", 200, GID, raw, None


def rejected(http: int, body: dict[str, object]) -> Step:
    error = error_from_response(http, body)
    failure = failure_from_error(error)
    return (
        CreateRejected(failure, T0 + 1),
        "create_rejected",
        http,
        error.request_id,
        error.to_dict(),
        None,
    )


def assert_common(panel: ReviewPanel, job: Job, events: list[JournalEvent]) -> None:
    verdict = verdict_for(job)
    assert verdict is not None
    assert panel.status_label.text().startswith(job.status_text)
    assert panel.cause_label.text() == verdict.cause
    assert panel.next_step_label.text() == f"Next step: {verdict.next_step}"
    assert panel.request_id_label.text() == job.request_id
    rows = panel.timeline.row_texts()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (format_moment(e.at), e.kind, e.state, "" if e.http_status is None else str(e.http_status))
        for e in events
    ]


def test_failed_job_with_error_object(panel: ReviewPanel, journal: Journal) -> None:
    failed = {
        "id": GID,
        "status": "failed",
        "provider": "google-vertex",
        "error": {"code": "PROVIDER_INTERNAL", "message": "Veo could not render: frame 12 <oops>"},
        "billing": {"state": "void", "cost": "0.00"},
    }
    job, events = run(
        journal,
        [created(), status({"id": GID, "status": "processing"}, T0 + 5), status(failed, T0 + 9)],
    )
    panel.show_job(job, events)

    assert_common(panel, job, events)
    assert panel.status_label.text() == "Failed — Provider fault"
    assert panel.cause_label.text() == "The video provider failed to generate this video."
    detail = panel.error_detail.toPlainText()
    assert "PROVIDER_INTERNAL" in detail
    assert "Veo could not render: frame 12 <oops>" in detail
    assert "google-vertex" in detail
    assert panel.error_detail.isReadOnly()
    assert panel.charge_label.text() == NO_CHARGE_VOID
    assert panel.job_id_label.text() == GID
    assert len(events) == 3 and panel.timeline.topLevelItemCount() == 3
    assert '"PROVIDER_INTERNAL"' in panel.timeline.raw_for_row(2)


def test_failed_job_with_error_string(panel: ReviewPanel, journal: Journal) -> None:
    message = "Generation failed: the provider's safety system rejected frame 3."
    failed = {
        "id": GID,
        "status": "failed",
        "error": message,
        "usage": {"cost": "0.15"},
        "billing": {"state": "settled", "cost": "0.15"},
    }
    job, events = run(journal, [created(), status(failed, T0 + 9)])
    panel.show_job(job, events)

    assert_common(panel, job, events)
    # A safety refusal in a plain-string error is not "the provider failed".
    assert panel.status_label.text() == "Failed — Blocked by a safety or content policy"
    assert "Rephrase the prompt" in panel.next_step_label.text()
    assert message in panel.error_detail.toPlainText()
    assert panel.charge_label.text() == "Charged: $0.15 (billing settled)"


def test_expired_job(panel: ReviewPanel, journal: Journal) -> None:
    job, events = run(
        journal,
        [
            created(),
            status({"id": GID, "status": "expired", "billing": {"state": "void"}}, T0 + 99),
        ],
    )
    panel.show_job(job, events)
    assert_common(panel, job, events)
    assert panel.status_label.text() == "Expired"
    assert panel.cause_label.text() == Cause.EXPIRED.explanation
    assert panel.charge_label.text() == NO_CHARGE_VOID


def test_gone_job(panel: ReviewPanel, journal: Journal) -> None:
    failure = JobFailure(
        cause=Cause.GONE,
        code="not_found",
        message="Video job not found",
        http_status=404,
        request_id="req-404-xyz",
    )
    job, events = run(
        journal,
        [
            created(),
            (
                Vanished(failure, T0 + 30),
                "vanished",
                404,
                "req-404-xyz",
                {"error": "not_found"},
                None,
            ),
        ],
    )
    panel.show_job(job, events)
    assert_common(panel, job, events)
    assert panel.request_id_label.text() == "req-404-xyz"
    assert "Video job not found" in panel.error_detail.toPlainText()
    assert panel.charge_label.text() == "Unknown"


@pytest.mark.parametrize(
    ("http", "body", "failure_class", "verbatim"),
    [
        (
            402,
            {
                "error": "insufficient_funds",
                "message": "Balance 0.00 is below 0.40",
                "request_id": "G-REQ402",
            },
            FailureClass.LIMIT,
            "Balance 0.00 is below 0.40",
        ),
        (
            403,
            {
                "error": "guardrail_blocked",
                "message": "Prompt violates policy P-7",
                "generation_id": "G-REQ403",
                "error_origin": "gateway",
            },
            FailureClass.POLICY,
            "Prompt violates policy P-7",
        ),
        (
            400,
            {
                "error": "validation_error",
                "message": "Invalid request",
                "details": [{"path": "duration", "message": "must be one of 4, 6, 8"}],
                "request_id": "G-REQ400",
            },
            FailureClass.INVALID,
            "duration: must be one of 4, 6, 8",
        ),
    ],
)
def test_rejected_create(panel, journal, http, body, failure_class, verbatim) -> None:
    job, events = run(journal, [rejected(http, body)])
    panel.show_job(job, events)

    assert job.state is JobState.REJECTED
    assert_common(panel, job, events)
    verdict = verdict_for(job)
    assert verdict is not None and verdict.failure_class is failure_class
    assert panel.status_label.text() == f"Rejected — {verdict.heading}"
    detail = panel.error_detail.toPlainText()
    assert verbatim in detail
    assert f"Code: {body['error']}" in detail
    assert f"HTTP status: {http}" in detail
    assert panel.request_id_label.text() == (body.get("request_id") or body["generation_id"])
    assert panel.charge_label.text() == NO_CHARGE_REJECTED
    assert panel.timeline.row_texts()[0][3] == str(http)


def test_submit_unknown_explains_reconciliation_and_no_resend(panel, journal) -> None:
    problem = "The gateway did not answer in time: read timed out after 30 s"
    job, events = run(
        journal,
        [
            (
                CreateAmbiguous(problem, T0 + 31),
                "create_ambiguous",
                None,
                None,
                {"kind": "timeout"},
                "reconciled, not resent",
            )
        ],
    )
    panel.show_job(job, events)

    assert panel.cause_label.text() == Cause.UNKNOWN.explanation
    situation = panel.situation_label.text()
    assert "may have created" in situation and "Reconciliation is running" in situation
    assert "never sent again" in situation
    assert problem in panel.error_detail.toPlainText()
    assert panel.charge_label.text().startswith("Unknown")
    assert panel.timeline.row_texts()[0][5] == "reconciled, not resent"


def test_unreachable_job_may_still_be_running(panel, journal) -> None:
    steps: list[Step] = [created()]
    for n in range(3):
        steps.append(
            (
                PollFailed("Cannot reach the gateway: connection refused", T0 + 10 + n),
                "poll_failed",
                None,
                None,
                None,
                None,
            )
        )
    job, events = run(journal, steps)
    panel.show_job(job, events)

    assert job.unreachable
    assert_common(panel, job, events)
    assert "may still be" in panel.situation_label.text()
    assert panel.cause_label.text().startswith("The gateway could not be reached")
    assert "connection refused" in panel.error_detail.toPlainText()
    assert panel.timeline.topLevelItemCount() == 4


def test_invalid_request_names_the_parameter_to_change(panel, journal) -> None:
    body = {
        "error": "validation_error",
        "message": "Invalid request",
        "details": [{"path": "duration", "message": "must be one of 4, 6, 8"}],
    }
    job, events = run(journal, [rejected(400, body)])
    panel.show_job(job, events)
    assert panel.next_step_label.text() == "Next step: Change `duration`, then resubmit."


def test_feature_disabled_at_create_says_the_video_api_is_not_enabled(panel, journal) -> None:
    body = {
        "error": "not_implemented_yet",
        "reason": "video_api_feature_disabled",
        "message": "Not available",
    }
    job, events = run(journal, [rejected(501, body)])
    panel.show_job(job, events)
    assert panel.status_label.text() == "Rejected — Video API not enabled"
    assert panel.cause_label.text() == "The video API is not enabled for this account."
    assert "allowed values" not in panel.cause_label.text() + panel.next_step_label.text()


def test_persistent_502_is_a_provider_refusal_not_an_unreachable_gateway(panel, journal) -> None:
    body = {
        "error": "upstream_error",
        "status_code": 502,
        "error_origin": "upstream",
        "reason": "provider_status_check_failed",
        "message": "The provider refused the status check",
        "provider": "google-vertex",
        "upstream_status": 403,
        "upstream_error": {"code": "PERMISSION_DENIED", "message": "Permission denied on it"},
        "provider_failure_diagnostics": {"category": "provider_access_missing", "hint": "Ask"},
    }
    error = error_from_response(502, body)
    steps: list[Step] = [created()]
    for n in range(3):
        record = poll_error_record(error)
        failed = PollFailed(problem_text(error), T0 + 10 + n, error.request_id, record)
        steps.append((failed, "poll_failed", 502, None, body, None))
    job, events = run(journal, steps)
    panel.show_job(job, events)

    assert not job.unreachable and job.refused and job.needs_review
    heading = panel.status_label.text()
    assert heading == "Queued (status checks refused) — Provider access missing"
    everything = " ".join(
        label.text() for label in (panel.status_label, panel.cause_label, panel.situation_label)
    )
    assert "cannot reach" not in everything.lower()
    assert "may still finish" in panel.cause_label.text()
    detail = panel.error_detail.toPlainText()
    assert "Message: The provider refused the status check" in detail
    assert "Provider said (HTTP 403): PERMISSION_DENIED: Permission denied on it" in detail
    assert "Provider diagnostics: provider_access_missing - Ask" in detail


def test_buttons_emit_the_job_id(qtbot, panel, journal) -> None:
    job, events = run(journal, [rejected(402, {"error": "insufficient_funds"})])
    panel.show_job(job, events)
    click = Qt.MouseButton.LeftButton
    for button, signal in [
        (panel.resubmit_button, panel.resubmit_requested),
        (panel.copy_diagnostics_button, panel.copy_diagnostics_requested),
        (panel.export_diagnostics_button, panel.export_diagnostics_requested),
    ]:
        with qtbot.waitSignal(signal) as blocker:
            qtbot.mouseClick(button, click)
        assert blocker.args == ["local-1"]

    qtbot.keyClicks(panel.review_note_edit, "refund requested")
    with qtbot.waitSignal(panel.mark_reviewed_requested) as blocker:
        qtbot.mouseClick(panel.mark_reviewed_button, click)
    assert blocker.args == ["local-1", True, "refund requested"]


def test_review_state_and_note_are_shown(panel, journal) -> None:
    job, events = run(
        journal,
        [
            rejected(402, {"error": "insufficient_funds"}),
            (Reviewed(True, "topped up", T0 + 50), "review", None, None, None, "topped up"),
        ],
    )
    panel.show_job(job, events)
    assert panel.review_state_label.text() == "Reviewed: topped up"
    assert panel.review_note_edit.text() == "topped up"
    assert panel.mark_reviewed_button.text() == "Mark not reviewed"


def test_copy_buttons_put_ids_on_the_clipboard(qtbot, panel, journal) -> None:
    job, events = run(journal, [created(), status({"id": GID, "status": "expired"}, T0 + 9)])
    panel.show_job(job, events)
    qtbot.mouseClick(panel.copy_request_id_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == GID


def test_parameters_are_shown(panel, journal) -> None:
    job, events = run(journal, [rejected(402, {"error": "insufficient_funds"})])
    panel.show_job(job, events)
    assert panel.model_label.text() == PARAMS.model
    assert panel.shape_label.text() == "8 s, 16:9, 720p"
    assert panel.prompt_view.toPlainText() == PARAMS.prompt
    assert "seed 42" in panel.advanced_label.text()


def test_clear_disables_actions(qtbot, panel, journal) -> None:
    job, events = run(journal, [rejected(402, {"error": "insufficient_funds"})])
    panel.show_job(job, events)
    panel.clear()
    assert panel.job is None
    assert not panel.resubmit_button.isEnabled()
    with qtbot.assertNotEmitted(panel.resubmit_requested):
        panel.resubmit_button.click()


def test_accessible_names_and_object_names(panel) -> None:
    assert panel.objectName() == "reviewPanel"
    for name in ("errorDetail", "requestIdLabel", "resubmitButton", "copyDiagnosticsButton"):
        assert panel.findChild(object, name) is not None, name
    from PySide6.QtWidgets import QAbstractButton, QLineEdit, QPlainTextEdit

    controls = [
        *panel.findChildren(QAbstractButton),
        *panel.findChildren(QLineEdit),
        *panel.findChildren(QPlainTextEdit),
    ]
    assert controls and all(control.accessibleName() for control in controls)


def test_long_ids_never_make_a_narrow_panel_scroll_sideways(qtbot, panel, journal) -> None:
    """A long id scrolls inside its field; the panel itself never needs a horizontal bar."""
    from PySide6.QtWidgets import QScrollArea

    long_id = "video_" + "0123456789abcdef" * 4
    failed = {"id": long_id, "status": "failed", "error": {"code": "internal", "message": "x"}}
    raw = {"id": long_id, "object": "video", "status": "queued", "model": PARAMS.model}
    job, events = run(
        journal,
        [
            (Created(parse_job(raw), T0 + 1), "created", 200, "req_" + "f" * 60, raw, None),
            (StatusSeen(parse_job(failed), T0 + 5), "status", 200, long_id, failed, None),
        ],
    )
    panel.resize(330, 700)
    panel.show_job(job, events)
    scroll = panel.findChild(QScrollArea, "reviewScroll")
    assert scroll is not None
    qtbot.waitUntil(lambda: scroll.viewport().width() <= 330)
    assert panel.body.minimumSizeHint().width() <= scroll.viewport().width()
    qtbot.waitUntil(lambda: not scroll.horizontalScrollBar().isVisible(), timeout=2000)
    assert panel.job_id_label.text() == long_id
    panel.copy_job_id_button.click()
    assert QGuiApplication.clipboard().text() == long_id
