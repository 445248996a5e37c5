"""Clicks never wait for the journal or the disk: that work runs on worker threads.

Each test records which thread reads the journal (a real SQLite file) while a real window
over the demo gateway does what a person asked, and checks the result the person sees.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTreeWidget

from core.jobs import JobParams, JobState
from ui.main_window import MainWindow
from ui.offthread import run_task
from ui.timeline import TimelineView

FAILING = JobParams(
    model="demo/test-pattern", prompt="[fail] A doomed render", duration=2, aspect_ratio="16:9"
)


@pytest.fixture
def event_reads(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For every ``journal.events`` call: whether it ran on the GUI thread."""
    journal = window.context.journal
    real = journal.events
    seen: list[bool] = []

    def events(local_id: str) -> Any:
        seen.append(threading.current_thread() is threading.main_thread())
        return real(local_id)

    monkeypatch.setattr(journal, "events", events)
    return seen


def _failed_job(window: MainWindow, run: Any, wait_for: Any) -> str:
    job = run(window.job_actions.submit_job(FAILING, None))
    wait_for(lambda: window.model.job(job.local_id).state is JobState.FAILED)
    return str(job.local_id)


def test_copy_diagnostics_reads_the_journal_off_the_gui_thread(
    window: MainWindow, run: Any, wait_for: Any, event_reads: list[bool]
) -> None:
    local_id = _failed_job(window, run, wait_for)
    event_reads.clear()
    QGuiApplication.clipboard().clear()
    window.job_actions.copy_diagnostics_for(local_id)
    wait_for(lambda: window.statusBar().currentMessage().startswith("Diagnostics copied"))
    copied = QGuiApplication.clipboard().text()
    assert local_id in copied and "provider" in copied.lower()
    assert event_reads and not any(event_reads)


def test_the_review_reads_the_timeline_off_the_gui_thread_and_shows_it(
    window: MainWindow, run: Any, wait_for: Any, event_reads: list[bool]
) -> None:
    local_id = _failed_job(window, run, wait_for)
    assert window.jobs_view.select_job(local_id)
    review = window.review
    assert window.detail_stack.currentWidget() is review
    timeline = review.findChild(QTreeWidget)
    assert timeline is not None
    # The journal's events arrive from the worker thread and fill the timeline.
    wait_for(lambda: timeline.topLevelItemCount() >= 3)
    assert event_reads and not any(event_reads)


def _texts(tree: QTreeWidget) -> list[str]:
    return [
        " | ".join(item.text(c) for c in range(tree.columnCount()))
        for item in (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
        if item is not None
    ]


def test_a_late_timeline_never_replaces_the_job_shown_since(
    window: MainWindow, run: Any, wait_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _failed_job(window, run, wait_for)
    second = _failed_job(window, run, wait_for)
    journal = window.context.journal
    real = journal.events
    release, first_read = threading.Event(), threading.Event()

    def slow_events(local_id: str) -> Any:
        if local_id == first:
            release.wait(10)  # the first job's timeline comes back after the second is shown
            events = real(local_id)
            first_read.set()
            return events
        return real(local_id)

    monkeypatch.setattr(journal, "events", slow_events)
    window.jobs_view.select_job(first)
    window.jobs_view.select_job(second)
    review = window.review
    timeline = review.findChild(QTreeWidget)
    expected = TimelineView()
    expected.set_events(real(second))
    wait_for(lambda: _texts(timeline) == _texts(expected))
    release.set()
    wait_for(first_read.is_set)
    # Results come back in order: once this one is in, the first job's has been handled.
    marker: list[int] = []
    run_task(
        window.controller.run_background,
        lambda: 1,
        on_result=marker.append,
        receiver=window,
    )
    wait_for(lambda: marker == [1])
    assert review.job is not None and review.job.local_id == second
    assert _texts(timeline) == _texts(expected)
