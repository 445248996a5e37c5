"""Poller: one timer, armed for the engine's next wake (clamped), work on the worker pool."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal

from core.errors import ErrorKind, GatewayError
from core.jobs import Job, JobParams, JobState
from ui.poller import MAX_DELAY_MS, MIN_DELAY_MS, Poller

NOW = 1_800_000_000.0
JOB = Job(
    local_id="j1",
    params=JobParams(model="m", prompt="p", duration=4, aspect_ratio="16:9"),
    state=JobState.QUEUED,
    created_at=NOW,
    updated_at=NOW,
    remote_id="G-1",
    next_poll_at=NOW,
)


class FakeEngine:
    """Just enough of the engine for the poller: a wake time and claimable work."""

    def __init__(self) -> None:
        self.wake: float | None = None
        self.due: list[Job] = []
        self.downloads: list[Job] = []
        self.polled: list[Job] = []
        self.key_rejected: GatewayError | None = None

    def next_wake(self, now: float, *, downloads: bool = True) -> float | None:
        self.downloads_asked = downloads
        return self.wake

    def claim_due(self, now: float) -> list[Job]:
        due, self.due = self.due, []
        return due

    def claim_downloads(self, now: float) -> list[Job]:
        ready, self.downloads = self.downloads, []
        return ready

    def unfinished_jobs(self) -> list[Job]:
        return [JOB]

    def poll(self, job: Job) -> Job:
        self.polled.append(job)
        self.wake = None
        return job

    def download(self, job: Job, cancel: object = None) -> Job:
        return job


class FakeController(QObject):
    """The controller surface the poller uses, with a real thread pool."""

    job_changed = Signal(object)

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        super().__init__()
        self.engine = FakeEngine()
        self.closed = False
        self.pool = pool
        self.errors: list[str] = []

    def run_background(self, fn: Any, *args: Any) -> Future[Any]:
        return self.pool.submit(fn, *args)

    def download_in_background(self, job: Job) -> Future[Any]:
        return self.pool.submit(self.engine.download, job)

    def report_error(self, message: str) -> None:
        self.errors.append(message)


@pytest.fixture
def controller(qapp: Any) -> Any:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield FakeController(pool)


def make_poller(controller: Any, auto: bool = True) -> Poller:
    return Poller(controller, auto_download=lambda: auto, clock=lambda: NOW)


def test_the_timer_is_clamped_and_stops_when_nothing_is_due(controller: Any) -> None:
    poller = make_poller(controller)
    poller.start()
    assert not poller.timer.isActive()
    controller.engine.wake = NOW + 3_600
    poller.rearm()
    assert poller.timer.isActive() and poller.timer.interval() == MAX_DELAY_MS
    controller.engine.wake = NOW
    poller.rearm()
    assert poller.timer.interval() == MIN_DELAY_MS
    controller.engine.wake = NOW + 12.5
    poller.rearm()
    assert poller.timer.interval() == 12_500
    assert poller.timer.isSingleShot()
    poller.stop()
    assert not poller.timer.isActive()


def test_due_jobs_are_polled_on_the_pool_and_the_timer_rearmed(controller: Any, qtbot: Any) -> None:
    poller = make_poller(controller)
    controller.engine.due = [JOB]
    controller.engine.wake = NOW
    poller.start()
    qtbot.waitUntil(lambda: controller.engine.polled == [JOB], timeout=2_000)
    qtbot.waitUntil(lambda: not poller.timer.isActive(), timeout=2_000)
    assert poller.wakes == 1


def test_a_refused_key_is_reported_once_and_pauses_polling(controller: Any) -> None:
    poller = make_poller(controller, auto=False)
    reports: list[object] = []
    poller.key_rejected.connect(reports.append)
    error = GatewayError(kind=ErrorKind.AUTH, message="revoked", status=401)
    controller.engine.key_rejected = error
    poller.start()
    poller.rearm()
    assert reports == [error]
    assert not poller.timer.isActive()  # paused: nothing is due while the key is refused
