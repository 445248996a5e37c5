"""Notifier: announces a job once, when it just finished and the window is in the background."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget

from core.jobs import Cause, Job, JobFailure, JobParams, JobState
from ui.notifier import RECENT_SECONDS, Message, Notifier

NOW = 1_800_000_000.0
PARAMS = JobParams(
    model="demo/test-pattern", prompt="A red kite over the sea", duration=4, aspect_ratio="16:9"
)


def make_job(state: JobState, local_id: str = "job-1", **changes: object) -> Job:
    job = Job(
        local_id=local_id,
        params=PARAMS,
        state=state,
        created_at=NOW - 60,
        updated_at=NOW,
        finished_at=NOW if state.terminal else None,
    )
    return replace(job, **changes)


@pytest.fixture
def window(qtbot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def notifier(window: QWidget) -> Notifier:
    return Notifier(window, QIcon(), clock=lambda: NOW)


def test_completed_job_in_background_is_announced(notifier: Notifier) -> None:
    notifier.notify(make_job(JobState.PROCESSING))
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.last_message == Message("Video ready", PARAMS.prompt, "job-1")


def test_failed_job_names_the_cause(notifier: Notifier) -> None:
    failure = JobFailure(cause=Cause.POLICY, code="guardrail_blocked", message="blocked")
    notifier.notify(make_job(JobState.FAILED, failure=failure))
    assert notifier.last_message is not None
    title, text, local_id = notifier.last_message
    assert title == "Job failed"
    assert text.startswith("Job failed: A safety or content policy blocked this prompt")
    assert PARAMS.prompt in text
    assert local_id == "job-1"


def test_nothing_while_the_window_is_active(qtbot, window: QWidget, notifier: Notifier) -> None:
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    assert window.isActiveWindow()
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.last_message is None


def test_only_terminal_states_are_announced(notifier: Notifier) -> None:
    for state in (JobState.SUBMITTING, JobState.QUEUED, JobState.PROCESSING, JobState.WAITING):
        notifier.notify(make_job(state))
    assert notifier.last_message is None


def test_each_job_is_announced_once(notifier: Notifier) -> None:
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.last_message is not None
    notifier.last_message = None
    notifier.notify(make_job(JobState.COMPLETED, progress=100))
    assert notifier.last_message is None
    notifier.notify(make_job(JobState.COMPLETED, local_id="job-2"))
    assert notifier.last_message is not None and notifier.last_message.local_id == "job-2"


def test_disabled_notifications_stay_quiet(notifier: Notifier) -> None:
    notifier.set_enabled(False)
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.last_message is None
    assert not notifier.enabled


def test_jobs_finished_long_ago_are_not_announced(notifier: Notifier) -> None:
    old = NOW - RECENT_SECONDS - 1
    notifier.notify(make_job(JobState.COMPLETED, finished_at=old, updated_at=old))
    assert notifier.last_message is None


def test_remembered_jobs_are_not_announced_again(notifier: Notifier) -> None:
    notifier.remember([make_job(JobState.COMPLETED), make_job(JobState.QUEUED, "job-2")])
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.last_message is None
    notifier.notify(make_job(JobState.EXPIRED, "job-2"))
    assert notifier.last_message is not None and notifier.last_message.title == "Job expired"


def test_clicking_the_message_activates_the_last_job(qtbot, notifier: Notifier) -> None:
    notifier.notify(make_job(JobState.COMPLETED, local_id="job-9"))
    # The tray's messageClicked is connected to this slot (no tray exists offscreen).
    with qtbot.waitSignal(notifier.job_activated) as blocker:
        notifier._on_message_clicked()
    assert blocker.args == ["job-9"]


def test_without_a_tray_nothing_is_created(notifier: Notifier) -> None:
    notifier.notify(make_job(JobState.COMPLETED))
    assert notifier.tray is None
