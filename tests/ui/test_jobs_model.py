"""JobsModel: a well-behaved Qt model that updates one row per job change; filters and search."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap

from core.demo_gateway.video import ClipKey, encode_clip
from core.jobs import Cause, DownloadState, Job, JobFailure, JobParams, JobState
from core.thumbnails import first_frame
from ui.job_filters import all_marks, filter_marks
from ui.jobs_model import Column, JobRole, JobsModel, ProgressRole, SortRole
from ui.jobs_view import JobFilter, JobsFilterProxy, JobsView
from ui.thumbnails import ThumbnailCache

NOW = 1_800_000_000.0


def make_job(
    local_id: str,
    state: JobState,
    prompt: str,
    *,
    age: float = 60.0,
    **changes: Any,
) -> Job:
    params = JobParams(model="demo/test-pattern", prompt=prompt, duration=4, aspect_ratio="16:9")
    job = Job(
        local_id=local_id,
        params=params,
        state=state,
        created_at=NOW - age,
        updated_at=NOW - age,
        remote_id=f"G-{local_id.upper()}",
    )
    return replace(job, **changes)


@pytest.fixture
def jobs() -> list[Job]:
    failure = JobFailure(Cause.PROVIDER, code="provider_error", message="Render failed")
    return [
        make_job("a", JobState.QUEUED, "A red kite over hills", age=10, next_poll_at=NOW + 12),
        make_job("b", JobState.PROCESSING, "Neon city at night", age=20, progress=40),
        make_job(
            "c",
            JobState.COMPLETED,
            "Calm sea at dawn",
            age=300,
            download=DownloadState.DONE,
            finished_at=NOW - 200,
            cost="0.20",
        ),
        make_job("d", JobState.FAILED, "A kite in a storm", age=400, failure=failure),
        make_job(
            "e",
            JobState.FAILED,
            "Old reviewed failure",
            age=500,
            failure=failure,
            reviewed=True,
            review_note="provider outage",
        ),
    ]


@pytest.fixture
def model(jobs: list[Job]) -> JobsModel:
    return JobsModel(jobs, clock=lambda: NOW)


def test_model_passes_the_qt_model_tester(model: JobsModel, qtmodeltester: Any) -> None:
    qtmodeltester.check(model)


def test_roles_give_display_sort_job_progress_and_colour(model: JobsModel, qapp: Any) -> None:
    queued = model.index(model.row_of("a") or 0, Column.STATUS)
    assert queued.data() == "Queued · next check in 12 s"
    assert queued.data(ProgressRole) == 0
    assert queued.data(JobRole).local_id == "a"
    assert queued.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#1d5fbf"
    processing = model.index(model.row_of("b") or 0, Column.STATUS)
    assert processing.data(ProgressRole) == 40
    completed_row = model.row_of("c")
    assert completed_row is not None
    assert model.index(completed_row, Column.STATUS).data(ProgressRole) is None
    assert model.index(completed_row, Column.COST).data() == "$0.20"
    assert model.index(completed_row, Column.ELAPSED).data() == "1 m 40 s"
    assert model.index(completed_row, Column.ELAPSED).data(SortRole) == 100.0
    assert model.index(completed_row, Column.DURATION).data(SortRole) == 4
    failed = model.index(model.row_of("d") or 0, Column.STATUS)
    assert failed.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#b3261e"
    assert "Render failed" in failed.data(Qt.ItemDataRole.ToolTipRole)


def test_cost_cell_shows_settled_else_estimate_and_void_as_not_charged() -> None:
    settled = make_job(
        "s",
        JobState.COMPLETED,
        "x",
        billing_state="settled",
        estimated_nanos=400_000_000,
        settled_nanos=396_000_000,
    )
    running = make_job(
        "r", JobState.PROCESSING, "y", billing_state="estimated", estimated_nanos=640_000_000
    )
    void = make_job(
        "v",
        JobState.FAILED,
        "z",
        billing_state="void",
        estimated_nanos=640_000_000,
        settled_nanos=0,
    )
    model = JobsModel([settled, running, void], clock=lambda: NOW)
    cells = {
        local_id: model.index(model.row_of(local_id) or 0, Column.COST)
        for local_id in ("s", "r", "v")
    }
    assert cells["s"].data() == "$0.40"
    assert cells["r"].data() == "~$0.64"
    assert cells["v"].data() == "not charged"
    assert cells["s"].data(SortRole) == pytest.approx(0.396)
    assert "Estimated" in cells["r"].data(Qt.ItemDataRole.ToolTipRole)


def test_a_status_change_touches_exactly_one_row(model: JobsModel, jobs: list[Job]) -> None:
    changed: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
    )
    model.modelReset.connect(lambda: resets.append(True))
    rows_before = model.rowCount()

    model.upsert(replace(jobs[0], state=JobState.PROCESSING, progress=55, updated_at=NOW))

    row = model.row_of("a")
    assert changed == [(row, row)]
    assert resets == []
    assert model.rowCount() == rows_before
    assert model.index(row or 0, Column.STATUS).data().startswith("Processing · 55%")


def test_a_new_job_inserts_one_row_without_a_reset(model: JobsModel, qtmodeltester: Any) -> None:
    inserted: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.modelReset.connect(lambda: resets.append(True))
    model.upsert(make_job("f", JobState.SUBMITTING, "Fresh idea", age=0))
    assert inserted == [(5, 5)]
    assert resets == []
    assert model.row_of("f") == 5
    qtmodeltester.check(model)


def test_removed_jobs_stay_out_until_restored(model: JobsModel, jobs: list[Job]) -> None:
    removed = model.remove("b")
    assert removed is not None and model.row_of("b") is None
    assert [model.row_of(local_id) for local_id in "acde"] == [0, 1, 2, 3]
    model.upsert(replace(jobs[1], progress=70))  # a late change must not bring it back
    assert model.row_of("b") is None
    model.restore(removed)
    assert model.row_of("b") == 4


def test_tick_refreshes_only_status_and_elapsed_of_active_rows(model: JobsModel) -> None:
    cells: list[tuple[int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): cells.append((top.row(), top.column()))
    )
    model.tick()
    active = {model.row_of("a"), model.row_of("b")}
    assert {row for row, _column in cells} == active
    assert {column for _row, column in cells} == {Column.STATUS, Column.ELAPSED}


def _visible(proxy: JobsFilterProxy) -> set[str]:
    return {
        proxy.index(row, 0, QModelIndex()).data(JobRole).local_id for row in range(proxy.rowCount())
    }


def test_filters_and_search_select_the_right_rows(model: JobsModel) -> None:
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    assert _visible(proxy) == set("abcde")
    expected = {
        JobFilter.ACTIVE: {"a", "b"},
        JobFilter.COMPLETED: {"c"},
        JobFilter.NEEDS_REVIEW: {"d"},
        JobFilter.REVIEWED: {"e"},
        JobFilter.ALL: set("abcde"),
    }
    for choice, ids in expected.items():
        proxy.set_filter(choice)
        assert _visible(proxy) == ids, choice
    proxy.set_search("KITE")
    assert _visible(proxy) == {"a", "d"}
    proxy.set_search("kite storm")
    assert _visible(proxy) == {"d"}
    proxy.set_filter(JobFilter.ACTIVE)
    assert _visible(proxy) == set()
    proxy.set_search("")
    proxy.set_filter(JobFilter.ACTIVE)
    model.upsert(replace(model.job("a") or model.job_at(0), state=JobState.FAILED))
    assert _visible(proxy) == {"b"}  # the filter follows live changes


def test_proxy_sorts_by_creation_time(model: JobsModel) -> None:
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.CREATED, Qt.SortOrder.DescendingOrder)
    order = [proxy.index(row, 0).data(JobRole).local_id for row in range(proxy.rowCount())]
    assert order == list("abcde")
    proxy.sort(Column.ELAPSED, Qt.SortOrder.AscendingOrder)
    first = proxy.index(0, 0).data(JobRole).local_id
    assert first == "a"


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(encode_clip(ClipKey(320, 180, 1, 12, 0)))
    return path


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


def test_completed_rows_show_the_first_frame_as_a_thumbnail(
    clip: Path, executor: ThreadPoolExecutor, qtbot: Any
) -> None:
    thumb = first_frame(clip)
    assert (thumb.width, thumb.height) == (128, 72)
    assert len(thumb.rgb) == 128 * 72 * 3 and thumb.as_array().any()

    cache = ThumbnailCache(executor.submit)
    job = make_job("t", JobState.COMPLETED, "Clip", download=DownloadState.DONE, files=(str(clip),))
    model = JobsModel([job], thumbnails=cache, clock=lambda: NOW)
    cell = model.index(0, Column.THUMBNAIL)
    with qtbot.waitSignal(model.dataChanged, timeout=5_000):
        assert cell.data(Qt.ItemDataRole.DecorationRole) is None  # decoding started
    pixmap = cell.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(pixmap, QPixmap) and not pixmap.isNull()
    assert (pixmap.width(), pixmap.height()) == (128, 72)


def test_jobs_made_on_another_gateway_say_they_are_not_checked(jobs: list[Job]) -> None:
    model = JobsModel(jobs, owns=lambda job: job.local_id != "a", clock=lambda: NOW)
    queued = model.index(model.row_of("a") or 0, Column.STATUS).data()
    assert queued == "Queued · made on another gateway, not checked now"
    assert model.index(model.row_of("b") or 0, Column.STATUS).data() == "Processing · 40%"


def _class_jobs() -> list[Job]:
    """One job per failure class, as the journal records them."""
    moderation = JobFailure(
        Cause.PROVIDER,
        code="moderation_blocked",
        message="Your request was blocked by our moderation system.",
        raw={"code": "moderation_blocked", "message": "blocked"},
    )
    disabled = JobFailure(
        Cause.INVALID,
        code="not_implemented_yet",
        message="Not available",
        http_status=501,
        raw={"kind": "feature_disabled", "status": 501, "body": {
            "error": "not_implemented_yet", "reason": "video_api_feature_disabled"}},
    )  # fmt: skip
    refused = {
        "http_status": 502,
        "code": "upstream_error",
        "message": "The provider refused the status check",
        "body": {"error": "upstream_error", "upstream_error": {"code": "PERMISSION_DENIED"}},
    }
    return [
        make_job("p", JobState.FAILED, "policy", failure=moderation),
        make_job("x", JobState.REJECTED, "disabled", failure=disabled),
        make_job("q", JobState.EXPIRED, "expired", failure=JobFailure(Cause.EXPIRED)),
        make_job("r", JobState.PROCESSING, "refused", failures=3, poll_error=refused),
        make_job("u", JobState.PROCESSING, "unreachable", failures=3),
        make_job("f", JobState.FAILED, "fault", failure=JobFailure(Cause.PROVIDER, code="boom")),
        make_job("c", JobState.COMPLETED, "fine", download=DownloadState.DONE),
    ]


def test_a_filter_per_failure_class(qtbot: Any) -> None:
    model = JobsModel(_class_jobs(), clock=lambda: NOW)
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    expected = {
        JobFilter.POLICY: {"p"},
        JobFilter.ACCESS: {"x", "r"},
        JobFilter.ENDED: {"q", "u"},
        JobFilter.PROVIDER: {"f"},
        JobFilter.INVALID: set(),
        JobFilter.LIMIT: set(),
        JobFilter.NEEDS_REVIEW: {"p", "x", "q", "r", "u", "f"},
    }
    for choice, ids in expected.items():
        proxy.set_filter(choice)
        assert _visible(proxy) == ids, choice
    # A live change moves a job into its class: a running job fails for lack of credit.
    proxy.set_filter(JobFilter.LIMIT)
    funds = JobFailure(Cause.CREDIT, code="insufficient_funds", http_status=402)
    model.upsert(replace(model.job("c") or model.job_at(0), state=JobState.FAILED, failure=funds))
    assert _visible(proxy) == {"c"}


def test_the_filter_box_offers_every_class_after_a_separator(qtbot: Any) -> None:
    view = JobsView(JobsModel(_class_jobs(), clock=lambda: NOW))
    qtbot.addWidget(view)
    combo = view.filter_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    first = texts.index(JobFilter.POLICY.value)
    assert texts[first - 1] == ""  # the separator
    assert texts[first:] == [
        "Blocked by a safety or content policy",
        "Invalid request",
        "Access missing",
        "Out of credit or rate limited",
        "Provider fault or timeout",
        "Expired, cancelled, gone or unknown",
    ]
    combo.setCurrentIndex(texts.index("Access missing"))
    assert view.proxy.job_filter is JobFilter.ACCESS and view.proxy.rowCount() == 2


def test_all_marks_agree_with_filter_marks_for_failures() -> None:
    jobs = _class_jobs()
    assert all_marks(jobs) == [filter_marks(job) for job in jobs]


def test_status_tooltip_names_the_class_next_step_and_provider_words() -> None:
    model = JobsModel(_class_jobs(), clock=lambda: NOW)
    tip = model.index(model.row_of("p") or 0, Column.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert "Blocked by a safety or content policy: " in tip
    assert "Next step: Rephrase the prompt" in tip
    assert "Message: Your request was blocked by our moderation system." in tip
    refused = model.index(model.row_of("r") or 0, Column.STATUS)
    tip = refused.data(Qt.ItemDataRole.ToolTipRole)
    assert "Provider access missing: The gateway answers" in tip
    assert "cannot reach" not in tip.lower()
    disabled = model.index(model.row_of("x") or 0, Column.STATUS)
    assert "The video API is not enabled for this account." in disabled.data(
        Qt.ItemDataRole.ToolTipRole
    )


def test_size_only_jobs_show_their_size_and_their_shape_in_the_gallery() -> None:
    from ui.gallery_delegate import aspect_of

    sora = make_job("s", JobState.COMPLETED, "A lighthouse", download=DownloadState.DONE)
    sora = replace(
        sora, params=replace(sora.params, model="openai/sora-2", aspect_ratio=None, size="720x1280")
    )
    model = JobsModel([sora], clock=lambda: NOW)
    shape = model.index(0, Column.ASPECT).data(Qt.ItemDataRole.DisplayRole)
    assert shape == "720x1280"  # not "default": Sora takes a size, not an aspect ratio
    assert aspect_of(sora) == pytest.approx(720 / 1280)  # a portrait thumbnail


def test_status_words_too_wide_for_the_bar_keep_their_start(qapp) -> None:
    """A running job's words on a narrow progress bar: "Processing · 9…", not "sing · 95% · n"."""
    from PySide6.QtGui import QFont, QFontMetrics

    from ui.jobs_view import fitted_words

    metrics = QFontMetrics(QFont())
    words = "Processing · 95% · next check in 12 s"
    width = metrics.horizontalAdvance("Processing · 9")
    shown = fitted_words(words, metrics, width)
    assert shown.startswith("Processing") and shown.endswith("…")
    assert metrics.horizontalAdvance(shown) <= width
    assert fitted_words(words, metrics, 10_000) == words
