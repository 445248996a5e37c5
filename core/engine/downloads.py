"""The engine's downloads: a completed job's bytes to a file, once, whichever process asks.

A per-job OS file lock beside the journal makes sure the window and the command line (or two
windows) never fetch the same job at the same time; whoever gets the lock re-reads the journal
first, so a video another process saved is not fetched again. Failures back off (honouring
``Retry-After``) and, after ``MAX_DOWNLOAD_ATTEMPTS``, or at once when retrying cannot help
(400, 403, an insecure redirect, too large), the job goes to review with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.download import download
from core.engine.base import EngineBase
from core.errors import ErrorKind, GatewayError
from core.files import cleanup_partials
from core.joblock import FileLock, lock_name
from core.jobs import DownloadChanged, DownloadState, Job, JobState
from core.safe_write import DownloadError, DownloadErrorKind, copy_file
from core.wire import RemoteJob, RemoteStatus

#: The first automatic retry of a failed download waits this long; each further one doubles.
DOWNLOAD_RETRY_SECONDS = 30.0
DOWNLOAD_RETRY_CAP = 600.0
#: Failed attempts in a row after which the job waits for a person (shown for review).
MAX_DOWNLOAD_ATTEMPTS = 6
#: How soon to look again when another process holds a job's download lock.
LOCK_RECHECK_SECONDS = 5.0
#: ``.part`` files untouched this long are stale even if a process with their pid runs.
STALE_PART_SECONDS = 3600.0


class DownloadRole(EngineBase):
    """Fetches completed jobs' bytes (see the module docstring)."""

    def clean_partials(self) -> list[Path]:
        """Remove ``.part`` files left by downloads whose process is gone (call at start)."""
        return cleanup_partials(self.videos_dir, older_than=STALE_PART_SECONDS)

    def _download_due_at(self, job: Job) -> float | None:
        """When the loop should fetch a job's bytes; ``None`` waits for the user."""
        if job.download is DownloadState.FAILED and not job.download_retryable:
            return None
        if job.download_retry_at is not None:
            return job.download_retry_at
        if job.download is DownloadState.FAILED:
            return job.updated_at + DOWNLOAD_RETRY_SECONDS
        return job.updated_at

    def claim_downloads(self, now: float | None = None, only: set[str] | None = None) -> list[Job]:
        """Completed jobs whose bytes should be fetched now, marked busy (``only``: these)."""
        now = self.clock() if now is None else now
        if self.keys.blocked(now):
            return []  # content needs the key too: wait for a new one, or for its limit
        with self._lock:
            ready = [
                job
                for job in self._jobs.values()
                if job.wants_download
                and (only is None or job.local_id in only)
                and job.local_id not in self._busy
                and (due_at := self._download_due_at(job)) is not None
                and due_at <= now
            ]
            for job in ready:
                self._busy.add(job.local_id)
            return ready

    def claim_downloads_now(self, wait: float = 5.0) -> list[Job]:
        """Every completed job whose bytes are missing, claimed for a person's "Download now".

        Downloads waiting for their next automatic try are taken at once. A job another call
        holds for a moment (its last status answer still being recorded) is waited for, up to
        ``wait`` seconds, instead of being skipped silently.
        """
        later = self.clock() + DOWNLOAD_RETRY_SECONDS + 1
        deadline = time.monotonic() + wait
        with self._released:
            while True:
                claimed = self.claim_downloads(later)
                if claimed or self.keys.blocked(self.clock()):
                    return claimed
                if not any(job.wants_download for job in self._jobs.values()):
                    return []
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._released.wait(left)

    def output_file(self, job: Job, index: int) -> Path:
        """Where the app keeps output ``index`` of a job."""
        name = job.remote_id or job.local_id
        safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or job.local_id
        return self.videos_dir / f"{safe}-{index + 1}.mp4"

    def retry_download(self, local_id: str, cancel: threading.Event | None = None) -> Job:
        """Fetch a completed job's bytes now, whatever stopped the last attempt."""
        job, claimed = self._claim(local_id)
        if not claimed:
            return job
        job = replace(job, download_retryable=True, download_attempts=0, download_retry_at=None)
        return self.download(job, cancel)

    def download(self, job: Job, cancel: threading.Event | None = None) -> Job:
        """Fetch every output of a claimed completed job into the videos folder."""
        try:
            lock = FileLock(self.locks_dir / f"job-{lock_name(job.local_id)}.lock")
            if not lock.acquire(blocking=False):
                return self._held_elsewhere(job)
            try:
                return self._download(job, cancel)
            finally:
                lock.release(remove=True)  # no lock file per job left behind
        finally:
            self._release(job.local_id)

    def _held_elsewhere(self, job: Job) -> Job:
        """Another process downloads this job now: look again shortly, fetch nothing."""
        current = replace(job, download_retry_at=self.clock() + LOCK_RECHECK_SECONDS)
        with self._lock:
            if current.local_id in self._jobs:
                self._jobs[current.local_id] = current
        return current

    def _download(self, job: Job, cancel: threading.Event | None) -> Job:
        self.keys.begin_call()
        current = self.job(job.local_id) or job
        stored = self.journal.get(job.local_id)
        if stored is not None and stored.download is DownloadState.DONE:
            # Another process saved it while this one waited: take its record, fetch nothing.
            with self._lock:
                self._jobs.pop(stored.local_id, None)
            self._notify(stored)
            return stored
        if not current.wants_download or current.remote_id is None:
            return current
        remote_id = current.remote_id
        current = self._commit(
            current, DownloadChanged(DownloadState.ACTIVE, self.clock()), "download", note="started"
        )
        files: list[str] = []
        try:
            # No mkdir here: download() creates the folder itself and turns a folder that
            # cannot be made (a file in its place, no permission) into a DownloadError.
            for index in range(current.outputs):
                dest = self.output_file(current, index)
                result = download(
                    lambda index=index: self.client.open_content(remote_id, index),  # type: ignore[misc]
                    dest,
                    progress=self._progress_for(current.local_id),
                    cancel=cancel,
                )
                files.append(str(result.path))
        except DownloadError as error:
            return self._download_failed(current, error, files)
        except GatewayError as error:
            return self._content_refused(current, error, files)
        note = f"saved {len(files)} file(s)"
        if current.output_path:
            # Exported before DONE is committed: a crash in between re-runs both on resume.
            problem = self._export_to_output_path(current.output_path, files)
            current = replace(current, export_error=problem)
            note += f"; exported to {current.output_path}" if problem is None else f"; {problem}"
        return self._commit(
            current,
            DownloadChanged(DownloadState.DONE, self.clock(), tuple(files)),
            "download",
            note=note,
        )

    def _retry_delay(self, job: Job, retry_after: float | None) -> float:
        """Backoff before the next automatic attempt (``job`` has the failures so far)."""
        delay = min(
            DOWNLOAD_RETRY_SECONDS * 2.0 ** max(0, job.download_attempts), DOWNLOAD_RETRY_CAP
        )
        if retry_after is not None and retry_after >= 0:
            delay = max(delay, retry_after)
        return delay

    def _download_failed(self, job: Job, error: DownloadError, files: list[str]) -> Job:
        """Record a failed download; retryable ones back off, bounded, then wait for review."""
        at = self.clock()
        problem, retryable, retry_at = error.message, error.retryable, None
        if error.kind is DownloadErrorKind.NOT_READY and retryable:
            problem, retryable = self._recheck_status(job, problem)
        if retryable:
            if job.download_attempts + 1 >= MAX_DOWNLOAD_ATTEMPTS:
                retryable = False
                problem = (
                    f"{problem} Gave up after {MAX_DOWNLOAD_ATTEMPTS} attempts; "
                    "the video is still on the gateway: use Download to try again."
                )
            else:
                retry_at = at + self._retry_delay(job, error.retry_after)
        failed = DownloadChanged(
            DownloadState.FAILED, at, tuple(files), problem, error.kind.value, retryable, retry_at
        )
        return self._failed(job, failed, raw={"kind": error.kind.value, "message": problem})

    def _recheck_status(self, job: Job, problem: str) -> tuple[str, bool]:
        """409 ``not_ready`` for a job that said completed: ask its status before retrying.

        Returns the problem to show and whether retrying later can help (not when the job is
        now expired, failed or cancelled on the gateway).
        """
        assert job.remote_id is not None
        try:
            remote: RemoteJob = self.client.get(job.remote_id)
        except GatewayError as error:
            return f"{problem} (its status could not be read either: {error.summary})", True
        self.journal.save(
            job,
            "status_recheck",
            http_status=200,
            request_id=remote.id,
            raw=remote.raw,
            note="The content answered not_ready for a completed job; status read again.",
        )
        word = remote.status_text or remote.status.value
        if remote.status in (RemoteStatus.EXPIRED, RemoteStatus.FAILED, RemoteStatus.CANCELLED):
            return (
                f"The gateway now says the job is {word}: the video can no longer be fetched.",
                False,
            )
        return f"{problem} (the gateway says the job is {word})", True

    def _content_refused(self, job: Job, error: GatewayError, files: list[str]) -> Job:
        """A gateway answer about the job or the key rather than the transfer."""
        if error.kind is ErrorKind.NOT_FOUND and not self.keys.stale_refusal():
            job = self._not_found(job, error, during="content")
            if job.state is not JobState.COMPLETED:
                return job
            failed = DownloadChanged(
                DownloadState.FAILED,
                self.clock(),
                tuple(files),
                error.summary,
                error=DownloadErrorKind.OTHER.value,
                retry_at=job.next_poll_at,
            )
            return self._failed(job, failed, error, note="failed: not_found (not yet confirmed)")
        # A refused key stops every call with it, downloads included, until a new key is
        # set; otherwise the loop would retry with it every 30 s, forever.
        self.keys.heard(error)
        retryable = error.kind in (ErrorKind.AUTH, ErrorKind.RATE_LIMITED, ErrorKind.NOT_FOUND)
        at = self.clock()
        retry_at = at + self._retry_delay(job, error.retry_after) if retryable else None
        failed = DownloadChanged(
            DownloadState.FAILED,
            at,
            tuple(files),
            error.summary,
            error=error.kind.value,
            retryable=retryable,
            retry_at=retry_at,
        )
        return self._failed(job, failed, error, raw=error.body or error.body_excerpt)

    def _failed(
        self,
        job: Job,
        failed: DownloadChanged,
        error: GatewayError | None = None,
        *,
        note: str | None = None,
        raw: object = None,
    ) -> Job:
        """Record a failed download; ``error`` is the gateway's answer when there was one."""
        return self._commit(
            job,
            failed,
            "download",
            http_status=None if error is None else error.status,
            request_id=None if error is None else error.request_id,
            note=note or f"failed: {failed.error}",
            raw=raw,
        )

    @staticmethod
    def _export_to_output_path(output_path: str, files: list[str]) -> str | None:
        """Copy downloaded outputs to the ``--output`` file; returns a problem or ``None``."""
        target = Path(output_path)
        for index, source in enumerate(files):
            suffix = target.suffix or ".mp4"
            dest = target if index == 0 else target.with_name(f"{target.stem}-{index + 1}{suffix}")
            try:
                copy_file(Path(source), dest)
            except DownloadError as error:
                return f"could not save to {dest}: {error.message}"
        return None

    def _progress_for(self, local_id: str) -> Callable[[int, int | None], None]:
        def report(done: int, total: int | None) -> None:
            for listener in list(self._progress_listeners):
                listener(local_id, done, total)

        return report
