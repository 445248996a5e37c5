"""Paid jobs are never lost: gateway identity, 404s, lost creates, content retries, locks."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.download import DownloadError, DownloadErrorKind
from core.engine import Engine
from core.engine.downloads import MAX_DOWNLOAD_ATTEMPTS
from core.engine.matching import RECONCILE_ATTEMPTS
from core.errors import ErrorKind, GatewayError
from core.joblock import FileLock, lock_name
from core.jobs import DownloadState, JobParams, JobState
from core.journal import Journal
from core.poll_policy import PollPolicy, RequestBudget
from core.wire import RemoteJob, parse_job

PARAMS = JobParams(model="demo/test-pattern", prompt="a lake", duration=2, aspect_ratio="16:9")
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(2000)


def not_found() -> GatewayError:
    return GatewayError(kind=ErrorKind.NOT_FOUND, message="Video not found", status=404)


class Client:
    """A scripted gateway client: each call pops its next answer (a value or an exception)."""

    def __init__(self) -> None:
        self.key: str | None = "key-a"
        self.answers: dict[str, list[Any]] = {"create": [], "get": [], "list": [], "content": []}
        self.calls: list[str] = []
        self.deleted: bool = True
        self.create_gate: threading.Event | None = None
        self.in_create = 0
        self.most_in_create = 0
        self._guard = threading.Lock()

    @property
    def identity(self) -> str:
        return f"https://gw.test/v1#{self.key}"

    def set_api_key(self, key: str | None) -> None:
        self.key = key

    def _next(self, name: str) -> Any:
        self.calls.append(name)
        answer = self.answers[name].pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def create(self, params: JobParams) -> RemoteJob:
        with self._guard:
            self.in_create += 1
            self.most_in_create = max(self.most_in_create, self.in_create)
        try:
            if self.create_gate is not None:
                assert self.create_gate.wait(10)
            return self._next("create")  # type: ignore[no-any-return]
        finally:
            with self._guard:
                self.in_create -= 1

    def get(self, job_id: str) -> RemoteJob:
        return self._next("get")  # type: ignore[no-any-return]

    def iter_jobs(self, **_: Any) -> Iterator[RemoteJob]:
        answer = self._next("list")
        return iter(answer)

    def open_content(self, job_id: str, index: int = 0) -> Any:
        return self._next("content")

    def delete(self, job_id: str) -> bool:
        self.calls.append("delete")
        return self.deleted


class Stream:
    """A content stream holding a tiny MP4."""

    content_length = len(MP4)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        yield MP4


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make_engine(tmp_path: Path, client: Client, clock: Clock, journal: Journal) -> Engine:
    return Engine(
        journal,
        client,  # type: ignore[arg-type]
        tmp_path / "videos",
        policy=PollPolicy(first_poll_after=5.0),
        budget=RequestBudget(max_in_flight=4, per_second=1000.0, burst=1000, clock=clock),
        clock=clock,
        rng=random.Random(1),
    )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Engine, Client, Clock]]:
    journal = Journal.open(tmp_path / "journal.db")
    client, clock = Client(), Clock()
    yield make_engine(tmp_path, client, clock, journal), client, clock
    journal.close()


def submitted(engine: Engine, client: Client, status: str = "queued") -> str:
    client.answers["create"].append(parse_job({"id": "G-1", "status": status}))
    return engine.submit(PARAMS).local_id


def poll_due(engine: Engine) -> None:
    for job in engine.claim_due():
        engine.poll(job)


# --- gateway identity and 404s ------------------------------------------------------------


def test_each_job_records_its_gateway_identity_without_the_key(rig: Any) -> None:
    engine, client, _ = rig
    local_id = submitted(engine, client)
    job = engine.job(local_id)
    assert job is not None and job.gateway == "https://gw.test/v1#key-a"  # the fake's label


def test_gateway_identity_is_base_url_and_a_fingerprint_never_the_key() -> None:
    from core.gateway import GatewayClient

    key = "phaseo_v1_sk_" + "x" * 40
    with GatewayClient("https://api.example.test/v1", key) as client:
        identity = client.identity
    assert identity.startswith("https://api.example.test/v1#") and key not in identity
    with GatewayClient("https://api.example.test/v1", key + "y") as other:
        assert other.identity != identity


def test_one_404_is_not_gone_two_a_minute_apart_are(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    client.answers["get"] = [not_found(), not_found(), not_found()]
    clock.now += 10
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.state is JobState.QUEUED and job.not_found == 1
    assert job.next_poll_at is not None and job.next_poll_at >= clock.now + 59
    clock.now += 30  # a Refresh half a minute later: still not proof
    job = engine.poll_once(local_id)
    assert job.state is JobState.QUEUED and job.not_found == 2
    clock.now += 40  # the re-check is due a minute (plus a little jitter) after the first
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.state is JobState.GONE


def test_a_status_between_404s_starts_the_count_again(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    client.answers["get"] = [
        not_found(),
        parse_job({"id": "G-1", "status": "in_progress", "poll_after_seconds": 5}),
        not_found(),
    ]
    for _ in range(3):
        clock.now += 70
        poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.state is JobState.PROCESSING and job.not_found == 1


def test_a_gone_job_takes_a_later_status_and_refresh_polls_it(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    client.answers["get"] = [not_found(), not_found()]
    clock.now += 10
    poll_due(engine)
    clock.now += 70
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.state is JobState.GONE
    client.answers["get"] = [parse_job({"id": "G-1", "status": "completed"})]
    job = engine.poll_once(local_id)
    assert job.state is JobState.COMPLETED and job.failure is None and job.wants_download
    assert client.calls.count("get") == 3


def test_jobs_of_another_key_are_never_polled_with_this_one(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    engine.set_api_key("key-b")
    clock.now += 3600
    assert engine.claim_due() == []
    job = engine.poll_once(local_id)  # even a Refresh does not ask through another identity
    assert client.calls.count("get") == 0 and job.state is JobState.QUEUED
    engine.set_api_key("key-a")
    client.answers["get"] = [parse_job({"id": "G-1", "status": "queued"})]
    assert [j.local_id for j in engine.claim_due()] == [local_id]


def test_a_refused_keys_jobs_move_to_the_key_that_replaces_it(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    client.answers["get"] = [
        GatewayError(kind=ErrorKind.AUTH, message="revoked", status=401),
        parse_job({"id": "G-1", "status": "queued"}),
    ]
    clock.now += 10
    poll_due(engine)
    engine.set_api_key("key-b")
    job = engine.job(local_id)
    assert job is not None and job.gateway == "https://gw.test/v1#key-b"
    poll_due(engine)
    assert client.calls.count("get") == 2


def test_a_jobs_gateway_id_is_fixed_once_known(rig: Any) -> None:
    engine, client, clock = rig
    local_id = submitted(engine, client)
    client.answers["get"] = [parse_job({"id": "G-OTHER", "status": "in_progress"})]
    clock.now += 10
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.remote_id == "G-1" and job.foreign_ids == ("G-OTHER",)
    notes = [e.note or "" for e in engine.journal.events(local_id)]
    assert any("G-OTHER" in note and "keeps G-1" in note for note in notes)


def test_key_limit_429_slows_every_job_of_the_key(rig: Any) -> None:
    engine, client, clock = rig
    first = submitted(engine, client)
    client.answers["create"].append(parse_job({"id": "G-2", "status": "queued"}))
    engine.submit(PARAMS)
    limit = GatewayError(
        kind=ErrorKind.RATE_LIMITED,
        message="slow down",
        status=429,
        code="key_limit_exceeded",
        retry_after=1200.0,
    )
    client.answers["get"] = [limit]
    clock.now += 10
    [one] = engine.claim_due(limit=1)
    assert one.local_id == first
    engine.poll(one)
    clock.now += 600  # ten minutes later: still held, for the other job too
    assert engine.claim_due() == []
    wake = engine.next_wake()
    assert wake is not None and wake >= clock.now + 590
    clock.now += 601
    assert len(engine.claim_due()) == 2


# --- lost creates -------------------------------------------------------------------------


def lost(engine: Engine, client: Client) -> str:
    client.answers["create"].append(
        GatewayError(kind=ErrorKind.TIMEOUT, message="timed out", ambiguous=True)
    )
    return engine.submit(PARAMS).local_id


def test_listing_failures_never_use_up_the_search(rig: Any) -> None:
    engine, client, clock = rig
    local_id = lost(engine, client)
    outage = [
        GatewayError(kind=ErrorKind.NETWORK, message="refused"),
        GatewayError(kind=ErrorKind.TRANSIENT, message="bad gateway", status=502),
        GatewayError(kind=ErrorKind.TRANSIENT, message="unavailable", status=503),
    ]
    client.answers["list"] = outage * 4
    for _ in range(12):
        clock.now += 400
        poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.reconcile_attempts == 0 and job.next_poll_at is not None
    client.answers["list"] = [[]] * RECONCILE_ATTEMPTS
    for _ in range(RECONCILE_ATTEMPTS):
        clock.now += 400
        poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.reconcile_attempts == RECONCILE_ATTEMPTS
    assert job.failures == 0 and not job.unreachable  # the list answered again
    assert job.next_poll_at == pytest.approx(clock.now + 600)  # the slow search goes on


def test_a_401_while_listing_waits_for_a_new_key_not_counted(rig: Any) -> None:
    engine, client, clock = rig
    local_id = lost(engine, client)
    client.answers["list"] = [GatewayError(kind=ErrorKind.AUTH, message="revoked", status=401)]
    clock.now += 10
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.auth_blocked and job.reconcile_attempts == 0


def test_the_slow_search_ends_a_day_after_and_a_restart_searches_again(
    rig: Any, tmp_path: Path
) -> None:
    engine, client, clock = rig
    local_id = lost(engine, client)
    client.answers["list"] = [[] for _ in range(400)]
    for _ in range(200):
        clock.now += 600
        poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.state is JobState.SUBMIT_UNKNOWN and job.next_poll_at is None
    assert engine.next_wake() is None and job.needs_review
    restarted = make_engine(tmp_path, client, clock, engine.journal)
    [again] = restarted.claim_due()
    assert again.local_id == local_id and again.reconcile_attempts == 0


def test_a_listed_job_with_an_alias_model_and_matching_seconds_is_adopted(rig: Any) -> None:
    engine, client, clock = rig
    engine.model_aliases = {"demo/latest": "demo/test-pattern"}
    local_id = lost(engine, client)
    sent = clock.now
    listed = [
        {"id": "G-WRONG-SECONDS", "model": "demo/test-pattern", "seconds": 8, "created_at": sent},
        {"id": "G-LATE", "model": "demo/test-pattern", "seconds": 2, "created_at": sent + 200},
        {"id": "G-ALIAS", "model": "demo/latest", "seconds": "2", "size": "1280x720",
         "created_at": sent + 3, "status": "queued"},
    ]  # fmt: skip
    client.answers["list"] = [[parse_job(item) for item in listed]]
    clock.now += 10
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.remote_id == "G-ALIAS" and not job.uncertain_match


def test_a_match_on_time_alone_is_flagged_for_review(rig: Any) -> None:
    engine, client, clock = rig
    local_id = lost(engine, client)
    listed = {"id": "G-BARE", "model": "demo/test-pattern", "created_at": clock.now + 2}
    client.answers["list"] = [[parse_job({**listed, "status": "queued"})]]
    clock.now += 10
    poll_due(engine)
    job = engine.job(local_id)
    assert job is not None and job.remote_id == "G-BARE"
    assert job.uncertain_match and job.needs_review


def test_creates_of_one_identity_go_one_at_a_time(rig: Any) -> None:
    engine, client, _ = rig
    client.create_gate = threading.Event()
    client.answers["create"] = [
        parse_job({"id": "G-1", "status": "queued"}),
        parse_job({"id": "G-2", "status": "queued"}),
    ]
    threads = [threading.Thread(target=engine.submit, args=(PARAMS,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    client.create_gate.set()
    for thread in threads:
        thread.join(10)
    assert client.most_in_create == 1
    assert sorted(j.remote_id or "" for j in engine.journal.jobs()) == ["G-1", "G-2"]


# --- downloads ----------------------------------------------------------------------------


def completed(engine: Engine, client: Client) -> str:
    return submitted(engine, client, status="completed")


def download_once(engine: Engine) -> None:
    for job in engine.claim_downloads():
        engine.download(job)


def test_not_ready_for_a_completed_job_reads_its_status_first(rig: Any) -> None:
    engine, client, _clock = rig
    local_id = completed(engine, client)
    client.answers["content"] = [
        GatewayError(kind=ErrorKind.NOT_READY, message="not ready", status=409, code="not_ready")
    ]
    client.answers["get"] = [parse_job({"id": "G-1", "status": "expired"})]
    download_once(engine)
    job = engine.job(local_id)
    assert job is not None and client.calls.count("get") == 1
    assert job.download is DownloadState.FAILED and not job.download_retryable
    assert "expired" in (job.download_problem or "") and job.needs_review


def test_content_retries_back_off_honour_retry_after_and_end_in_review(rig: Any) -> None:
    engine, client, clock = rig
    local_id = completed(engine, client)
    busy = GatewayError(kind=ErrorKind.RATE_LIMITED, message="busy", status=429, retry_after=900.0)
    client.answers["content"] = [busy] * MAX_DOWNLOAD_ATTEMPTS
    download_once(engine)
    job = engine.job(local_id)
    assert job is not None and job.download_retry_at == pytest.approx(clock.now + 900)
    for _ in range(MAX_DOWNLOAD_ATTEMPTS - 1):
        clock.now += 899
        assert engine.claim_downloads() == []  # never sooner than the gateway asked
        clock.now += 3600
        download_once(engine)
    job = engine.job(local_id)
    assert job is not None and job.download_attempts == MAX_DOWNLOAD_ATTEMPTS
    assert not job.download_retryable and job.needs_review
    assert f"after {MAX_DOWNLOAD_ATTEMPTS} attempts" in (job.download_problem or "")
    assert engine.next_wake() is None


def test_a_download_another_process_holds_is_not_fetched_twice(rig: Any) -> None:
    engine, client, clock = rig
    local_id = completed(engine, client)
    other = FileLock(engine.locks_dir / f"job-{lock_name(local_id)}.lock")
    holder = threading.Thread(target=other.acquire)
    holder.start()
    holder.join()
    try:
        download_once(engine)
        assert client.calls.count("content") == 0
    finally:
        releaser = threading.Thread(target=other.release)
        releaser.start()
        releaser.join()
    # The other process saved it meanwhile: this one takes its record and fetches nothing.
    saved = engine.journal.get(local_id)
    assert saved is not None
    from dataclasses import replace

    engine.journal.update(replace(saved, download=DownloadState.DONE, files=("/x.mp4",)))
    clock.now += 10
    download_once(engine)
    assert client.calls.count("content") == 0
    job = engine.job(local_id)
    assert job is not None and job.download is DownloadState.DONE


def test_a_completed_download_saves_the_file(rig: Any) -> None:
    engine, client, _ = rig
    local_id = completed(engine, client)
    client.answers["content"] = [Stream()]
    download_once(engine)
    job = engine.job(local_id)
    assert job is not None and job.download is DownloadState.DONE
    assert Path(job.files[0]).read_bytes() == MP4
    assert list(engine.locks_dir.glob("job-*.lock")) == []  # no lock file left per job


def test_delete_on_server_checks_the_deleted_answer(rig: Any) -> None:
    engine, client, _ = rig
    local_id = completed(engine, client)
    client.deleted = False
    with pytest.raises(GatewayError, match="without confirming"):
        engine.delete_on_server(local_id)
    job = engine.job(local_id)
    assert job is not None and not job.deleted_on_server


def test_disk_errors_keep_their_kind_typed(rig: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, client, _ = rig
    local_id = completed(engine, client)

    def full(*_: Any, **__: Any) -> Any:
        raise DownloadError(DownloadErrorKind.NO_SPACE, "disk full", retryable=False)

    monkeypatch.setattr("core.engine.downloads.download", full)
    download_once(engine)
    job = engine.job(local_id)
    assert job is not None and job.download_error == "no_space" and not job.download_retryable
    assert "download_error" not in job.extra


def test_run_due_for_one_job_leaves_the_others_alone(rig: Any) -> None:
    """``generate`` drives only its own job, not the window's or another run's."""
    engine, client, clock = rig
    mine = submitted(engine, client)
    client.answers["create"].append(parse_job({"id": "G-2", "status": "queued"}))
    other = engine.submit(PARAMS).local_id
    client.answers["get"] = [parse_job({"id": "G-1", "status": "in_progress"})]
    clock.now += 30
    changed = engine.run_due(only={mine})
    assert [job.local_id for job in changed] == [mine]
    assert client.calls.count("get") == 1
    wake = engine.next_wake(only={mine})
    assert wake is not None and wake > clock.now  # the other job, due now, is not waited for
    assert engine.next_wake() == clock.now and other in {j.local_id for j in engine.claim_due()}


def test_a_video_another_process_saved_is_never_written_over(rig: Any) -> None:
    """The window's stale copy must not record "not downloaded" over the CLI's saved video."""
    from dataclasses import replace

    engine, client, _ = rig
    local_id = completed(engine, client)
    saved = engine.journal.get(local_id)
    assert saved is not None and saved.wants_download
    engine.journal.update(replace(saved, download=DownloadState.DONE, files=("/v/G-1-1.mp4",)))
    after = engine.review(local_id, True, "looked at it")  # any change from the stale copy
    stored = engine.journal.get(local_id)
    assert after.download is DownloadState.DONE and after.files == ("/v/G-1-1.mp4",)
    assert stored is not None and stored.download is DownloadState.DONE
    assert engine.claim_downloads() == []


def test_the_journal_never_writes_a_saved_video_back_to_not_saved(rig: Any) -> None:
    """Two processes: a stale copy saved after the other's "done" must not undo it."""
    from dataclasses import replace

    engine, client, _ = rig
    local_id = completed(engine, client)
    stale = engine.journal.get(local_id)
    assert stale is not None and stale.download is DownloadState.PENDING
    engine.journal.update(replace(stale, download=DownloadState.DONE, files=("/v/a.mp4",)))
    engine.journal.save(replace(stale, review_note="late"), "review")
    stored = engine.journal.get(local_id)
    assert stored is not None and stored.download is DownloadState.DONE
    assert [e.kind for e in engine.journal.events(local_id)][-1] == "review"  # still logged


