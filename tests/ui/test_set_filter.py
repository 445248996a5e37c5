"""The job list narrowed to one compare set or batch, agreeing with a brute-force answer."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt

from core.jobs import JobState, SetKind
from tests.ui.test_jobs_proxy import STATES, make_job, shown
from ui.jobs_model import Column, JobsModel
from ui.jobs_proxy import JobFilter, JobsFilterProxy


def _in_sets(seed: int, count: int) -> JobsModel:
    rng = random.Random(seed)
    jobs = []
    for index in range(count):
        set_id = rng.choice(("A", "B", None))
        kind = SetKind.COMPARE if set_id == "A" else SetKind.BATCH if set_id else None
        jobs.append(replace(make_job(rng, index), set_id=set_id, set_kind=kind))
    return JobsModel(jobs)


def _expected(model: JobsModel, set_id: str, job_filter: JobFilter) -> list[str]:
    rows = [
        row
        for row in range(model.rowCount())
        if model.job_at(row).set_id == set_id and job_filter.accepts(model.job_at(row))
    ]
    rows.sort(key=lambda row: model.job_at(row).created_at, reverse=True)
    return [model.job_at(row).local_id for row in rows]


def test_one_set_is_shown_with_the_other_filters_and_live_changes(qtmodeltester: Any) -> None:
    model = _in_sets(5, 50)
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.CREATED, Qt.SortOrder.DescendingOrder)
    proxy.set_job_set("A")
    assert proxy.job_set == "A"
    assert shown(proxy) == _expected(model, "A", JobFilter.ALL) != []
    proxy.set_filter(JobFilter.ACTIVE)
    assert shown(proxy) == _expected(model, "A", JobFilter.ACTIVE)
    rng = random.Random(2)
    for step in range(40):
        job = model.job_at(rng.randrange(model.rowCount()))
        if step % 3 == 0:  # a new member of the set arrives (a batch still being sent)
            fresh = replace(make_job(rng, 500 + step), set_id="A", set_kind=SetKind.COMPARE)
            model.upsert(replace(fresh, state=JobState.QUEUED))
        else:
            model.upsert(replace(job, state=rng.choice(STATES)))
        assert shown(proxy) == _expected(model, "A", JobFilter.ACTIVE), step
    qtmodeltester.check(proxy)
    proxy.set_filter(JobFilter.ALL)
    proxy.set_job_set(None)
    assert len(shown(proxy)) == model.rowCount()


def test_show_this_set_only_from_the_window_and_back(window: Any, qtbot: Any) -> None:
    rng = random.Random(4)
    members = [
        replace(make_job(rng, n), local_id=f"s{n}", set_id="S1", set_kind=SetKind.BATCH)
        for n in range(3)
    ]
    for job in [*members, make_job(rng, 10), make_job(rng, 11)]:
        window.model.upsert(job)
    action = window.set_actions.show_set
    window.jobs_view.select_job("job10")
    assert not action.isEnabled()  # not in a set
    window.jobs_view.select_job("s1")
    assert action.isEnabled()
    action.trigger()
    assert sorted(shown(window.jobs_view.proxy)) == ["s0", "s1", "s2"]
    bar = window.jobs_view.set_bar
    assert bar.isVisible() and bar.label.text().startswith("Batch of 3 jobs: “")
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert len(shown(window.jobs_view.proxy)) == 5
