"""The fault-matrix harness: many jobs through the real engine, client and journal, then a verdict.

One run = one demo gateway (optionally with a random ``FaultProfile``) behind a
:class:`~faultproxy.FaultProxy`, one journal, one engine, N jobs. The engine is driven the way
the desktop app drives it (due polls and downloads run on a small thread pool) over real
loopback HTTP, on a *virtual* clock shared with the gateway: waiting for a job, a backoff or a
reconcile costs no wall time, while sockets, timeouts and files are all real.

The verdict compares every local job with the gateway's truth: the state must match the
server's, a completed job's file must hold the server's exact bytes, a failed job must carry
the provider's detail and a request id, every job the gateway made must be tracked by exactly
one local job, and no prompt may have been sent twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import requests

from core.demo_gateway import DemoGateway, FaultProfile
from core.demo_gateway.faults import FAILURE_KINDS
from core.engine import Engine
from core.engine.matching import RECONCILE_ATTEMPTS
from core.errors import ErrorKind, GatewayError
from core.files import PART_SUFFIX
from core.gateway import GatewayClient
from core.jobs import Cause, DownloadState, Job, JobParams, JobState
from core.journal import Journal
from core.poll_policy import PollPolicy, RequestBudget

from .classes import judge_class
from .faultproxy import FaultProxy, faults_in

MODEL = "demo/test-pattern"
KEY = "phaseo_v1_sk_RELIABILITYmatrixKEY0123456789"
#: Client read timeout in the matrix; proxy stalls last longer than this.
READ_TIMEOUT = 0.4
STALL_SECONDS = 0.7
#: Create refusals: nothing was made, so REJECTED is the right outcome.
REFUSALS = {
    "[policy]": Cause.POLICY,
    "[funds]": Cause.CREDIT,
    "[disabled]": Cause.INVALID,
    "[paused]": Cause.INVALID,
    "[permission]": Cause.POLICY,  # a 403; the review shows it as access missing (classes.py)
}
_SERVER_TO_LOCAL = {
    "completed": JobState.COMPLETED,
    "failed": JobState.FAILED,
    "cancelled": JobState.CANCELLED,
    "expired": JobState.EXPIRED,
}


class VirtualClock:
    """A shared clock that only moves forward, and only when the harness moves it."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """The current virtual time (unix seconds)."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        with self._lock:
            self._now += max(0.0, seconds)

    def advance_to(self, moment: float) -> None:
        """Move forward to ``moment`` (never back)."""
        with self._lock:
            self._now = max(self._now, moment)


@dataclass
class RunSpec:
    """One run of the matrix: which faults, how many jobs, what else goes wrong."""

    name: str
    prompts: list[str]
    profile: FaultProfile | None = None
    #: Revoke the key for every request once this share of jobs has been polled once.
    revoke_after: float | None = None
    #: "full" or "unwritable": the videos folder's disk misbehaves until the "user" fixes it.
    disk: str | None = None
    seed: int = 0
    #: Seconds of virtual time between two submissions (a person clicking, or a batch).
    submit_gap: float = 2.0


@dataclass
class RunReport:
    """What one run did and found; every list under "problems" must be empty."""

    name: str
    jobs: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    duplicate_creates: list[str] = field(default_factory=list)
    false_failures: list[str] = field(default_factory=list)
    wrong_outcomes: list[str] = field(default_factory=list)
    partial_files: list[str] = field(default_factory=list)
    missing_detail: list[str] = field(default_factory=list)
    #: Failed or refused jobs shown as another failure class than the answer was (classes.py).
    wrong_classes: list[str] = field(default_factory=list)
    classes: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Lost creates matched by time only next to another lost create (flagged for review),
    #: and how many of those took a sibling's gateway job rather than their own.
    uncertain: int = 0
    uncertain_wrong: int = 0
    wall_seconds: float = 0.0

    @property
    def problems(self) -> dict[str, list[str]]:
        """Every invariant violation, by kind."""
        return {
            "lost": self.lost,
            "duplicate_creates": self.duplicate_creates,
            "false_failures": self.false_failures,
            "wrong_outcomes": self.wrong_outcomes,
            "partial_files": self.partial_files,
            "missing_detail": self.missing_detail,
            "wrong_classes": self.wrong_classes,
        }

    def assert_clean(self) -> None:
        """Fail with every violation listed."""
        bad = {kind: items for kind, items in self.problems.items() if items}
        assert not bad, f"run {self.name}: {bad}"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- disk trouble ----------------------------------------------------------------------------------