def test_download_now_waits_for_a_job_busy_for_a_moment_then_takes_it(rig: Any) -> None:
    """ "Download now" while the loop holds the job: wait for it instead of doing nothing."""
    engine, client, _ = rig
    local_id = completed(engine, client)
    [held] = engine.claim_downloads()  # the loop's own attempt is under way
    got: list[str] = []
    waiter = threading.Thread(
        target=lambda: got.extend(job.local_id for job in engine.claim_downloads_now(wait=10))
    )
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and got == []  # waiting, not returning empty-handed
    client.answers["content"] = [GatewayError(kind=ErrorKind.NETWORK, message="reset")] * 3
    failed = engine.download(held)  # the loop's attempt fails and would retry in 30 s
    assert failed.download is DownloadState.FAILED
    waiter.join(5)
    assert got == [local_id]  # the person's click takes it now


def test_download_now_gives_up_on_a_job_held_too_long_and_returns_at_once_when_idle(
    rig: Any,
) -> None:
    engine, client, _ = rig
    completed(engine, client)
    [held] = engine.claim_downloads()
    assert engine.claim_downloads_now(wait=0.2) == []
    client.answers["content"] = [Stream()]
    assert engine.download(held).download is DownloadState.DONE
    assert engine.claim_downloads_now(wait=60) == []  # nothing left to fetch: no wait
