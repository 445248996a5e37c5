"""Paid jobs are never lost: each rule of the engine, proven over real loopback HTTP.

Real demo gateway, real fault proxy, real SQLite journal, real MP4 files. Engines run on a
virtual clock (minutes of backoff and slow searches pass in no time); the gateway runs on
the real one with jobs that finish in a fraction of a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway
from core.engine import Engine
from core.engine.downloads import MAX_DOWNLOAD_ATTEMPTS
from core.engine.matching import RECONCILE_ATTEMPTS
from core.errors import ErrorKind, GatewayError
from core.gateway import GatewayClient
from core.jobs import DownloadState, Job, JobParams, JobState
from core.journal import Journal
from core.paths import resolve_paths
from core.poll_policy import PollPolicy, RequestBudget

from .faultproxy import FaultProxy
from .figures import FIGURES
from .harness import VirtualClock, sha256_file

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "phaseo_v1_sk_" + "a" * 32
KEY_B = "phaseo_v1_sk_" + "b" * 32


@contextmanager
def stack(tmp_path: Path, **gateway: object) -> Iterator[tuple[DemoGateway, FaultProxy]]:
    """A quick demo gateway behind the fault proxy."""
    options: dict[str, object] = {
        "queued_seconds": 0.05,
        "processing_seconds": 0.1,
        "video_scale": 0.25,
        "fps": 4,
        "poll_after_seconds": 1,
        **gateway,
    }
    with DemoGateway(**options) as gw:  # type: ignore[arg-type]
        proxy = FaultProxy(
            gw.base_url, prompt_of=lambda job_id: _prompt_from(gw, job_id), stall_seconds=0.5
        ).start()
        try:
            yield gw, proxy
        finally:
            proxy.stop()


def _prompt_from(gw: DemoGateway, job_id: str) -> str | None:
    job = gw._api.store.get(job_id)
    return None if job is None else job.params.prompt


def engine_on(journal: Journal, client: GatewayClient, videos: Path, clock: VirtualClock) -> Engine:
    return Engine(
        journal,
        client,
        videos,
        policy=PollPolicy(first_poll_after=1.0),
        budget=RequestBudget(clock=clock),
        clock=clock,
    )


def drive(engine: Engine, clock: VirtualClock, done: object, wall: float = 60.0) -> None:
    """Run the job loop until ``done()`` or nothing is due; virtual time jumps to each wake."""
    deadline = time.monotonic() + wall
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.monotonic() < deadline and not done():  # type: ignore[operator]
            futures = [pool.submit(engine.poll, job) for job in engine.claim_due()]
            futures += [pool.submit(engine.download, job) for job in engine.claim_downloads()]
            for future in futures:
                future.result()
            if futures:
                continue
            wake = engine.next_wake()
            if wake is None:
                return
            # The gateway's jobs move on real time: give them a moment between jumps.
            time.sleep(0.02)
            clock.advance_to(max(wake, clock() + 0.05))


def saved(engine: Engine, local_id: str) -> bool:
    job = engine.job(local_id)
    return job is not None and job.download is DownloadState.DONE


def the_job(engine: Engine, local_id: str) -> Job:
    job = engine.job(local_id)
    assert job is not None
    return job


def test_a_create_lost_during_a_listing_outage_is_found_and_saved(tmp_path: Path) -> None:
    with (
        stack(tmp_path) as (gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client,
    ):
        clock = VirtualClock()
        engine = engine_on(journal, client, tmp_path / "videos", clock)
        proxy.list_outage = 8  # every listing fails for a while: 503s and drops in turn
        prompt = "{px:create-drop-after} a lighthouse in a storm"
        job = engine.submit(JobParams("demo/test-pattern", prompt, 1, "16:9"))
        assert job.state is JobState.SUBMIT_UNKNOWN
        drive(engine, clock, lambda: saved(engine, job.local_id))
        final = the_job(engine, job.local_id)
        made = [jid for jid in gw.job_ids() if _prompt_from(gw, jid) == prompt]
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"lost create answer": 1, "listing outage (503/drop)": 8})
        assert proxy.creates[prompt] == 1, "the create was sent exactly once"
        assert proxy.injected["list-outage"] == 8
        assert final.remote_id == made[0] and final.reconciled
        # Only listings that answered count as searches.
        assert final.reconcile_attempts == 0
        assert final.download is DownloadState.DONE
        assert sha256_file(Path(final.files[0])) == gw.job_sha256(made[0])


def test_a_lost_create_is_still_searched_for_after_the_fast_attempts(tmp_path: Path) -> None:
    """The job shows up in the list only later (a provider slow to register it)."""
    with (
        stack(tmp_path, per_key_jobs=True) as (gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client,
    ):
        clock = VirtualClock()
        engine = engine_on(journal, client, tmp_path / "videos", clock)
        prompt = "{px:create-drop-after} a paper crane"
        job = engine.submit(JobParams("demo/test-pattern", prompt, 1, "16:9"))
        hidden = [jid for jid in gw.job_ids() if _prompt_from(gw, jid) == prompt]
        store = gw._api.store
        kept = store.get(hidden[0])
        assert kept is not None
        kept.owner = "nobody yet"  # not listed for this key until it is "registered"

        def searched_slowly() -> bool:
            current = the_job(engine, job.local_id)
            return current.reconcile_attempts > RECONCILE_ATTEMPTS

        drive(engine, clock, searched_slowly)
        current = the_job(engine, job.local_id)
        assert current.state is JobState.SUBMIT_UNKNOWN and current.next_poll_at is not None
        kept.owner = KEY_A  # now listed
        drive(engine, clock, lambda: saved(engine, job.local_id))
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"lost create listed only after the fast searches": 1})
        final = the_job(engine, job.local_id)
        assert final.remote_id == hidden[0] and final.download is DownloadState.DONE


def test_404s_from_another_key_never_touch_a_job_and_a_lone_404_is_not_gone(
    tmp_path: Path,
) -> None:
    with (
        stack(tmp_path, per_key_jobs=True, queued_seconds=0.5) as (_gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client_a,
        GatewayClient(proxy.base_url, KEY_B) as client_b,
    ):
        clock = VirtualClock()
        videos = tmp_path / "videos"
        engine_a = engine_on(journal, client_a, videos, clock)
        lone = engine_a.submit(
            JobParams("demo/test-pattern", "{px:status-404} a fox in snow", 1, "16:9")
        )
        plain = engine_a.submit(JobParams("demo/test-pattern", "a heron at dawn", 1, "16:9"))
        # A second identity (another key, same journal) works beside it.
        engine_b = engine_on(journal, client_b, videos, clock)
        assert engine_b.unfinished_jobs() == []  # A's jobs are not B's to poll
        with pytest.raises(GatewayError) as caught:
            client_b.get(plain.remote_id or "")
        assert caught.value.kind is ErrorKind.NOT_FOUND  # what B would have heard
        drive(engine_b, clock, lambda: False, wall=2.0)
        drive(
            engine_a,
            clock,
            lambda: saved(engine_a, lone.local_id) and saved(engine_a, plain.local_id),
        )
        status_calls_b = [
            c
            for c in proxy.calls
            if c.route == "status" and "b" * 32 in c.headers.get("authorization", "")
        ]
        FIGURES.add(runs=1, jobs=2)
        FIGURES.add_faults({"404 from another key": 1, "one stray 404 from the job's own key": 1})
        assert len(status_calls_b) == 1  # only the test's own probe above
        for job in (lone, plain):
            final = the_job(engine_a, job.local_id)
            assert final.state is JobState.COMPLETED and final.download is DownloadState.DONE
            assert final.gateway == client_a.identity and KEY_A not in (final.gateway or "")
        events = [e.kind for e in journal.events(lone.local_id)]
        assert "not_found_unconfirmed" in events and "not_found" not in events


def test_a_deleted_job_is_gone_only_after_two_404s_a_minute_apart(tmp_path: Path) -> None:
    with (
        stack(tmp_path, queued_seconds=30.0) as (gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client,
    ):
        clock = VirtualClock()
        engine = engine_on(journal, client, tmp_path / "videos", clock)
        job = engine.submit(JobParams("demo/test-pattern", "a kite", 1, "16:9"))
        gw._api.store.delete(job.remote_id or "")
        clock.advance(2)
        first = engine.poll_once(job.local_id)
        assert first.state is JobState.QUEUED and first.not_found == 1
        clock.advance(20)
        second = engine.poll_once(job.local_id)
        assert second.state is JobState.QUEUED  # 20 s is not a minute
        drive(engine, clock, lambda: the_job(engine, job.local_id).state is JobState.GONE)
        gone = the_job(engine, job.local_id)
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"job deleted on the server (404s)": 1})
        assert gone.state is JobState.GONE and gone.not_found >= 2


def test_409_after_completed_rereads_status_then_saves(tmp_path: Path) -> None:
    with (
        stack(tmp_path) as (gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client,
    ):
        clock = VirtualClock()
        engine = engine_on(journal, client, tmp_path / "videos", clock)
        job = engine.submit(JobParams("demo/test-pattern", "{px:content-409=2} a tide", 1, "16:9"))
        drive(engine, clock, lambda: saved(engine, job.local_id))
        final = the_job(engine, job.local_id)
        kinds = [e.kind for e in journal.events(job.local_id)]
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"content 409 after completed": 2})
        assert kinds.count("status_recheck") == 2  # the status was read before each retry
        assert sha256_file(Path(final.files[0])) == gw.job_sha256(final.remote_id or "")


def test_a_persistent_502_on_content_goes_to_review_with_the_reason(tmp_path: Path) -> None:
    with (
        stack(tmp_path) as (_gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(proxy.base_url, KEY_A) as client,
    ):
        clock = VirtualClock()
        engine = engine_on(journal, client, tmp_path / "videos", clock)
        refusals = MAX_DOWNLOAD_ATTEMPTS * 3  # download() tries 3 times per engine attempt
        prompt = "{px:content-502=" + str(refusals) + "} a glacier"
        job = engine.submit(JobParams("demo/test-pattern", prompt, 1, "16:9"))
        drive(engine, clock, lambda: the_job(engine, job.local_id).needs_review)
        stuck = the_job(engine, job.local_id)
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"content 502 upstream_error, persistent": refusals})
        assert stuck.download is DownloadState.FAILED and not stuck.download_retryable
        assert (
            "upstream" in (stuck.download_problem or "").lower()
            or "temporary" in (stuck.download_problem or "").lower()
        )
        assert f"after {MAX_DOWNLOAD_ATTEMPTS} attempts" in (stuck.download_problem or "")
        assert engine.next_wake() is None  # waits for the person
        done = engine.retry_download(job.local_id)
        assert done.download is DownloadState.DONE


def test_two_engines_on_one_journal_download_a_job_once(tmp_path: Path) -> None:
    """Two app instances: both see the job complete; one fetches it, the other adopts it."""
    with (
        stack(tmp_path) as (gw, proxy),
        Journal.open(tmp_path / "journal.db") as journal_1,
        Journal.open(tmp_path / "journal.db") as journal_2,
        GatewayClient(proxy.base_url, KEY_A) as client_1,
        GatewayClient(proxy.base_url, KEY_A) as client_2,
    ):
        clock = VirtualClock()
        videos = tmp_path / "videos"
        first = engine_on(journal_1, client_1, videos, clock)
        job = first.submit(JobParams("demo/test-pattern", "[size=2MiB] a canyon", 1, "16:9"))
        time.sleep(0.3)
        second = engine_on(journal_2, client_2, videos, clock)
        for engine in (first, second):
            engine.poll_once(job.local_id)
        claims = [first.claim_downloads(), second.claim_downloads()]
        assert all(len(claim) == 1 for claim in claims)
        barrier = threading.Barrier(2)

        def fetch(engine: Engine, claimed: Job) -> Job:
            barrier.wait(5)
            return engine.download(claimed)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(fetch, (first, second), (claims[0][0], claims[1][0])))
        for engine in (first, second):
            drive(engine, clock, lambda e=engine: saved(e, job.local_id), wall=20)
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"two engines race for one download": 1})
        assert sum(1 for c in proxy.calls if c.route == "content") == 1
        assert any(r.download is DownloadState.DONE for r in results)
        assert sorted(p.name for p in videos.iterdir()) == [
            Path(the_job(first, job.local_id).files[0]).name
        ]
        assert sha256_file(videos / sorted(p.name for p in videos.iterdir())[0]) == gw.job_sha256(
            job.remote_id or ""
        )


def test_the_cli_and_the_window_on_one_journal_never_share_a_download(tmp_path: Path) -> None:
    """A real ``generate`` process and an in-process engine (the window's) on one data dir."""
    data = tmp_path / "data"
    with DemoGateway(
        queued_seconds=0.5, processing_seconds=0.5, video_scale=0.25, fps=4, poll_after_seconds=1
    ) as gw:
        env = {k: v for k, v in os.environ.items() if k != "PHASEO_API_KEY"}
        env.update(
            REELGATE_DATA_DIR=str(data),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            PYTHONUNBUFFERED="1",
        )
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "generate", "--base-url", gw.base_url,
             "--prompt", "[size=3MiB] a waterfall", "--duration", "1"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        paths = resolve_paths(data)
        deadline = time.monotonic() + 30
        while not paths.journal.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with (
            Journal.open(paths.journal) as journal,
            GatewayClient(gw.base_url, "demo") as client,
        ):
            clock = VirtualClock()
            window = engine_on(journal, client, paths.videos, clock)
            deadline = time.monotonic() + 30
            while not window.unfinished_jobs() and time.monotonic() < deadline:
                time.sleep(0.05)
                window._adopt_owned()
            [job] = window.unfinished_jobs()
            drive(window, clock, lambda: saved(window, job.local_id) or process.poll() is not None)
            output, _ = process.communicate(timeout=60)
            drive(window, clock, lambda: saved(window, job.local_id), wall=20)
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"CLI and window on one journal": 1})
        assert process.returncode == 0, output
        assert gw.stats["content"] == 1, "the video was fetched once"
        files = sorted(p.name for p in paths.videos.iterdir())
        assert len(files) == 1 and not files[0].endswith(".part")
        assert sha256_file(paths.videos / files[0]) == gw.job_sha256(gw.job_ids()[0])
