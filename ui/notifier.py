"""Desktop notifications for jobs that finish while the window is in the background."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from core.failure_class import verdict_for
from core.jobs import Job, JobState

logger = logging.getLogger(__name__)

#: A job first seen already finished counts as "just finished" only this long after it ended,
#: so jobs loaded from the journal at start-up are not announced again.
RECENT_SECONDS = 120.0
_PROMPT_CHARS = 80
_FAILED_TITLES = {
    JobState.CANCELLED: "Job cancelled",
    JobState.EXPIRED: "Job expired",
    JobState.GONE: "Job gone",
    JobState.REJECTED: "Job rejected",
}


class Message(NamedTuple):
    """What a notification said (kept even when no tray exists, for tests and logs)."""

    title: str
    text: str
    local_id: str


def _prompt_excerpt(job: Job) -> str:
    prompt = " ".join(job.params.prompt.split())
    return prompt if len(prompt) <= _PROMPT_CHARS else prompt[: _PROMPT_CHARS - 1] + "…"


def describe(job: Job) -> Message:
    """The notification for a finished job: "Video ready" or "Job failed: <cause>"."""
    excerpt = _prompt_excerpt(job)
    if job.state is JobState.COMPLETED:
        return Message("Video ready", excerpt, job.local_id)
    verdict = verdict_for(job)
    reason = verdict.cause if verdict else job.status_text
    title = _FAILED_TITLES.get(job.state, "Job failed")
    return Message(title, f"Job failed: {reason}\n{excerpt}", job.local_id)


class Notifier(QObject):
    """Shows one tray message per job when it reaches a terminal state while the app is away."""

    job_activated = Signal(str)

    def __init__(
        self,
        window: QWidget,
        icon: QIcon,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Announce on behalf of ``window`` with ``icon`` in the system tray, when there is one."""
        super().__init__(window)
        self._window = window
        self._icon = icon
        self._clock = clock
        self._enabled = True
        self._announced: set[str] = set()
        self._seen_running: set[str] = set()
        self.last_message: Message | None = None
        self.tray: QSystemTrayIcon | None = None
        self._tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        if not self._tray_available:
            logger.info("No system tray: notifications are recorded but not shown")

    @property
    def enabled(self) -> bool:
        """Whether notifications are wanted (the user's setting)."""
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Turn notifications on or off; the tray icon shows only while they are on."""
        self._enabled = enabled
        if self.tray is not None:
            self.tray.setVisible(enabled)

    def remember(self, jobs: list[Job]) -> None:
        """Mark jobs loaded at start-up as known, so finished ones are never announced."""
        for job in jobs:
            if job.terminal:
                self._announced.add(job.local_id)
            else:
                self._seen_running.add(job.local_id)

    def notify(self, job: Job) -> None:
        """Call on every job change: announces a job that just finished, once, when away."""
        if not job.terminal:
            self._seen_running.add(job.local_id)
            return
        if job.local_id in self._announced:
            return
        self._announced.add(job.local_id)
        if not self._just_finished(job):
            return
        if not self._enabled or self._window.isActiveWindow():
            return
        message = describe(job)
        self.last_message = message
        self._show(message, job.state is JobState.COMPLETED)

    def _just_finished(self, job: Job) -> bool:
        if job.local_id in self._seen_running:
            return True
        finished = job.finished_at or job.updated_at
        return self._clock() - finished <= RECENT_SECONDS

    def _show(self, message: Message, success: bool) -> None:
        tray = self._ensure_tray()
        if tray is None:
            return
        icon = (
            QSystemTrayIcon.MessageIcon.Information
            if success
            else QSystemTrayIcon.MessageIcon.Warning
        )
        tray.showMessage(message.title, message.text, icon, 10_000)

    def _ensure_tray(self) -> QSystemTrayIcon | None:
        if not self._tray_available:
            return None
        if self.tray is None:
            self.tray = QSystemTrayIcon(self._icon, self)
            self.tray.setToolTip("Reelgate")
            self.tray.messageClicked.connect(self._on_message_clicked)
            self.tray.activated.connect(self._on_tray_activated)
        self.tray.setVisible(self._enabled)
        return self.tray

    @Slot()
    def _on_message_clicked(self) -> None:
        if self.last_message is not None:
            self.job_activated.emit(self.last_message.local_id)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._window.showNormal()
            self._window.raise_()
            self._window.activateWindow()
