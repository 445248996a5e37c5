"""Rating and keeping clips in the window: keys, the table's columns, filters, and a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from core.jobs import Job, JobParams, JobState
from ui.jobs_model import Column, JobsModel
from ui.jobs_proxy import JobFilter
from ui.jobs_view import JobsView
from ui.main_window import MainWindow

PARAMS = JobParams(model="demo/test-pattern", prompt="A red kite", duration=2, aspect_ratio="16:9")


def done(local_id: str, prompt: str, *, rating: int = 0, kept: bool = False) -> Job:
    """A completed job with the given marks."""
    return Job(
        local_id=local_id,
        params=JobParams(model="m", prompt=prompt, duration=4, aspect_ratio="16:9"),
        state=JobState.COMPLETED,
        created_at=float(len(local_id)),
        updated_at=1.0,
        rating=rating,
        kept=kept,
    )


def listed(view: JobsView) -> list[str]:
    """The prompts the table shows, top to bottom."""
    proxy = view.proxy
    return [proxy.index(row, Column.PROMPT).data() for row in range(proxy.rowCount())]


def test_table_shows_sorts_and_filters_by_rating_and_keep(qtbot: Any) -> None:
    model = JobsModel(
        [
            done("a", "two stars", rating=2),
            done("bb", "kept five", rating=5, kept=True),
            done("ccc", "unrated"),
            done("dddd", "kept unrated", kept=True),
        ]
    )
    view = JobsView(model)
    qtbot.addWidget(view)
    row = model.row_of("bb") or 0
    assert model.index(row, Column.RATING).data() == "★★★★★"
    assert model.index(row, Column.KEPT).data() == "✔"
    assert model.index(model.row_of("ccc") or 0, Column.RATING).data() == ""
    assert model.headerData(Column.RATING, Qt.Orientation.Horizontal) == "Rating"

    view.table.sortByColumn(Column.RATING, Qt.SortOrder.DescendingOrder)
    assert listed(view)[:2] == ["kept five", "two stars"]

    view.filter_combo.setCurrentIndex(view.filter_combo.findData(JobFilter.KEPT))
    assert sorted(listed(view)) == ["kept five", "kept unrated"]
    view.rating_combo.setCurrentIndex(view.rating_combo.findData(3))
    assert listed(view) == ["kept five"]
    view.filter_combo.setCurrentIndex(0)
    view.rating_combo.setCurrentIndex(view.rating_combo.findData(2))
    assert listed(view) == ["kept five", "two stars"]

    # A live change moves the job in or out of the filtered list.
    model.upsert(done("ccc", "unrated", rating=4))
    assert listed(view) == ["kept five", "unrated", "two stars"]


def test_keys_rate_and_keep_the_selected_clip_and_it_survives_a_restart(
    tmp_path: Path, make_context: Any, make_window: Any, run: Any, wait_for: Any, qtbot: Any
) -> None:
    data = tmp_path / "data"
    first: MainWindow = make_window(make_context(data))
    job = run(first.job_actions.submit_job(PARAMS, None))
    table = first.jobs_view.table
    table.setFocus()
    qtbot.waitUntil(lambda: first.jobs_view.selected_job() is not None)
    qtbot.keyClick(table, Qt.Key.Key_4)
    qtbot.keyClick(table, Qt.Key.Key_K)
    row = first.model.row_of(job.local_id)
    assert row is not None

    def marked() -> bool:
        shown = first.model.job(job.local_id)
        return shown is not None and (shown.rating, shown.kept) == (4, True)

    wait_for(marked)
    assert first.model.index(row, Column.RATING).data() == "★★★★☆"
    assert first.job_actions.picks.keep.isChecked()
    assert first.job_actions.picks.rate[4].isChecked()
    kinds = [event.kind for event in first.context.journal.events(job.local_id)]
    assert "rate" in kinds and "keep" in kinds
    first.close()

    second: MainWindow = make_window(make_context(data))
    again = second.model.job(job.local_id)
    assert again is not None and (again.rating, again.kept) == (4, True)
    second.jobs_view.filter_combo.setCurrentIndex(
        second.jobs_view.filter_combo.findData(JobFilter.KEPT)
    )
    assert second.jobs_view.proxy.rowCount() == 1
    # K again stops keeping it.
    second.jobs_view.select_job(job.local_id)
    second.activateWindow()
    qtbot.waitUntil(second.isActiveWindow)
    second.jobs_view.table.setFocus()
    qtbot.keyClick(second.jobs_view.table, Qt.Key.Key_K)
    wait_for(lambda: second.jobs_view.proxy.rowCount() == 0)
    stored = second.context.journal.get(job.local_id)
    assert stored is not None and stored.kept is False
