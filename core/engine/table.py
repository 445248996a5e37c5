"""The engine's job table: the jobs in memory, who works on which, and how a job changes.

Every role of the engine builds on this: the journal-first commit (a change is journaled,
then kept in memory, then told to the listeners), the busy set (one call per job at a time,
``_claim`` and ``_release``), and a job's gateway identity (which gateway and key may speak
for it: jobs made through another are left alone).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from core.engine.keys import KeyGuard
from core.gateway import GatewayClient
from core.jobs import (
    DownloadState,
    Event,
    Job,
    JobState,
    KeepChanged,
    Rated,
    Scheduled,
    apply,
    with_marks_of,
)
from core.journal import Journal
from core.poll_policy import PollPolicy, RequestBudget

logger = logging.getLogger(__name__)

Listener = Callable[[Job], None]
ProgressListener = Callable[[str, int, int | None], None]

#: A job left ``submitting`` this long after its row was written has no create in flight
#: anywhere (a create gives up after the client's connect + read timeouts, 35 s by default):
#: the run that sent it stopped (was killed) before the answer was recorded. It is then
#: reconciled like a create that timed out, never resent. Waiting first spares a create that
#: another Reelgate process (the window while the command line runs) still has in flight.
ORPHANED_CREATE_AFTER = 60.0


class _Catalogued(Protocol):
    """What :meth:`JobTable.use_catalogue` needs of a catalogue model."""

    @property
    def id(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


class JobTable:
    """The engine's jobs in memory, who works on which, and the one place a job changes."""

    def __init__(
        self,
        journal: Journal,
        client: GatewayClient,
        videos_dir: Path,
        *,
        policy: PollPolicy | None = None,
        budget: RequestBudget | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        gateway_label: str = "default",
        identity: str | None = None,
        create_timeout: float | None = None,
        locks_dir: Path | None = None,
    ) -> None:
        """Load the unfinished jobs this gateway identity owns from the journal.

        ``identity`` fixes the gateway identity (the demo gateway's port changes per run);
        by default it is the client's base URL plus a fingerprint of its key.

        ``create_timeout`` is how long a create may take to reach the gateway (default: the
        client's connect + read timeouts); it bounds the time window of a lost-create search.
        ``locks_dir`` holds the cross-process locks (default: ``locks`` beside the journal).
        """
        self.journal = journal
        self.gateway_label = gateway_label
        self.client = client
        self.videos_dir = videos_dir
        self.policy = policy or PollPolicy()
        self.budget = budget or RequestBudget()
        self.clock = clock
        self.rng = rng or random.Random()
        self._fixed_identity = identity
        timeout = getattr(client, "create_timeout", None)
        self.create_timeout = float(create_timeout or timeout or 35.0)
        self.locks_dir = locks_dir or Path(journal.path).parent / "locks"
        #: Catalogue aliases -> canonical model ids (see use_catalogue).
        self.model_aliases: dict[str, str] = {}
        self._lock = threading.RLock()
        #: Signalled whenever a call finishes with a job (see _release), under ``_lock``.
        self._released = threading.Condition(self._lock)
        # Jobs made through another gateway identity (the demo gateway, another key) are left
        # alone: that server or account would not know them, and its 404 proves nothing.
        self._jobs: dict[str, Job] = {
            job.local_id: self._interrupted(job) for job in journal.unfinished() if self.owns(job)
        }
        self._busy: set[str] = set()
        #: Jobs whose create this engine is sending right now (never treated as orphaned).
        self._submitting: set[str] = set()
        self._listeners: list[Listener] = []
        self._progress_listeners: list[ProgressListener] = []
        #: The key: whether the gateway refused it, its rate limit (see core.engine.keys).
        self.keys = KeyGuard(self.policy, self.rng, self.clock)
        #: One job change at a time from apply to journal to memory, so a rating given while
        #: a poll is in flight is neither overwritten in memory nor in the journal.
        self._commit_lock = threading.RLock()

    # -- identity and ownership ---------------------------------------------------------------

    @property
    def identity(self) -> str:
        """The gateway and account this engine speaks for (base URL + key fingerprint)."""
        if self._fixed_identity is not None:
            return self._fixed_identity
        # A client without one (a stand-in that is not a GatewayClient) goes by the label.
        identity: str | None = getattr(self.client, "identity", None)
        return identity if isinstance(identity, str) else self.gateway_label

    def owns(self, job: Job) -> bool:
        """Whether ``job`` was made through this engine's gateway identity.

        Jobs from before identities were recorded carry only a gateway label (``demo`` or
        ``default``); they are this engine's when the label matches, and take its identity
        with the first answer about them.
        """
        if job.gateway is not None:
            return job.gateway == self.identity
        return job.gateway_label == self.gateway_label

    def use_catalogue(self, models: Iterable[_Catalogued]) -> None:
        """Learn the catalogue's model aliases (a lost create is matched on canonical ids)."""
        aliases: dict[str, str] = {}
        for model in models:
            aliases[model.id.lower()] = model.id
            for alias in model.aliases:
                aliases.setdefault(alias.lower(), model.id)
        self.model_aliases = aliases

    def canonical_model(self, name: str | None) -> str | None:
        """``name`` as the catalogue's canonical id (aliases resolved, case ignored)."""
        if name is None:
            return None
        return self.model_aliases.get(name.strip().lower(), name.strip())

    def _interrupted(self, job: Job) -> Job:
        """How a job left by an earlier run starts in this one.

        A download that was running starts again from zero. A job left ``submitting`` (the
        run stopped between journaling it and recording the create's answer) is looked for
        on the gateway once ``ORPHANED_CREATE_AFTER`` has passed since its row was written. A
        lost create (``submit_unknown``) is searched for again from the start: a restart or
        ``resume`` never abandons one.
        """
        if job.download is DownloadState.ACTIVE:
            return replace(job, download=DownloadState.PENDING)
        if job.state is JobState.SUBMITTING:
            return replace(job, next_poll_at=job.updated_at + ORPHANED_CREATE_AFTER)
        if job.state is JobState.SUBMIT_UNKNOWN and not job.auth_blocked:
            return replace(job, reconcile_attempts=0, next_poll_at=self.clock())
        return job

    # -- observation -------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(job)`` after every change (from the thread that made it)."""
        self._listeners.append(listener)

    def add_progress_listener(self, listener: ProgressListener) -> None:
        """Call ``listener(local_id, bytes, total)`` while downloads run."""
        self._progress_listeners.append(listener)

    def job(self, local_id: str) -> Job | None:
        """The newest known state of a job."""
        with self._lock:
            cached = self._jobs.get(local_id)
        return cached or self.journal.get(local_id)

    def _known(self, local_id: str) -> Job:
        """The job, or KeyError when no journal holds it."""
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        return job

    def _claim(self, local_id: str) -> tuple[Job, bool]:
        """The job, marked busy for a call a person asked for; KeyError when unknown.

        The flag is False when another call is already working on the job (it is then
        left to that call).
        """
        job = self._known(local_id)
        with self._lock:
            if job.local_id in self._busy:
                return job, False
            self._busy.add(job.local_id)
        return job, True

    def _release(self, local_id: str) -> None:
        """The call working on ``local_id`` is done: free it and wake whoever waits for it."""
        with self._released:
            self._busy.discard(local_id)
            self._released.notify_all()

    def unfinished_jobs(self) -> list[Job]:
        """This identity's unfinished jobs: still polled, reconciled or downloaded."""
        with self._lock:
            return list(self._jobs.values())

    def _notify(self, job: Job) -> None:
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:  # a broken listener must not break the job loop
                logger.exception("Job listener failed")

    # -- the one place a job changes ------------------------------------------------------------

    def _commit(
        self,
        job: Job,
        event: Event,
        kind: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        raw: object = None,
        note: str | None = None,
        record: bool = True,
    ) -> Job:
        with self._commit_lock:
            updated = self._commit_locked(
                job, event, kind, http_status, request_id, raw, note, record
            )
        self._notify(updated)
        return updated

    def _commit_locked(
        self,
        job: Job,
        event: Event,
        kind: str,
        http_status: int | None,
        request_id: str | None,
        raw: object,
        note: str | None,
        record: bool,
    ) -> Job:
        with self._lock:
            current = self._jobs.get(job.local_id)
        if current is not None and not isinstance(event, Rated | KeepChanged):
            # ``job`` may be a copy taken before a slow call (a poll, a download) while the
            # person rated or kept it meanwhile: their marks must survive that call's result.
            job = with_marks_of(job, current)
        updated = self._keep_saved_elsewhere(apply(job, event))
        if record:
            self.journal.save(
                updated, kind, http_status=http_status, request_id=request_id, raw=raw, note=note
            )
        else:
            self.journal.update(updated)
        with self._lock:
            settled = updated.terminal and updated.download in (
                DownloadState.DONE,
                DownloadState.NONE,
            )
            done = settled and not updated.wants_download and not updated.awaiting_bill
            if done or not self.owns(updated):
                self._jobs.pop(updated.local_id, None)
            else:
                self._jobs[updated.local_id] = updated
        return updated

    def _keep_saved_elsewhere(self, job: Job) -> Job:
        """``job``, unless another process (the window, the command line) saved its video.

        Each engine writes whole job records from its own copy; one still waiting to
        download must not write "not downloaded" over the record of a video another
        process saved meanwhile. Only checked while the video is wanted (a short window).
        """
        if not job.wants_download:
            return job
        stored = self.journal.get(job.local_id)
        if stored is None or stored.download is not DownloadState.DONE or not stored.files:
            return job
        return replace(
            job,
            download=DownloadState.DONE,
            files=stored.files,
            download_problem=None,
            download_error=None,
            download_retryable=True,
            download_retry_at=None,
        )

    def _schedule(self, job: Job, when: float | None) -> Job:
        return self._commit(job, Scheduled(when, self.clock()), "schedule", record=False)
