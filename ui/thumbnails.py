"""First-frame thumbnails for the job table, decoded on worker threads and cached as QPixmaps."""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from core.jobs import DownloadState, Job, JobState
from core.thumbnails import Thumbnail, ThumbnailError, first_frame
from ui.offthread import Submit, run_task

logger = logging.getLogger(__name__)

#: Pixmaps kept in memory (each is a few tens of kilobytes).
CACHE_SIZE = 500


class ThumbnailCache(QObject):
    """Hands out a job's thumbnail, decoding it in the background on first request."""

    #: The thumbnail of this job (local id) is now available.
    thumbnail_ready = Signal(str)

    def __init__(self, submit: Submit, parent: QObject | None = None) -> None:
        """Decode thumbnails with ``submit`` (a worker pool)."""
        super().__init__(parent)
        self._submit = submit
        self._pixmaps: OrderedDict[tuple[str, str], QPixmap] = OrderedDict()
        self._pending: set[tuple[str, str]] = set()
        self._failed: set[tuple[str, str]] = set()

    def pixmap(self, job: Job) -> QPixmap | None:
        """The thumbnail, or ``None`` (then it may be on its way: see :attr:`thumbnail_ready`)."""
        if job.state is not JobState.COMPLETED or job.download is not DownloadState.DONE:
            return None
        if not job.files:
            return None
        key = (job.local_id, job.files[0])
        cached = self._pixmaps.get(key)
        if cached is not None:
            self._pixmaps.move_to_end(key)
            return cached
        if key in self._pending or key in self._failed:
            return None
        future = run_task(
            self._submit,
            first_frame,
            Path(job.files[0]),
            on_result=lambda thumb: self._on_decoded(key, thumb),
            on_error=lambda error: self._on_failed(key, error),
            receiver=self,
        )
        if future is not None:  # None: the worker pool is shut down, the window is closing
            self._pending.add(key)
        return None

    def _on_failed(self, key: tuple[str, str], error: BaseException) -> None:
        self._pending.discard(key)
        if not isinstance(error, ThumbnailError):
            logger.warning("Thumbnail failed for %s", key[1], exc_info=error)
        self._failed.add(key)

    def _on_decoded(self, key: tuple[str, str], thumb: Thumbnail) -> None:
        self._pending.discard(key)
        local_id = key[0]
        image = QImage(
            thumb.rgb, thumb.width, thumb.height, thumb.stride, QImage.Format.Format_RGB888
        ).copy()  # own the pixels: the bytes object may go away
        self._pixmaps[key] = QPixmap.fromImage(image)
        while len(self._pixmaps) > CACHE_SIZE:
            self._pixmaps.popitem(last=False)
        self.thumbnail_ready.emit(local_id)
