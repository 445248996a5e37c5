"""The engine's shared core: its state, the one place a job changes, and the gateway rules.

Every role of the engine (submitting, polling, reconciling lost creates, downloading) builds
on this: the journal-first commit, a job's gateway identity (which gateway and key may speak
for it), the two-strikes rule before a 404 marks a job gone, and the key-wide slow-down a
429 ``key_limit_exceeded`` asks for.
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

from core.errors import ErrorKind, GatewayError
from core.failure_evidence import poll_error_record, problem_text
from core.gateway import GatewayClient
from core.jobs import (
    AuthRejected,
    Cause,
    Created,
    DownloadState,
    Event,
    Job,
    JobFailure,
    JobState,
    KeepChanged,
    NotFoundSeen,
    PollFailed,
    Rated,
    Scheduled,
    StatusSeen,
    Vanished,
    apply,
    with_marks_of,
)
from core.journal import Journal
from core.scheduler import (
    PollPolicy,
    RequestBudget,
    backoff_delay,
    next_after_create,
    next_after_failure,
    next_after_status,
)
from core.wire import RemoteJob

logger = logging.getLogger(__name__)

Listener = Callable[[Job], None]
ProgressListener = Callable[[str, int, int | None], None]

_CAUSE_BY_KIND = {
    ErrorKind.AUTH: Cause.AUTH,
    ErrorKind.VALIDATION: Cause.INVALID,
    ErrorKind.INSUFFICIENT_FUNDS: Cause.CREDIT,
    ErrorKind.POLICY_BLOCK: Cause.POLICY,
    ErrorKind.FEATURE_DISABLED: Cause.INVALID,
    ErrorKind.NOT_FOUND: Cause.GONE,
    ErrorKind.NETWORK: Cause.NOT_SENT,
    ErrorKind.TIMEOUT: Cause.NOT_SENT,
    ErrorKind.INSECURE: Cause.NOT_SENT,
    ErrorKind.RATE_LIMITED: Cause.RATE_LIMITED,
}
#: A job left ``submitting`` this long after its row was written has no create in flight
#: anywhere (a create gives up after the client's connect + read timeouts, 35 s by default):
#: the run that sent it stopped (was killed) before the answer was recorded. It is then
#: reconciled like a create that timed out, never resent. Waiting first spares a create that
#: another Reelgate process (the window while the command line runs) still has in flight.
ORPHANED_CREATE_AFTER = 60.0
#: A 404 marks a job gone only after this many ``not_found`` answers from its own gateway...
NOT_FOUND_CONFIRMATIONS = 2
#: ...at least this far apart (a gateway that lost its database for a moment, a replica that
#: has not seen the job yet, answers 404 once; a deleted job answers it every time).
NOT_FOUND_SPAN = 60.0
#: The code of the gateway's per-key rate limit: it slows every job of that key.
KEY_LIMIT_CODE = "key_limit_exceeded"


class _Catalogued(Protocol):
    """What :meth:`EngineBase.use_catalogue` needs of a catalogue model."""

    @property
    def id(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


def failure_from_error(error: GatewayError, cause: Cause | None = None) -> JobFailure:
    """A job failure record built from a gateway error, keeping its body verbatim."""
    body = error.body
    provider = body.get("provider") if isinstance(body.get("provider"), str) else None
    message = error.message
    if error.details:
        message = f"{message} ({'; '.join(error.details)})"
    return JobFailure(
        cause=cause or _CAUSE_BY_KIND.get(error.kind, Cause.PROVIDER),
        code=error.code,
        message=message,
        provider=provider,
        http_status=error.status,
        request_id=error.request_id,
        raw=error.to_dict(),
    )


class EngineBase:
    """State and rules shared by the engine's roles (see :class:`core.engine.Engine`)."""

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
        self.key_rejected: GatewayError | None = None
        #: Until when the key's own rate limit (429 ``key_limit_exceeded``) holds every job.
        self.key_paused_until: float | None = None
        #: Bumped by set_api_key: a 401 to a call sent with an older key is stale (the person
        #: entered a new key while it was in flight) and must not stop the new key's work.
        self._key_generation = 0
        self._calls = threading.local()
        #: Held while a refusal is recorded and while the key is replaced, so a refusal
        #: cannot land between set_api_key's clearing and its resuming of blocked jobs.
        self._key_lock = threading.RLock()
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

    def active_jobs(self) -> list[Job]:
        """Jobs the engine is still working on (polling, reconciling or downloading)."""
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

    def _record_answer(
        self, job: Job, remote: RemoteJob, kind: str, *, created: bool, note: str | None = None
    ) -> Job:
        """Journal a job document from the gateway, then schedule the next look at it."""
        at = self.clock()
        if job.gateway is None:
            job = replace(job, gateway=self.identity)  # an older job: the gateway knows it
        if job.remote_id and remote.id and remote.id != job.remote_id:
            other = f"The answer named another id ({remote.id}); the job keeps {job.remote_id}."
            note = f"{note} {other}" if note else other
        event: Event = Created(remote, at) if created else StatusSeen(remote, at)
        job = self._commit(
            job, event, kind, http_status=200, request_id=remote.id, raw=remote.raw, note=note
        )
        if job.terminal:
            # A completed job whose bill is not settled yet is read again (BILL_CHECKS times).
            later = next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
            return self._schedule(job, later if job.awaiting_bill else None)
        if created:
            return self._schedule(job, next_after_create(at, self.policy, self.rng))
        return self._schedule(
            job, next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
        )

    def _not_found(self, job: Job, error: GatewayError, *, during: str = "status") -> Job:
        """A 404 from the job's own gateway: gone only once confirmed a minute later.

        Returns the job after the answer: gone (``Vanished``) on the confirming answer,
        otherwise with the 404 counted and a status check due when the minute is over.
        """
        at = self.clock()
        raw = error.body or error.body_excerpt
        counted = apply(job, NotFoundSeen(at, error.request_id))
        since = counted.not_found_since if counted.not_found_since is not None else at
        if counted.not_found >= NOT_FOUND_CONFIRMATIONS and at - since >= NOT_FOUND_SPAN:
            note = (
                f"{counted.not_found} not_found answers over {at - since:.0f} s from the "
                f"gateway that made the job ({during})."
            )
            return self._commit(
                job,
                Vanished(failure_from_error(error, Cause.GONE), at),
                "not_found",
                http_status=error.status,
                request_id=error.request_id,
                raw=raw,
                note=note,
            )
        job = self._commit(
            job,
            NotFoundSeen(at, error.request_id),
            "not_found_unconfirmed",
            http_status=error.status,
            request_id=error.request_id,
            raw=raw,
            note=f"The gateway said not_found ({during}); asking again in a minute before "
            "calling the job gone.",
        )
        return self._schedule(job, since + NOT_FOUND_SPAN * (1.0 + 0.1 * self.rng.random()))

    # -- the key: refusals and its rate limit ---------------------------------------------------

    def _begin_call(self) -> None:
        """Note which key this thread's gateway call is about to use (see _stale_refusal)."""
        self._calls.key_generation = self._key_generation

    def _stale_refusal(self) -> bool:
        """Whether this thread's refused call was sent with a key replaced since."""
        started: int = getattr(self._calls, "key_generation", self._key_generation)
        return started != self._key_generation

    def _refuse_key(self, error: GatewayError) -> bool:
        """Stop every call with the key after a 401 (unless a newer key replaced it since)."""
        with self._key_lock:
            if self._stale_refusal():
                return False
            self.key_rejected = error
            return True

    def _read_failed(
        self, job: Job, error: GatewayError, kind: str, *, auth_note: str, note: str | None
    ) -> Job:
        """A status read or a listing failed: a refused key stops all reads, else back off.

        The refusal is recorded on the job under the key lock, so a new key set meanwhile
        cannot slip in between and leave the job blocked with nothing to unblock it.
        """
        at = self.clock()
        raw = error.body or error.body_excerpt
        if error.kind is ErrorKind.AUTH:
            with self._key_lock:
                if self._refuse_key(error):
                    return self._commit(
                        job,
                        AuthRejected(error.summary, at),
                        "auth_rejected",
                        http_status=error.status,
                        request_id=error.request_id,
                        raw=raw,
                        note=auth_note,
                    )
        self._note_key_limit(error)
        job = self._commit(
            job,
            PollFailed(problem_text(error), at, error.request_id, poll_error_record(error)),
            kind,
            http_status=error.status,
            request_id=error.request_id,
            raw=raw,
            note=note,
        )
        when = next_after_failure(
            at, job.failures, error.kind, error.retry_after, self.policy, self.rng
        )
        return self._schedule(job, when)

    def _note_key_limit(self, error: GatewayError) -> None:
        """A 429 ``key_limit_exceeded`` holds every job of the key, not only this one."""
        if error.status != 429 or (error.code or "").lower() != KEY_LIMIT_CODE:
            return
        delay = error.retry_after
        if delay is None or delay < 0:
            delay = backoff_delay(4, self.policy, self.rng)
        until = self.clock() + max(delay, self.policy.min_poll_after)
        with self._lock:
            if self.key_paused_until is None or until > self.key_paused_until:
                self.key_paused_until = until
        logger.info("The key's rate limit holds every job for %.0f s", delay)

    def _key_paused(self, now: float) -> bool:
        with self._lock:
            return self.key_paused_until is not None and now < self.key_paused_until
