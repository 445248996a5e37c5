"""A long history: the window lists the newest jobs at once and the rest right after it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ui.main_window
from core.jobs import DownloadState, Job, JobParams, JobState

NOW = 1_800_000_000.0


def finished_job(index: int) -> Job:
    return Job(
        local_id=f"old{index:03d}",
        params=JobParams(model="demo/test-pattern", prompt=f"history {index}", duration=2,
                         aspect_ratio="16:9"),
        state=JobState.COMPLETED,
        created_at=NOW - 1000 + index,
        updated_at=NOW - 1000 + index,
        remote_id=f"G-OLD{index:03d}",
        download=DownloadState.DONE,
    )  # fmt: skip


def test_older_jobs_follow_the_first_page(
    tmp_path: Path,
    make_context: Any,
    make_window: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ui.main_window, "FIRST_PAGE", 3)
    context = make_context(tmp_path / "data")
    for index in range(8):
        context.journal.insert(finished_job(index))
    window = make_window(context)
    listed = {job.local_id for job in window.model.jobs()}
    assert listed == {"old007", "old006", "old005"}  # the newest, before the rest is read
    qtbot.waitUntil(lambda: window.model.rowCount() == 8, timeout=5_000)
    assert window.jobs_view.proxy.rowCount() == 8
    window.jobs_view.search_edit.setText("history 1")
    qtbot.waitUntil(lambda: window.jobs_view.proxy.rowCount() == 1, timeout=5_000)
