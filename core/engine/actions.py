"""The engine's user actions: save a copy, share a link, delete on the server, review, rate, keep.

Each is one call a person makes about one job; every change goes through the journal-first
commit like the loop's own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.engine.base import EngineBase
from core.errors import ErrorKind, GatewayError
from core.gateway import SignedLink
from core.jobs import MAX_RATING, DeletedOnServer, Job, KeepChanged, Rated, Reviewed
from core.safe_write import (
    DownloadError,
    DownloadErrorKind,
    DownloadResult,
    ProgressFn,
    copy_file,
)


class ActionsRole(EngineBase):
    """What a person does with a job (see the module docstring)."""

    def save_as(
        self,
        local_id: str,
        dest: Path,
        *,
        index: int = 0,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadResult:
        """Copy a downloaded output to a place the user chose (atomic; never half-written)."""
        job = self.job(local_id)
        if job is None or index >= len(job.files):
            raise DownloadError(
                DownloadErrorKind.OTHER, "This video has not been downloaded yet.", retryable=False
            )
        result = copy_file(Path(job.files[index]), dest, progress=progress, cancel=cancel)
        self.journal.save(job, "saved_as", note=str(dest))
        return result

    def mint_link(self, local_id: str, ttl_seconds: int = 900) -> SignedLink:
        """A short-lived signed link to the video that needs no key."""
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        return self.client.download_url(job.remote_id, ttl_seconds=ttl_seconds)

    def delete_on_server(self, local_id: str) -> Job:
        """Delete the server's copy of a finished job (the local record and files stay).

        Raises :class:`GatewayError` when the gateway does not confirm ``deleted: true``:
        the job is then not marked deleted.
        """
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        if not self.client.delete(job.remote_id):
            raise GatewayError(
                kind=ErrorKind.UNEXPECTED,
                message="The gateway answered without confirming the deletion "
                '(no "deleted": true); the video may still be on the server.',
                code="delete_unconfirmed",
            )
        return self._commit(job, DeletedOnServer(self.clock()), "deleted_on_server")

    def cancel(self, local_id: str) -> None:
        """Ask the gateway to cancel (it currently answers "not available": a GatewayError)."""
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        self.client.cancel(job.remote_id)

    def review(self, local_id: str, reviewed: bool, note: str) -> Job:
        """Mark a job reviewed (or not) with a note; kept in the journal."""
        job = self._known(local_id)
        return self._commit(job, Reviewed(reviewed, note, self.clock()), "review", note=note)

    def set_rating(self, local_id: str, rating: int) -> Job:
        """Rate a job 1-5 stars (0 clears the rating); journaled as a ``rate`` event."""
        if not 0 <= rating <= MAX_RATING:
            raise ValueError(f"A rating is 0 (none) to {MAX_RATING} stars, not {rating}.")
        with self._commit_lock:
            job = self._known(local_id)
            return self._commit(job, Rated(rating, self.clock()), "rate", note=str(rating))

    def set_kept(self, local_id: str, kept: bool) -> Job:
        """Mark a job as one the creator keeps (or not); journaled as a ``keep`` event."""
        with self._commit_lock:
            job = self._known(local_id)
            note = "kept" if kept else "not kept"
            return self._commit(job, KeepChanged(kept, self.clock()), "keep", note=note)

    def set_hidden(self, local_id: str, hidden: bool) -> None:
        """Remove a job from the list (or bring it back); the journal keeps it."""
        self.journal.set_hidden(local_id, hidden)

    def _require_remote(self, local_id: str) -> Job:
        job = self.job(local_id)
        if job is None or job.remote_id is None:
            raise GatewayError(
                kind=ErrorKind.NOT_FOUND,
                message="This job was never created on the gateway.",
            )
        return job
