"""The Qt-side poller: one single-shot timer that wakes exactly when the engine says work is due.

No thread sleeps and no request runs on the GUI thread. Each wake claims the due jobs
(``engine.claim_due``), runs their status reads on the controller's worker pool, starts any
automatic downloads, and re-arms the timer for the engine's next wake time. Any job change
re-arms it too, so a fresh submission is picked up at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.errors import GatewayError
from core.jobs import Job
from ui.controller import Controller
from ui.offthread import when_done

logger = logging.getLogger(__name__)

#: The timer never fires sooner than this (a job due "now" still yields to the GUI) ...
MIN_DELAY_MS = 50
#: ... nor later than this (a cheap re-check guards against a missed wake-up).
MAX_DELAY_MS = 60_000
#: After a poll crashed (a bug, not a gateway answer), wait this long before trying again.
CRASH_COOLDOWN_SECONDS = 10.0


class Poller(QObject):
    """Drives the engine's polls and downloads from one QTimer."""

    #: The gateway refused the API key; polling is paused until a new key is set.
    key_rejected = Signal(object)

    def __init__(
        self,
        controller: Controller,
        *,
        auto_download: Callable[[], bool],
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        """Poll through ``controller``; ``auto_download()`` says whether to download."""
        super().__init__(parent)
        self._controller = controller
        self._auto_download = auto_download
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setObjectName("pollTimer")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._wake)
        self._running = False
        self._in_flight: set[str] = set()
        self._cooldown_until = 0.0
        self._reported_key_error: GatewayError | None = None
        self.wakes = 0
        controller.job_changed.connect(self._on_job_changed, Qt.ConnectionType.QueuedConnection)

    # -- control ------------------------------------------------------------------------------

    @property
    def timer(self) -> QTimer:
        """The one timer (tests look at its interval)."""
        return self._timer

    @property
    def running(self) -> bool:
        """Whether the poller is started."""
        return self._running

    def start(self) -> None:
        """Start polling (resumes unfinished jobs at once when they are due)."""
        self._running = True
        self.rearm()

    def stop(self) -> None:
        """Stop the timer; work already on a worker thread finishes on its own."""
        self._running = False
        self._timer.stop()

    def wake_now(self) -> None:
        """Run a cycle as soon as the event loop is free (e.g. after a new key)."""
        self._cooldown_until = 0.0
        self._reported_key_error = None
        if self._running:
            self._timer.start(0)

    # -- timing -------------------------------------------------------------------------------

    def _timer_due_at(self) -> float | None:
        """When the timer should fire next (``None``: nothing to do).

        The engine's next wake, with downloads only when they are automatic, and never
        before the cool-down ends.
        """
        engine = self._controller.engine
        now = self._clock()
        wake = engine.next_wake(now, downloads=self._auto_download())
        if wake is not None and wake < self._cooldown_until:
            wake = self._cooldown_until
        return wake

    def rearm(self) -> None:
        """Set the timer for the next due time (or stop it when nothing is due)."""
        if not self._running or self._controller.closed:
            return
        self._check_key()
        wake = self._timer_due_at()
        if wake is None:
            self._timer.stop()
            return
        delay_ms = int((wake - self._clock()) * 1000)
        self._timer.start(max(MIN_DELAY_MS, min(MAX_DELAY_MS, delay_ms)))

    def _on_job_changed(self, _job: Job) -> None:
        self.rearm()

    def _check_key(self) -> None:
        error = self._controller.engine.key_rejected
        if error is None:
            self._reported_key_error = None
            return
        if error is not self._reported_key_error:
            self._reported_key_error = error
            self.key_rejected.emit(error)

    # -- one cycle ----------------------------------------------------------------------------

    def _wake(self) -> None:
        if not self._running or self._controller.closed:
            return
        self.wakes += 1
        engine = self._controller.engine
        try:
            for job in engine.claim_due(self._clock()):
                self._start(job, self._controller.run_background(engine.poll, job))
            if self._auto_download():
                for job in engine.claim_downloads(self._clock()):
                    self._start(job, self._controller.download_in_background(job))
        except RuntimeError:  # the controller closed under us
            return
        self.rearm()

    def _start(self, job: Job, future: Future[Any]) -> None:
        local_id = job.local_id
        self._in_flight.add(local_id)
        when_done(
            future,
            on_result=lambda _job: self._finished(local_id),
            on_error=lambda error: self._crashed(local_id, error),
            receiver=self,
        )

    def _finished(self, local_id: str) -> None:
        self._in_flight.discard(local_id)
        self.rearm()

    def _crashed(self, local_id: str, error: BaseException) -> None:
        logger.error("Background job work failed", exc_info=error)
        self._cooldown_until = self._clock() + CRASH_COOLDOWN_SECONDS
        self._controller.report_error(f"Checking a job failed unexpectedly: {error}")
        self._finished(local_id)
