"""Evenly spaced frames of a video for scrubbing a gallery card, decoded with PyAV (no Qt here).

Hovering across a clip in the gallery shows the moment under the pointer. The frames come
from one sequential decode on a worker thread (only the chosen frames are scaled and
converted to RGB) and are then kept by the Qt side; this module only turns a file into
pictures, and says in plain words why a file cannot give any.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.thumbnails import Thumbnail, ThumbnailError, fit_size

if TYPE_CHECKING:
    import av.video.frame

logger = logging.getLogger(__name__)

#: Frames per clip: one every 12 pixels across a 240-pixel card.
DEFAULT_COUNT = 20
DEFAULT_MAX_WIDTH = 320
DEFAULT_MAX_HEIGHT = 320


@dataclass(frozen=True)
class ScrubFrames:
    """``frames[i]`` shows the clip at ``times[i]`` seconds (both in playing order)."""

    frames: tuple[Thumbnail, ...]
    times: tuple[float, ...]

    def at(self, fraction: float) -> int:
        """The index of the frame for a position 0.0 (start) to 1.0 (end) across the card."""
        if not self.frames:
            raise IndexError("no frames")
        position = min(max(fraction, 0.0), 1.0)
        return min(len(self.frames) - 1, int(position * len(self.frames)))


def _duration(container: Any, stream: Any) -> float | None:
    """The video stream's length in seconds, from the stream or the container."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        import av

        return float(container.duration / av.time_base)
    return None


def _picture(frame: av.video.frame.VideoFrame, max_width: int, max_height: int) -> Thumbnail:
    import numpy as np

    width, height = fit_size(frame.width, frame.height, max_width, max_height)
    picture = frame.reformat(width=width, height=height, format="rgb24")
    pixels = np.ascontiguousarray(picture.to_ndarray(), dtype=np.uint8)
    return Thumbnail(width=width, height=height, rgb=pixels.tobytes())


def _evenly(items: list[Any], count: int) -> list[Any]:
    """``count`` items spread evenly over ``items`` (all of them when there are fewer)."""
    if len(items) <= count:
        return items
    return [items[(2 * index + 1) * len(items) // (2 * count)] for index in range(count)]


def scrub_frames(
    path: Path,
    *,
    count: int = DEFAULT_COUNT,
    max_width: int = DEFAULT_MAX_WIDTH,
    max_height: int = DEFAULT_MAX_HEIGHT,
) -> ScrubFrames:
    """``count`` frames spread evenly over ``path``, each scaled to fit the box.

    Frame ``i`` is the first one at or after the middle of the ``i``-th of ``count`` equal
    parts of the clip, so a short clip may give fewer frames than asked for. Raises
    :class:`ThumbnailError` when the file has no decodable picture.
    """
    import av

    if count < 1:
        raise ValueError("count must be at least 1")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ThumbnailError(f"{path.name} has no video stream.")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            if duration is None or duration <= 0:
                return _untimed(container, stream, count, max_width, max_height, path)
            targets = [duration * (2 * index + 1) / (2 * count) for index in range(count)]
            frames: list[Thumbnail] = []
            times: list[float] = []
            last: Any = None
            for frame in container.decode(stream):
                last = frame
                when = frame.time if frame.time is not None else 0.0
                if len(frames) < count and when + 1e-6 >= targets[len(frames)]:
                    picture = _picture(frame, max_width, max_height)
                    while len(frames) < count and when + 1e-6 >= targets[len(frames)]:
                        frames.append(picture)
                        times.append(when)
                if len(frames) == count:
                    break
            if last is not None and len(frames) < count:
                # The stream ended before its stated length: its last picture stands in.
                picture = _picture(last, max_width, max_height)
                when = last.time or 0.0
                frames.extend([picture] * (count - len(frames)))
                times.extend([when] * (count - len(times)))
    except ThumbnailError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        logger.info("No scrub frames for %s: %s", path, exc)
        raise ThumbnailError(f"{path.name} could not be decoded: {exc}") from exc
    if not frames:
        raise ThumbnailError(f"{path.name} has no picture to show.")
    return ScrubFrames(frames=tuple(frames), times=tuple(times))


def _untimed(
    container: Any, stream: Any, count: int, max_width: int, max_height: int, path: Path
) -> ScrubFrames:
    """Frames of a stream that does not say how long it is: keep a thinning sample, then pick.

    Every ``stride``-th frame is kept; when twice ``count`` are kept, every other one is
    dropped and the stride doubles, so memory stays bounded however long the stream is.
    """
    kept: list[tuple[Thumbnail, float]] = []
    stride = 1
    for index, frame in enumerate(container.decode(stream)):
        if index % stride:
            continue
        kept.append((_picture(frame, max_width, max_height), float(frame.time or 0.0)))
        if len(kept) >= 2 * count:
            kept = kept[::2]
            stride *= 2
    chosen = _evenly(kept, count)
    if not chosen:
        raise ThumbnailError(f"{path.name} has no picture to show.")
    return ScrubFrames(
        frames=tuple(picture for picture, _when in chosen),
        times=tuple(when for _picture_, when in chosen),
    )
