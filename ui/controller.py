"""The Qt bridge to the core: engine calls run on worker threads and come back as signals.

Widgets never call the engine, the gateway client or the journal's writers directly. They
call a :class:`Controller` method: the ``async`` ones (submit, refresh, save, ...) await a
worker thread through :func:`ui.offthread.run_async` so the window never freezes, and
:meth:`Controller.run_background` is the pool's submit function for
:func:`ui.offthread.run_task` (the catalogue, the poller's work, thumbnails, history).
The engine reports every job change from whatever thread made it; the controller re-emits
it as :attr:`Controller.job_changed`, which Qt queues to the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from core.catalogue import CatalogueCache, ModelInfo, choose_models, parse_catalogue
from core.context import AppContext
from core.demo_start import DEMO_API_KEY
from core.diagnostics import diagnostics_text
from core.download import DownloadResult, write_json_atomic
from core.engine import Engine
from core.errors import GatewayError
from core.gateway import SignedLink
from core.jobs import DownloadState, Job, JobParams
from core.logsetup import REDACTION
from core.secrets import resolve_api_key
from ui.offthread import run_async, run_task
from ui.preferences import Preferences

logger = logging.getLogger(__name__)

#: How long "Download" waits for a job that is busy with its last status check.
BUSY_WAIT_SECONDS = 5.0

T = TypeVar("T")
ProgressFn = Callable[[int, int | None], None]


class Controller(QObject):
    """Owns the app context and the worker pool; the one door from widgets to the core."""

    #: A job changed (emitted from engine threads; connect with ``Qt.QueuedConnection``).
    job_changed = Signal(object)
    #: ``(local_id, bytes so far, total or None)`` while a download runs.
    download_progressed = Signal(str, int, object)
    #: Something went wrong that is not tied to one job; plain words for the status bar.
    error_raised = Signal(str)
    #: ``(models, source)``: the model catalogue and where it came from.
    catalogue_loaded = Signal(list, str)

    def __init__(
        self,
        context: AppContext,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        max_workers: int = 6,
        parent: QObject | None = None,
    ) -> None:
        """Serve ``context`` with ``max_workers`` background threads and listen to its engine."""
        super().__init__(parent)
        self.context = context
        self._loop = loop
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="reelgate")
        self._cancel = threading.Event()
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        #: The user's settings: change them here, they save themselves off the GUI thread.
        self.preferences = Preferences(
            context.settings, context.paths.settings, submit=self.run_background, parent=self
        )
        # The demo uses no key (and may not have opened the keychain yet: see redact_stored_key).
        self._key: str | None = (
            None if context.runs_demo_gateway else resolve_api_key(context.secrets)[0]
        )
        context.engine.add_listener(self._on_job)
        context.engine.add_progress_listener(self._on_progress)

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The job engine (read-only use from the GUI thread: ``job``, ``next_wake``...)."""
        return self.context.engine

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran."""
        return self._closed

    def redacted_values(self) -> tuple[str, ...]:
        """Values to redact from anything shown or copied: the real API key, if any."""
        if self._key and self._key != DEMO_API_KEY:
            return (self._key,)
        return ()

    def run_background(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker thread; raises RuntimeError once closed."""
        if self._closed:
            raise RuntimeError("the controller is closed")
        return self._executor.submit(fn, *args)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_async(self.run_background, fn, *args, **kwargs)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine on the Qt event loop; an unexpected error reaches the crash hook."""
        loop = self._loop or asyncio.get_event_loop()
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            sys.excepthook(type(error), error, error.__traceback__)

    def _emit(self, signal: Any, *args: Any) -> None:
        if self._closed:
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the QObject is already gone (the window closed meanwhile)
            logger.debug("Dropped a signal after shutdown")

    def _on_job(self, job: Job) -> None:
        self._emit(self.job_changed, job)

    def _on_progress(self, local_id: str, done: int, total: int | None) -> None:
        self._emit(self.download_progressed, local_id, done, total)

    def report_error(self, message: str) -> None:
        """Tell the window about a problem (safe from any thread)."""
        self._emit(self.error_raised, message)

    # -- the model catalogue ------------------------------------------------------------------

    def load_catalogue(self) -> None:
        """Offer the cached catalogue now, then fetch the live one off the GUI thread."""
        context = self.context
        cache = None if context.runs_demo_gateway else CatalogueCache(context.paths.catalogue_cache)
        cached = cache.load() if cache is not None else None
        if cached is not None:
            models, source = choose_models(None, cached)
            self.engine.use_catalogue(models)  # lost creates are matched on canonical ids
            self._emit(self.catalogue_loaded, models, source)

        def fetch() -> tuple[list[ModelInfo], str]:
            fetched: list[ModelInfo] | None = None
            try:
                document = self.context.client.models()
                fetched = cache.store(document) if cache is not None else parse_catalogue(document)
            except GatewayError as error:
                logger.warning("Could not load the model list: %s", error.summary)
                self.report_error(f"Could not load the model list: {error.summary}")
            except Exception:  # an odd answer must not leave the composer without models
                logger.exception("Loading the model list failed")
            return choose_models(fetched, cached)

        run_task(self.run_background, fetch, on_result=self._catalogue_done, receiver=self)

    def _catalogue_done(self, chosen: tuple[list[ModelInfo], str]) -> None:
        self.engine.use_catalogue(chosen[0])  # lost creates are matched on canonical ids
        self._emit(self.catalogue_loaded, *chosen)

    # -- user actions (awaitable, never on the GUI thread) ------------------------------------

    async def submit(self, params: JobParams, parent_id: str | None = None) -> Job:
        """Journal and send one create; the job comes back as it stands (maybe REJECTED)."""
        return await self._run(self.engine.submit, params, parent_id=parent_id)

    async def refresh(self, local_id: str) -> Job:
        """Poll one job now, whatever its schedule."""
        return await self._run(self.engine.poll_once, local_id)

    async def download_now(self) -> list[Job]:
        """Fetch every completed video not yet on disk now (retries included)."""

        def work() -> list[Job]:
            done: list[Job] = []
            # A person asked: downloads that wait for them (disk was full...) go too.
            for job in self.engine.unfinished_jobs():
                if job.download is DownloadState.FAILED:
                    done.append(self.engine.retry_download(job.local_id, self._cancel))
            # A job busy for a moment is waited for (on this worker thread), not skipped.
            claimed = self.engine.claim_downloads_now(wait=0.0 if done else BUSY_WAIT_SECONDS)
            done.extend(self.engine.download(job, self._cancel) for job in claimed)
            return done

        return await self._run(work)

    def download_in_background(self, job: Job) -> Future[Job]:
        """Download one claimed job (the poller's automatic downloads)."""
        return self.run_background(self.engine.download, job, self._cancel)

    async def mint_link(self, local_id: str) -> SignedLink:
        """A short-lived signed link to the video (raises GatewayError)."""
        return await self._run(self.engine.mint_link, local_id)

    async def delete_on_server(self, local_id: str) -> Job:
        """Delete the gateway's copy of a finished job (raises GatewayError)."""
        return await self._run(self.engine.delete_on_server, local_id)

    async def save_as(
        self, local_id: str, dest: Path, progress: ProgressFn | None = None, index: int = 0
    ) -> DownloadResult:
        """Copy output ``index`` of a downloaded job to ``dest`` atomically (DownloadError)."""
        return await self._run(
            self.engine.save_as, local_id, dest, index=index, progress=progress, cancel=self._cancel
        )

    async def write_json(self, dest: Path, data: object) -> None:
        """Write a JSON file atomically (sidecars, exported diagnostics)."""
        await self._run(write_json_atomic, dest, data)

    async def review(self, local_id: str, reviewed: bool, note: str) -> Job:
        """Mark a job reviewed (or not) with a note."""
        return await self._run(self.engine.review, local_id, reviewed, note)

    async def set_rating(self, local_id: str, rating: int) -> Job:
        """Rate a job 1-5 stars (0 clears the rating); the change arrives as ``job_changed``."""
        return await self._run(self.engine.set_rating, local_id, rating)

    async def set_kept(self, local_id: str, kept: bool) -> Job:
        """Keep a job (or stop keeping it); the change arrives as ``job_changed``."""
        return await self._run(self.engine.set_kept, local_id, kept)

    async def set_hidden(self, local_id: str, hidden: bool) -> None:
        """Hide a job from the list, or bring it back."""
        await self._run(self.engine.set_hidden, local_id, hidden)

    async def set_api_key(self, key: str | None) -> None:
        """Use a new API key; polling stopped by a refused key resumes."""
        REDACTION.add_secret(key)
        self._key = key
        await self._run(self.engine.set_api_key, key)

    async def diagnostics_text(self, local_id: str) -> str | None:
        """:meth:`diagnostics`, read and built on a worker thread (``None``: no such job)."""
        return await self._run(self.diagnostics, local_id)

    def diagnostics(self, local_id: str) -> str | None:
        """The job's diagnostics as redacted JSON text (a journal read: not on the GUI thread)."""
        job = self.engine.job(local_id)
        if job is None:
            return None
        events = self.context.journal.events(local_id)
        return diagnostics_text(job, events, redacted=self.redacted_values())

    # -- shutdown -----------------------------------------------------------------------------

    def close(self) -> None:
        """Cancel transfers, let in-flight calls finish, then close the context (idempotent)."""
        if self._closed:
            return
        self.preferences.flush()
        self._closed = True
        self._cancel.set()
        for task in list(self._tasks):
            task.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.context.close()
