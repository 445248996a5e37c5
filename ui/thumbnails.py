"""First-frame thumbnails for the job table, decoded on worker threads and cached as QPixmaps."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from core.jobs import DownloadState, Job, JobState
from core.thumbnails import Thumbnail, ThumbnailError, first_frame

logger = logging.getLogger(__name__)

Submit = Callable[..., Future[Any]]
#: Pixmaps kept in memory (each is a few tens of kilobytes).
CACHE_SIZE = 500


class ThumbnailCache(QObject):
    """Hands out a job's thumbnail, decoding it in the background on first request."""

    #: The thumbnail of this job (local id) is now available.
    thumbnail_ready = Signal(str)
    #: Internal: a decode finished (emitted from a worker thread).
    _decoded = Signal(str, str, object)

    def __init__(self, submit: Submit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._submit = submit
        self._pixmaps: OrderedDict[tuple[str, str], QPixmap] = OrderedDict()
        self._pending: set[tuple[str, str]] = set()
        self._failed: set[tuple[str, str]] = set()
        self._decoded.connect(self._on_decoded, Qt.ConnectionType.QueuedConnection)

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
        try:
            future = self._submit(first_frame, Path(job.files[0]))
        except RuntimeError:  # the worker pool is shut down: the window is closing
            return None
        self._pending.add(key)
        future.add_done_callback(lambda done: self._report(key, done))
        return None

    def _report(self, key: tuple[str, str], future: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):  # deleted while decoding
            self._decoded.emit(key[0], key[1], future)

    def _on_decoded(self, local_id: str, path: str, future: Future[Any]) -> None:
        key = (local_id, path)
        self._pending.discard(key)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            if not isinstance(error, ThumbnailError):
                logger.warning("Thumbnail failed for %s", path, exc_info=error)
            self._failed.add(key)
            return
        thumb: Thumbnail = future.result()
        image = QImage(
            thumb.rgb, thumb.width, thumb.height, thumb.stride, QImage.Format.Format_RGB888
        ).copy()  # own the pixels: the bytes object may go away
        self._pixmaps[key] = QPixmap.fromImage(image)
        while len(self._pixmaps) > CACHE_SIZE:
            self._pixmaps.popitem(last=False)
        self.thumbnail_ready.emit(local_id)
