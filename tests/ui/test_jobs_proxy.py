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


def sort_job(local_id: str, prompt: str, model: str, duration: int, aspect: str, **job: Any) -> Job:
    params = JobParams(model=model, prompt=prompt, duration=duration, aspect_ratio=aspect)
    return Job(local_id=local_id, params=params, updated_at=1000.0, **job)


#: Ascending order of the jobs of ``three_jobs`` by each column, as a person reads the cells.
ASCENDING = {
    Column.THUMBNAIL: "bca",  # by creation time
    Column.PROMPT: "bca",  # "Apple tart", "banana bread", "cherry pie": case does not count
    Column.MODEL: "bca",  # m/alpha, m/mid, m/zeta
    Column.DURATION: "bca",  # 4 s, 6 s, 8 s
    Column.ASPECT: "acb",  # as text: "16:9", "1:1", "9:16"
    Column.STATUS: "abc",  # Completed, Failed, Queued
    Column.CREATED: "bca",
    Column.ELAPSED: "abc",  # 100 s, 500 s, running for 3000 s
    Column.COST: "bac",  # no cost yet, $0.40 settled, ~$0.64 estimated
    Column.KEPT: "bca",  # not kept (in list order), then kept
    Column.RATING: "cab",  # not rated, 2 stars, 5 stars
}


@pytest.fixture
def three_jobs() -> JobsModel:
    return JobsModel(
        [
            sort_job(
                "a", "cherry pie", "m/zeta", 8, "16:9", state=JobState.COMPLETED,
                created_at=3000.0, finished_at=3100.0, billing_state="settled",
                estimated_nanos=400_000_000, settled_nanos=396_000_000, kept=True, rating=2,
            ),
            sort_job(
                "b", "Apple tart", "m/alpha", 4, "9:16", state=JobState.FAILED,
                created_at=1000.0, finished_at=1500.0, rating=5,
            ),
            sort_job(
                "c", "banana bread", "m/mid", 6, "1:1", state=JobState.QUEUED,
                created_at=2000.0, billing_state="estimated", estimated_nanos=640_000_000,
            ),
        ],
        clock=lambda: 5000.0,
    )  # fmt: skip


@pytest.mark.parametrize("column", list(Column), ids=lambda column: column.name.lower())
def test_every_column_sorts_both_ways_as_its_cells_read(
    three_jobs: JobsModel, column: Column
) -> None:
    proxy = JobsFilterProxy()
    proxy.setSourceModel(three_jobs)
    proxy.sort(column, Qt.SortOrder.AscendingOrder)
    assert "".join(shown(proxy)) == ASCENDING[column]
    proxy.sort(column, Qt.SortOrder.DescendingOrder)
    # Jobs that tie (two not kept) keep their list order in either direction.
    descending = "abc" if column is Column.KEPT else ASCENDING[column][::-1]
    assert "".join(shown(proxy)) == descending


def test_a_changed_job_moves_to_its_place_in_the_sorted_column(three_jobs: JobsModel) -> None:
    proxy = JobsFilterProxy()
    proxy.setSourceModel(three_jobs)
    proxy.sort(Column.RATING, Qt.SortOrder.AscendingOrder)
    unrated = three_jobs.job("c")
    assert unrated is not None
    three_jobs.upsert(replace(unrated, rating=3, updated_at=1001.0))
    assert "".join(shown(proxy)) == "acb"  # 2, 3, 5 stars
    proxy.sort(Column.COST, Qt.SortOrder.AscendingOrder)
    running = three_jobs.job("c")
    assert running is not None
    settled = replace(
        running,
        state=JobState.COMPLETED,
        finished_at=2100.0,
        billing_state="settled",
        settled_nanos=300_000_000,
        updated_at=1002.0,
    )
    three_jobs.upsert(settled)
    assert "".join(shown(proxy)) == "bca"  # no cost, $0.30, $0.40
