"""Pictures for the gallery: a large poster per clip and the frames scrubbing shows.

Both are decoded on the worker pool (:mod:`ui.offthread`), once per file, and kept in small
LRU caches of QPixmaps. Asking for a picture that is not ready starts its decode and
returns ``None``; :attr:`GalleryFrames.frames_ready` says when to paint again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from core.jobs import DownloadState, Job, JobState
from core.scrub_frames import ScrubFrames, scrub_frames
from core.thumbnails import Thumbnail, ThumbnailError, first_frame
from ui.offthread import Submit, run_task

logger = logging.getLogger(__name__)

#: Posters kept (about 100 KB each at the gallery's size).
POSTERS = 300
#: Clips whose scrub frames are kept (about 2 MB each).
SCRUBBED = 24
#: The box a poster is scaled to fit (the gallery card's picture area at 2x is not needed).
POSTER_BOX = (320, 320)

Key = tuple[str, str]
V = TypeVar("V")


def to_pixmap(thumb: Thumbnail) -> QPixmap:
    """A QPixmap that owns a copy of the RGB pixels."""
    image = QImage(thumb.rgb, thumb.width, thumb.height, thumb.stride, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


def video_file(job: Job) -> Path | None:
    """The first downloaded file of a completed job, if it is on this computer."""
    if job.state is not JobState.COMPLETED or job.download is not DownloadState.DONE:
        return None
    return Path(job.files[0]) if job.files else None


class _Lru(Generic[V]):
    """Decoded values by (job, file), the least recently used dropped past ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Key, V] = OrderedDict()
        self.pending: set[Key] = set()
        self.failed: set[Key] = set()

    def get(self, key: Key) -> V | None:
        value = self.values.get(key)
        if value is not None:
            self.values.move_to_end(key)
        return value

    def wanted(self, key: Key) -> bool:
        """Whether a decode for ``key`` should start now."""
        return key not in self.values and key not in self.pending and key not in self.failed

    def put(self, key: Key, value: V) -> None:
        self.pending.discard(key)
        self.values[key] = value
        while len(self.values) > self.size:
            self.values.popitem(last=False)

    def fail(self, key: Key) -> None:
        self.pending.discard(key)
        self.failed.add(key)


class GalleryFrames(QObject):
    """Posters and scrub frames of downloaded clips, decoded off the GUI thread."""

    #: A picture of this job (local id) became available.
    frames_ready = Signal(str)

    def __init__(
        self, submit: Submit, parent: QObject | None = None, *, count: int | None = None
    ) -> None:
        """Decode with ``submit`` (a worker pool); ``count`` overrides the scrub frames per clip."""
        super().__init__(parent)
        self._submit = submit
        self._count = count
        self._posters: _Lru[QPixmap] = _Lru(POSTERS)
        self._frames: _Lru[tuple[QPixmap, ...]] = _Lru(SCRUBBED)
        #: How many decodes of scrub frames ran (each file once while it stays cached).
        self.decodes = 0

    def poster(self, job: Job) -> QPixmap | None:
        """The clip's first picture at gallery size, or ``None`` while it is decoded."""
        path = video_file(job)
        if path is None:
            return None
        key = (job.local_id, str(path))
        cached = self._posters.get(key)
        if cached is None and self._posters.wanted(key):
            width, height = POSTER_BOX
            decode = partial(first_frame, path, max_width=width, max_height=height)
            self._start(self._posters, key, decode, to_pixmap)
        return cached

    def frame(self, job: Job, fraction: float) -> QPixmap | None:
        """The picture at ``fraction`` (0.0-1.0) through the clip, or ``None`` until decoded."""
        frames = self.frames(job)
        if not frames:
            return None
        index = min(len(frames) - 1, int(min(max(fraction, 0.0), 1.0) * len(frames)))
        return frames[index]

    def frames(self, job: Job) -> tuple[QPixmap, ...] | None:
        """Every scrub frame of the clip, starting their decode if needed."""
        path = video_file(job)
        if path is None:
            return None
        key = (job.local_id, str(path))
        cached = self._frames.get(key)
        if cached is None and self._frames.wanted(key):
            decode = partial(scrub_frames, path)
            if self._count is not None:
                decode = partial(scrub_frames, path, count=self._count)
            self.decodes += 1
            self._start(self._frames, key, decode, _pixmaps)
        return cached

    def _start(
        self,
        cache: _Lru[Any],
        key: Key,
        decode: Callable[[], Any],
        convert: Callable[[Any], Any],
    ) -> None:
        future = run_task(
            self._submit,
            decode,
            on_result=lambda value: self._decoded(cache, key, convert(value)),
            on_error=lambda error: self._failed(cache, key, error),
            receiver=self,
        )
        if future is not None:  # None: the pool is shut down, the window is closing
            cache.pending.add(key)

    def _decoded(self, cache: _Lru[Any], key: Key, value: Any) -> None:
        cache.put(key, value)
        self.frames_ready.emit(key[0])

    def _failed(self, cache: _Lru[Any], key: Key, error: BaseException) -> None:
        cache.fail(key)
        if not isinstance(error, ThumbnailError):
            logger.warning("Gallery picture failed for %s", key[1], exc_info=error)


def _pixmaps(frames: ScrubFrames) -> tuple[QPixmap, ...]:
    return tuple(to_pixmap(thumb) for thumb in frames.frames)