def _can_mount() -> bool:
    return (
        shutil.which("mount") is not None
        and hasattr(__import__("os"), "geteuid")
        and (__import__("os").geteuid() == 0)
    )


class DiskTrouble:
    """Makes a folder's disk full or read-only, then repairs it (as a person would).

    With root and ``mount`` (CI containers, this machine) the folder becomes a real tiny or
    read-only tmpfs; otherwise a full disk is reported through ``shutil.disk_usage`` and an
    unwritable folder is made with ``chmod``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.method = ""
        self._mounted = False
        self._patched: object | None = None

    def _mount(self, options: str) -> bool:
        if not _can_mount():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.folder)],
            capture_output=True,
            check=False,
        )
        self._mounted = result.returncode == 0
        return self._mounted

    def make_full(self, size: str = "1m") -> str:
        """A tiny filesystem (or a disk that reports no free space)."""
        if self._mount(f"size={size},mode=0755"):
            self.method = f"tmpfs size={size}"
        else:
            real = shutil.disk_usage

            def no_space(path: object) -> object:
                usage = real(path)  # type: ignore[arg-type]
                return type(usage)(usage.total, usage.total, 0)

            self._patched = real
            shutil.disk_usage = no_space  # type: ignore[assignment]
            self.method = "disk_usage reports 0 free"
        return self.method

    def make_unwritable(self) -> str:
        """A read-only filesystem, a folder without write permission, or (for root without
        ``mount``, who may write anywhere) a file where the folder should be."""
        import os

        if self._mount("ro,size=1m,mode=0755"):
            self.method = "read-only tmpfs"
        elif hasattr(os, "geteuid") and os.geteuid() == 0:
            self.make_not_a_folder()
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.folder.chmod(0o555)
            self.method = "chmod 555"
        return self.method

    def make_not_a_folder(self) -> str:
        """A file where the videos folder should be (a user's mistake, or a sync tool's)."""
        if self.folder.is_dir():
            self.folder.rmdir()
        self.folder.write_bytes(b"")
        self.method = "a file in the folder's place"
        return self.method

    def repair(self) -> None:
        """Free the space / make the folder writable again."""
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)
            self._mounted = False
        if self._patched is not None:
            shutil.disk_usage = self._patched  # type: ignore[assignment]
            self._patched = None
        if self.method == "a file in the folder's place" and self.folder.is_file():
            self.folder.unlink()
            self.folder.mkdir()
        with contextlib.suppress(OSError):
            self.folder.chmod(0o755)


# -- the run ---------------------------------------------------------------------------------------


class MatrixRun:
    """Drives one :class:`RunSpec` to the end and judges every job."""

    def __init__(self, spec: RunSpec, workdir: Path) -> None:
        self.spec = spec
        self.workdir = workdir
        self.clock = VirtualClock()
        self.rng = random.Random(spec.seed)
        self.report = RunReport(spec.name, jobs=len(spec.prompts))
        self.deleted: dict[str, str] = {}  # remote id -> sha256 at deletion ("" if not done)
        self.revoked_once = False
        self.gateway = DemoGateway(
            queued_seconds=3.0,
            processing_seconds=9.0,
            poll_after_seconds=5,
            video_scale=0.25,
            fps=4,
            clock=self.clock,
            fault_profile=spec.profile,
            api_key=KEY,
            link_ttl_seconds=900,
        )
        self.proxy: FaultProxy | None = None
        self.engine: Engine | None = None
        self.disk = DiskTrouble(workdir / "videos")
        self.local_ids: list[str] = []
        self.flagged: set[str | None] = set()

    # -- plumbing ----------------------------------------------------------------------------

    def prompt_of(self, job_id: str) -> str | None:
        """The prompt the gateway holds for a job (drives the proxy's per-job faults)."""
        job = self.gateway._api.store.get(job_id)
        return job.params.prompt if job is not None else None

    def server_jobs(self) -> dict[str, str]:
        """Every job the gateway made (deleted ones too): id -> prompt."""
        jobs = {job.id: job.params.prompt for job in self.gateway._api.store.ordered(False)}
        for job_id in self.deleted:
            jobs.setdefault(job_id, "")
        return jobs

    @contextlib.contextmanager
    def running(self) -> Iterator[Engine]:
        """Start the gateway, proxy, journal and engine; stop them all afterwards."""
        self.gateway.start()
        self.proxy = FaultProxy(
            self.gateway.base_url,
            prompt_of=self.prompt_of,
            stall_seconds=STALL_SECONDS,
            seed=self.spec.seed,
        ).start()
        journal = Journal.open(self.workdir / "journal.db")
        client = GatewayClient(
            self.proxy.base_url, KEY, connect_timeout=2.0, read_timeout=READ_TIMEOUT
        )
        self.engine = Engine(
            journal,
            client,
            self.workdir / "videos",
            policy=PollPolicy(),
            budget=RequestBudget(clock=self.clock),
            clock=self.clock,
            rng=random.Random(self.spec.seed),
        )
        try:
            yield self.engine
        finally:
            client.close()
            journal.close()
            self.proxy.stop()
            self.gateway.stop()
            self.disk.repair()

    # -- "the user" ----------------------------------------------------------------------------

    def _delete_on_server(self, remote_id: str) -> None:
        """Delete a job from another device: straight to the gateway, past the proxy."""
        status = self.gateway.job_status(remote_id)
        digest = self.gateway.job_sha256(remote_id) if status == "completed" else ""
        response = requests.delete(
            f"{self.gateway.base_url}/videos/{remote_id}",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        self.deleted[remote_id] = digest
        self.report.faults["deleted-on-server (404 after delete)"] += 1

    def _user_actions(self, engine: Engine) -> bool:
        """Deletes, key revocation and replacement; True if anything changed."""
        acted = False
        for job in engine.unfinished_jobs():
            if "{h:delete}" not in job.params.prompt or job.remote_id is None:
                continue
            if job.remote_id in self.deleted:
                continue
            with contextlib.suppress(KeyError):
                if self.gateway.job_status(job.remote_id) in ("completed", "failed"):
                    self._delete_on_server(job.remote_id)
                    acted = True
        assert self.proxy is not None
        if self.spec.revoke_after is not None and not self.revoked_once:
            polled = sum(1 for c in self.proxy.calls if c.route == "status")
            if polled >= self.spec.revoke_after * len(self.spec.prompts):
                self.proxy.revoked = True
                self.revoked_once = True
                self.report.faults["key revoked mid-run (401 on every call)"] += 1
                acted = True
        if engine.key_rejected is not None and self.proxy.revoked:
            # The person enters a new, valid key a minute later.
            self.clock.advance(60.0)
            self.proxy.revoked = False
            engine.set_api_key(KEY)
            acted = True
        return acted

    def _settled(self, job: Job) -> bool:
        if job.state is JobState.SUBMIT_UNKNOWN:
            return job.reconcile_attempts >= RECONCILE_ATTEMPTS
        if not job.terminal:
            return False
        if job.state is JobState.COMPLETED:
            return job.download is DownloadState.DONE
        return True

    def _waiting_for_user(self, job: Job) -> bool:
        return (
            job.state is JobState.COMPLETED
            and job.download is DownloadState.FAILED
            and not job.download_retryable
        )

    # -- the loop ------------------------------------------------------------------------------

    def submit_all(self, engine: Engine) -> None:
        """Submit every prompt, a little virtual time apart, on worker threads as the app does.

        Each submission starts once the previous one is journaled, so creation times keep
        the prompts' order while slow or stalled creates overlap.
        """
        journaled = threading.Semaphore(0)

        def on_change(job: Job) -> None:
            if job.state is JobState.SUBMITTING:
                journaled.release()

        engine.add_listener(on_change)
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="submit") as pool:
            futures = []
            for prompt in self.spec.prompts:
                params = JobParams(model=MODEL, prompt=prompt, duration=1, aspect_ratio="16:9")
                future = pool.submit(engine.submit, params)
                futures.append(future)
                assert journaled.acquire(timeout=30), "a submission never reached the journal"
                # The create leaves right after its row is written: let the gateway stamp it
                # (or the call end) before the clock moves on, or it would be stamped late.
                deadline = time.monotonic() + 5
                while not future.done() and time.monotonic() < deadline:
                    if any(
                        j.params.prompt == prompt for j in self.gateway._api.store.ordered(True)
                    ):
                        break
                    time.sleep(0.001)
                self.clock.advance(self.spec.submit_gap * (0.5 + self.rng.random()))
            self.local_ids.extend(future.result().local_id for future in futures)

    def drive(self, engine: Engine, wall_limit: float) -> None:
        """Poll and download on a thread pool, as the app does, until every job has settled.

        Calls overlap: a stalled request holds its job, not the loop. Virtual time moves on
        to the next due moment whenever nothing is due now, in flight or not (time passes
        while a request hangs, as it would).
        """
        deadline = time.monotonic() + wall_limit
        disk_repaired = self.spec.disk is None
        inflight: set[Future[Job]] = set()
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="matrix") as pool:
            while time.monotonic() < deadline:
                self._user_actions(engine)
                now = self.clock()
                claimed = [pool.submit(engine.poll, job) for job in engine.claim_due(now)]
                claimed += [pool.submit(engine.download, j) for j in engine.claim_downloads(now)]
                inflight.update(claimed)
                if inflight:
                    done, inflight = wait(inflight, timeout=0.01, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()  # an exception escaping the engine is a bug: fail
                    if claimed or done:
                        continue
                    wake = engine.next_wake(now)
                    if wake is not None and wake > now:
                        self.clock.advance_to(wake)
                    continue
                jobs = [engine.job(local_id) for local_id in self.local_ids]
                if all(job is not None and self._settled(job) for job in jobs):
                    return
                stuck = [j for j in jobs if j is not None and self._waiting_for_user(j)]
                if stuck and not engine.next_wake(now):
                    if not disk_repaired:
                        self._check_disk_messages(stuck)
                        self.disk.repair()
                        disk_repaired = True
                    for job in stuck:
                        engine.retry_download(job.local_id)
                    continue
                if engine.key_rejected is not None:
                    continue
                wake = engine.next_wake(now)
                if wake is None:
                    break
                if wake <= now:
                    self.clock.advance(max(engine.budget.wait_time(), 0.05))
                else:
                    self.clock.advance_to(wake)
        states = Counter(
            str(j.state) + ("/" + str(j.download) if j else "")
            for j in (engine.job(i) for i in self.local_ids)
            if j is not None
        )
        raise AssertionError(f"run {self.spec.name} did not settle: {dict(states)}")

    def _check_disk_messages(self, stuck: list[Job]) -> None:
        """A full or read-only disk is explained in plain words, and nothing half-written stays."""
        for job in stuck:
            text = (job.download_problem or "").lower()
            kind = job.download_error
            if self.spec.disk == "full":
                ok = kind == "no_space" and ("full" in text or "space" in text)
            else:
                ok = (kind == "permission" and ("read-only" in text or "not allowed" in text)) or (
                    kind == "other" and "not a folder" in text
                )
            if not ok:
                self.report.wrong_outcomes.append(
                    f"{job.remote_id}: unclear disk message {kind}: {job.download_problem}"
                )
            if job.state is not JobState.COMPLETED:
                self.report.false_failures.append(f"{job.remote_id}: disk trouble failed the job")
        self.report.faults[f"disk {self.spec.disk} ({self.disk.method})"] += len(stuck)

    def run(self, wall_limit: float = 240.0) -> RunReport:
        """Run the spec end to end and return the judged report."""
        started = time.monotonic()
        with self.running() as engine:
            if self.spec.disk == "full":
                self.disk.make_full()
            elif self.spec.disk == "unwritable":
                self.disk.make_unwritable()
            elif self.spec.disk == "not-a-folder":
                self.disk.make_not_a_folder()
            self.submit_all(engine)
            self.drive(engine, wall_limit)
            self._check_signed_links(engine)
            self._judge(engine)
        self.report.wall_seconds = time.monotonic() - started
        return self.report

    # -- signed links ------------------------------------------------------------------------

    def _check_signed_links(self, engine: Engine) -> None:
        """``{h:link}`` jobs: a fresh link works without the key; an expired one is refused."""
        assert self.proxy is not None
        linked = [
            job
            for job in (engine.job(i) for i in self.local_ids)
            if job is not None
            and "{h:link}" in job.params.prompt
            and job.state is JobState.COMPLETED
            and job.remote_id not in self.deleted
        ]
        links = [(job, engine.mint_link(job.local_id, ttl_seconds=60)) for job in linked]
        for job, link in links:
            data = self._fetch_signed(engine, link.url)
            if hashlib.sha256(data).hexdigest() != self.gateway.job_sha256(job.remote_id or ""):
                self.report.wrong_outcomes.append(f"{job.remote_id}: signed link bytes differ")
        if not links:
            return
        self.clock.advance(61.0)
        for job, link in links:
            self.report.faults["expired signed link"] += 1
            try:
                engine.client.open_signed(link.url).close()
            except GatewayError as error:
                if error.kind is not ErrorKind.LINK_EXPIRED:
                    self.report.wrong_outcomes.append(f"{job.remote_id}: expired link {error}")
            else:
                self.report.wrong_outcomes.append(f"{job.remote_id}: an expired link worked")
            after = engine.job(job.local_id)
            if after is None or after.state is not JobState.COMPLETED:
                self.report.false_failures.append(f"{job.remote_id}: expired link changed job")
        signed = [c for c in self.proxy.calls if c.route == "signed"]
        if any("authorization" in c.headers for c in signed):
            self.report.wrong_outcomes.append("a signed link was fetched with Authorization")

    @staticmethod
    def _fetch_signed(engine: Engine, url: str) -> bytes:
        """A signed link's bytes; the random profile may cut a transfer, so try a few times."""
        for _attempt in range(8):
            try:
                with engine.client.open_signed(url) as stream:
                    return b"".join(stream.iter_chunks())
            except GatewayError as error:
                if not error.retryable or error.kind is ErrorKind.LINK_EXPIRED:
                    raise
        raise AssertionError("a signed link failed eight times in a row")

    # -- the verdict -------------------------------------------------------------------------

    def _judge(self, engine: Engine) -> None:
        """Compare every local job with the gateway's truth."""
        assert self.proxy is not None
        report = self.report
        report.faults.update({f"proxy:{k}": v for k, v in self.proxy.injected.items()})
        report.faults.update(
            {k: v for k, v in self.gateway.stats.items() if k.startswith("fault:")}
        )
        journal_jobs = {job.local_id: job for job in engine.journal.jobs(include_hidden=True)}
        for local_id in self.local_ids:
            if local_id not in journal_jobs:
                report.lost.append(f"local job {local_id} is missing from the journal")
        server = self.server_jobs()
        adopted = Counter(j.remote_id for j in journal_jobs.values() if j.remote_id)
        # Lost creates sent at the same moment cannot be told apart: one of them gets the
        # gateway job, flagged for review (core.engine.matching.contested). Counted, not failed.
        self.flagged = {j.remote_id for j in journal_jobs.values() if j.uncertain_match}
        report.uncertain = len(self.flagged)
        report.uncertain_wrong = sum(
            1
            for j in journal_jobs.values()
            if j.uncertain_match and server.get(j.remote_id or "") != j.params.prompt
        )
        for remote_id, prompt in server.items():
            if adopted[remote_id] == 0:
                report.lost.append(f"gateway job {remote_id} ({prompt[:40]!r}) is tracked by none")
            elif adopted[remote_id] > 1:
                report.wrong_outcomes.append(f"gateway job {remote_id} adopted twice")
        for prompt, count in self.proxy.creates.items():
            if count > 1:
                report.duplicate_creates.append(f"{prompt[:40]!r} sent {count} times")
        prompts_on_server = Counter(server.values())
        for prompt, count in prompts_on_server.items():
            if prompt and count > 1:
                report.duplicate_creates.append(f"{prompt[:40]!r} made {count} gateway jobs")
        for local_id in self.local_ids:
            job = journal_jobs.get(local_id)
            if job is not None:
                self._judge_job(job, server)
                checked, problem = judge_class(job, engine.journal.events(local_id))
                if checked is not None:
                    report.classes[checked] += 1
                if problem is not None:
                    report.wrong_classes.append(problem)
        videos = self.workdir / "videos"
        if videos.exists():
            for path in videos.iterdir():
                if path.name.endswith(PART_SUFFIX):
                    report.partial_files.append(f"{path.name} left behind")

    def _judge_job(self, job: Job, server: dict[str, str]) -> None:
        report = self.report
        name = job.remote_id or job.local_id[:8]
        report.outcomes[str(job.state)] += 1
        prompt = job.params.prompt
        if job.remote_id is None:
            made = [rid for rid, p in server.items() if p == prompt and rid not in self.flagged]
            if made:
                report.lost.append(f"{name}: gateway made {made} but the job never learnt it")
            if job.state is JobState.REJECTED:
                self._judge_refusal(job)
            elif job.state is JobState.SUBMIT_UNKNOWN:
                took = any(p == prompt for rid, p in server.items() if rid in self.flagged)
                if not took and not any(f.startswith("create-") for f in faults_in(prompt)):
                    report.wrong_outcomes.append(f"{name}: unknown outcome without a fault")
            else:
                report.wrong_outcomes.append(f"{name}: no gateway id in state {job.state}")
            return
        if server.get(job.remote_id) not in (prompt, "") and job.remote_id not in self.flagged:
            report.wrong_outcomes.append(f"{name}: adopted another prompt's job")
        if job.remote_id in self.deleted:
            digest = self.deleted[job.remote_id]
            if job.state is JobState.GONE:
                self._require_detail(job)
                return
            if job.state is JobState.COMPLETED and job.download is DownloadState.DONE:
                if digest and sha256_file(Path(job.files[0])) != digest:
                    report.wrong_outcomes.append(f"{name}: bytes differ from the server's")
                return
            truth = "gone"
        else:
            truth = self.gateway.job_status(job.remote_id)
        expected = _SERVER_TO_LOCAL.get(truth)
        if expected is None:
            report.wrong_outcomes.append(f"{name}: server still {truth!r}")
            return
        if job.state is not expected:
            bucket = report.false_failures if expected is JobState.COMPLETED else None
            (bucket or report.wrong_outcomes).append(f"{name}: {job.state} but server {truth}")
            return
        if expected is JobState.COMPLETED:
            self._judge_files(job)
        else:
            self._require_detail(job)

    def _judge_refusal(self, job: Job) -> None:
        prompt = job.params.prompt
        failure = job.failure
        assert failure is not None
        expected = {cause for word, cause in REFUSALS.items() if word in prompt}
        if "create-429" in faults_in(prompt):
            expected.add(Cause.RATE_LIMITED)
        if failure.cause is Cause.AUTH and self.revoked_once:
            expected.add(Cause.AUTH)
        if failure.cause not in expected:
            self.report.false_failures.append(
                f"{job.local_id[:8]}: rejected ({failure.cause}) without a refusal"
            )
        self._require_detail(job)

    def _require_detail(self, job: Job) -> None:
        """A failed job keeps the provider's words; every ended job keeps a request id.

        Expired and cancelled jobs carry no provider error on the gateway: their cause
        (``Cause.EXPIRED``/``CANCELLED``) is the detail. Neither does a "failed" answer whose
        ``error`` field went missing (a fault this matrix injects): the app can only keep
        what it was told, so the check is against the answer the journal recorded.
        """
        failure = job.failure
        needs_words = job.state not in (JobState.EXPIRED, JobState.CANCELLED)
        if needs_words and job.state is JobState.FAILED and self.engine is not None:
            answers = [
                e.raw
                for e in self.engine.journal.events(job.local_id)
                if e.kind in ("status", "created", "reconciled") and e.state == "failed"
            ]
            told = answers and isinstance(answers[0], dict) and answers[0].get("error")
            needs_words = bool(told)
        has_words = failure is not None and bool(failure.message or failure.code)
        if failure is None or (needs_words and not has_words) or not job.request_id:
            self.report.missing_detail.append(
                f"{job.remote_id or job.local_id[:8]} {job.state}: failure={failure!r}"
            )

    def _judge_files(self, job: Job) -> None:
        name = job.remote_id or ""
        if job.download is not DownloadState.DONE or len(job.files) != job.outputs:
            self.report.false_failures.append(f"{name}: completed but not saved ({job.download})")
            return
        for index, path in enumerate(job.files):
            file = Path(path)
            if not file.is_file():
                self.report.partial_files.append(f"{name}: {file.name} missing")
            elif sha256_file(file) != self.gateway.job_sha256(name, index):
                self.report.partial_files.append(f"{name}: {file.name} differs from the server's")


# -- run catalogue ---------------------------------------------------------------------------------

#: Demo-gateway prompt keywords, by where they act.
DEMO_OUTCOMES = [
    "[fail]", "[fail-string]", "[expire]", "[cancelled]", "[unknown-status]",
    *(f"[{kind}]" for kind in FAILURE_KINDS),
]  # fmt: skip
DEMO_CREATE = [
    "[policy]", "[funds]", "[disabled]", "[paused]", "[permission]", "[drop-create]",
    "[slow-create=1]",
]  # fmt: skip
DEMO_STATUS = [
    "[upstream]", "[429]", "[429-noretry]", "[500]", "[503]", "[malformed]", "[html]",
    "[slow-status=1]",
]  # fmt: skip
DEMO_CONTENT = ["[drop-content]", "[drop-content=2]"]
HARNESS = ["{h:delete}", "{h:link}"]


def single_fault_prompts(fault: str, jobs: int) -> list[str]:
    """``jobs`` prompts, every other one carrying ``fault`` (the rest are the control group).

    The job list is only read to find a lost create, so a list fault comes with one.
    """
    if fault.startswith("{px:list-"):
        fault = "{px:create-drop-after} " + fault
    return [f"job {i}: a lighthouse at dusk {fault if i % 2 == 0 else ''}" for i in range(jobs)]


def mixed_prompts(jobs: int, rng: random.Random) -> list[str]:
    """Prompts with a random mix of faults each: create, status, content, outcome, actions."""
    from .faultproxy import FAULTS

    by_route: dict[str, list[str]] = {}
    for name, route in FAULTS.items():
        by_route.setdefault(route, []).append("{px:" + name + "}")
    prompts = []
    for i in range(jobs):
        words: list[str] = []
        if rng.random() < 0.3:
            words.append(rng.choice(by_route["create"] + DEMO_CREATE))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            fault = rng.choice(by_route["status"] + DEMO_STATUS)
            if fault.startswith("{px:") and rng.random() < 0.3:
                fault = fault[:-1] + f"={rng.randint(2, 4)}}}"
            words.append(fault)
        if rng.random() < 0.5:
            words.append(rng.choice(by_route["content"] + DEMO_CONTENT))
        if rng.random() < 0.2:
            words.append(rng.choice(DEMO_OUTCOMES))
        if rng.random() < 0.15:
            words.append(rng.choice(HARNESS))
        if rng.random() < 0.1:
            words.append(rng.choice(by_route["list"]))
        rng.shuffle(words)
        prompts.append(f"mixed job {i}: {' '.join(words)} a fox in the snow")
    return prompts


def random_profile(seed: int) -> FaultProfile:
    """The demo gateway's own random faults, on top of the per-job ones."""
    return FaultProfile(
        status_429=0.05,
        status_5xx=0.05,
        status_502=0.05,
        status_malformed=0.03,
        status_html=0.03,
        content_drop=0.1,
        create_drop=0.05,
        fail_rate=0.05,
        fail_kinds=FAILURE_KINDS,
        retry_after_seconds=2,
        seed=seed,
    )
