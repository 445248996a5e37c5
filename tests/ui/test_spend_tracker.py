"""The spend tracker keeps each gateway's money apart while jobs change."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from core.jobs import Job, JobParams, JobState
from core.journal import Journal
from core.settings import Settings
from ui.preferences import Preferences
from ui.spend_tracker import SpendTracker

NOW = 1_764_900_000.0


def paid_job(local_id: str, label: str, settled: int) -> Job:
    return Job(
        local_id=local_id,
        params=JobParams(model="demo/test-pattern", prompt="a lake", duration=4),
        state=JobState.COMPLETED,
        created_at=NOW - 60,
        updated_at=NOW - 60,
        remote_id=f"G-{local_id}",
        billing_state="settled",
        settled_nanos=settled,
        gateway_label=label,
    )


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=1)
    yield executor
    executor.shutdown(wait=True)


def test_a_demo_job_counts_in_the_demo_spend_only(
    qtbot: QtBot, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    journal_path = tmp_path / "journal.db"
    Journal.open(journal_path).close()
    parent = QWidget()
    qtbot.addWidget(parent)
    preferences = Preferences(Settings(), tmp_path / "settings.json", parent=parent)
    trackers = {
        label: SpendTracker(
            journal_path, label, preferences, pool.submit, parent, clock=lambda: NOW
        )
        for label in ("demo", "default")
    }
    for tracker in trackers.values():
        with qtbot.waitSignal(tracker.summary_changed, timeout=10_000):
            tracker.refresh_now()  # the first read of the (empty) journal
    for tracker in trackers.values():
        tracker.job_changed(paid_job("D-1", "demo", 40_000_000))
        tracker.job_changed(paid_job("R-1", "default", 400_000_000))
    for label, tracker in trackers.items():
        with qtbot.waitSignal(tracker.summary_changed, timeout=10_000):
            tracker.refresh_now()
        expected = 40_000_000 if label == "demo" else 400_000_000
        assert tracker.month.settled == expected, label
        assert [record.gateway for record in tracker.records()] == [label]
