"""JobsFilterProxy: bulk filter, search and sort that agree with a plain re-computation.

The proxy keeps caches (search matches, sort keys, the row mapping) and updates them row by
row as jobs change; these tests compare what it shows with a brute-force answer after every
kind of change, and run Qt's model tester over it.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from core.jobs import DownloadState, Job, JobParams, JobState
from ui.jobs_model import Column, JobRole, JobsModel
from ui.jobs_proxy import JobFilter, JobsFilterProxy, filter_marks
from ui.jobs_view import JobsView

WORDS = ["kite", "storm", "neon", "city", "sea", "dawn", "kitten", "stormy"]
STATES = [
    JobState.QUEUED,
    JobState.PROCESSING,
    JobState.COMPLETED,
    JobState.FAILED,
    JobState.EXPIRED,
]


def make_job(rng: random.Random, index: int) -> Job:
    state = rng.choice(STATES)
    prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    return Job(
        local_id=f"job{index}",
        params=JobParams(model="m", prompt=prompt.upper() if index % 5 == 0 else prompt,
                         duration=rng.choice((4, 8)), aspect_ratio="16:9"),
        state=state,
        created_at=1000.0 + rng.randint(0, 50),  # ties on purpose
        updated_at=1000.0,
        remote_id=f"G-{index}",
        download=DownloadState.DONE if state is JobState.COMPLETED else DownloadState.NONE,
        reviewed=rng.random() < 0.2,
    )  # fmt: skip


def shown(proxy: JobsFilterProxy) -> list[str]:
    return [proxy.index(row, 0).data(JobRole).local_id for row in range(proxy.rowCount())]


def expected(model: JobsModel, job_filter: JobFilter, text: str, descending: bool) -> list[str]:
    words = text.casefold().split()
    rows = [
        row
        for row in range(model.rowCount())
        if job_filter.accepts(model.job_at(row))
        and all(word in model.job_at(row).params.prompt.casefold() for word in words)
    ]
    rows.sort(key=lambda row: model.job_at(row).created_at, reverse=descending)
    return [model.job_at(row).local_id for row in rows]


@pytest.fixture
def model() -> JobsModel:
    rng = random.Random(3)
    return JobsModel([make_job(rng, index) for index in range(60)])


@pytest.fixture
def proxy(model: JobsModel) -> JobsFilterProxy:
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.CREATED, Qt.SortOrder.DescendingOrder)
    return proxy


def test_filter_marks_agree_with_the_filters(model: JobsModel) -> None:
    for job in model.jobs():
        for choice in JobFilter:
            assert choice.accepts(job) == (
                choice is JobFilter.ALL or bool(filter_marks(job) & choice.mark)
            )


def test_typing_deleting_and_filtering_match_a_brute_force_answer(
    model: JobsModel, proxy: JobsFilterProxy, qtmodeltester: Any
) -> None:
    typed = [
        "k",
        "ki",
        "kit",
        "kite",
        "kite s",
        "kite st",
        "kite storm",
        "kite",
        "",
        "ST",
        "dawn x",
    ]
    for choice in JobFilter:
        proxy.set_filter(choice)
        for text in typed:
            proxy.set_search(text)
            assert shown(proxy) == expected(model, choice, text, True), (choice, text)
    qtmodeltester.check(proxy)


def test_live_changes_keep_order_filter_and_search_right(
    model: JobsModel, proxy: JobsFilterProxy, qtmodeltester: Any
) -> None:
    rng = random.Random(9)
    proxy.set_filter(JobFilter.ACTIVE)
    proxy.set_search("kite")
    for step in range(80):
        job = model.job_at(rng.randrange(model.rowCount()))
        action = step % 4
        if action == 0:  # a status change (may leave or join the filter)
            model.upsert(replace(job, state=rng.choice(STATES)))
        elif action == 1:  # a new job
            model.upsert(make_job(rng, 1000 + step))
        elif action == 2:  # a different prompt (may leave or join the search)
            params = replace(job.params, prompt=" ".join(rng.sample(WORDS, 2)))
            model.upsert(replace(job, params=params))
        else:  # removed from the list
            model.remove(job.local_id)
        assert shown(proxy) == expected(model, JobFilter.ACTIVE, "kite", True), step
    proxy.set_search("kite s")  # narrowing after live changes uses the updated cache
    assert shown(proxy) == expected(model, JobFilter.ACTIVE, "kite s", True)
    proxy.sort(Column.CREATED, Qt.SortOrder.AscendingOrder)
    assert shown(proxy) == expected(model, JobFilter.ACTIVE, "kite s", False)
    qtmodeltester.check(proxy)


def test_a_filter_change_keeps_the_selected_job_selected(model: JobsModel, qtbot: Any) -> None:
    view = JobsView(model)
    qtbot.addWidget(view)
    target = next(job for job in model.jobs() if job.state is JobState.COMPLETED)
    assert view.select_job(target.local_id)
    seen: list[Any] = []
    view.selection_changed.connect(seen.append)
    view.proxy.set_filter(JobFilter.COMPLETED)
    assert view.selected_job() is not None
    assert view.selected_job().local_id == target.local_id  # type: ignore[union-attr]
    view.proxy.set_filter(JobFilter.ACTIVE)  # the job is filtered out: nothing selected
    assert view.selected_job() is None
    assert seen and seen[-1] is None
    selection = view.table.selectionModel()
    assert not selection.hasSelection()
    view.proxy.set_filter(JobFilter.ALL)
    index = view.proxy.index(0, Column.PROMPT)
    selection.setCurrentIndex(
        index,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    first = view.selected_job()
    view.proxy.set_search(first.params.prompt.split()[0])  # type: ignore[union-attr]
    assert view.selected_job() == first
