"""First-frame thumbnails of downloaded videos, decoded with PyAV (no Qt here).

The job table shows a small picture of every completed video. Decoding happens on a worker
thread; this module only turns a file into RGB pixels, and the Qt side wraps them in a
``QImage``. A file that cannot be decoded gives a :class:`ThumbnailError` in plain words.

PyAV is imported on the first decode (or by :func:`preload`), not with the module: it costs
about 0.1 s, and the window imports this module while it starts (bench_startup.py). numpy
is not used for decoding at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import av
    import numpy as np

logger = logging.getLogger(__name__)

#: The largest thumbnail edge sizes (the picture keeps its aspect ratio inside this box).
DEFAULT_MAX_WIDTH = 128
DEFAULT_MAX_HEIGHT = 72
#: Frames decoded at most while looking for the first picture (a broken stream gives up).
_MAX_FRAMES = 8


class ThumbnailError(Exception):
    """The video's first frame could not be read."""


@dataclass(frozen=True)
class Thumbnail:
    """An RGB picture: ``height`` rows of ``width * 3`` bytes, no padding."""

    width: int
    height: int
    rgb: bytes = b""

    @property
    def stride(self) -> int:
        """Bytes per row."""
        return self.width * 3

    def as_array(self) -> np.ndarray:
        """The pixels as a ``(height, width, 3)`` uint8 array (a copy-free view)."""
        import numpy as np

        return np.frombuffer(self.rgb, dtype=np.uint8).reshape(self.height, self.width, 3)


def preload() -> None:
    """Import PyAV now; meant for a worker thread while the window is idle.

    Loading its extension modules holds the interpreter lock for tens of milliseconds, which
    stalls the GUI thread wherever it happens; done early, the first thumbnail of a job that
    completes does not add that to the row's update.
    """
    import av  # noqa: F401


def _packed_rgb(picture: av.VideoFrame, width: int) -> bytes:
    """The rows of an ``rgb24`` frame without the padding FFmpeg may add to each row.

    Read from the frame's plane directly: numpy is not needed (importing it would stall the
    GUI thread for tens of milliseconds, see :func:`preload`).
    """
    plane = picture.planes[0]
    row = width * 3
    data = bytes(plane)
    stride = plane.line_size
    if stride == row:
        return data[: row * picture.height]
    return b"".join(data[y * stride : y * stride + row] for y in range(picture.height))


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """``(width, height)`` shrunk to fit the box, keeping the aspect ratio; each at least 1."""
    if width <= 0 or height <= 0:
        raise ValueError("the video has no picture size")
    scale = min(max_width / width, max_height / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def first_frame(
    path: Path,
    *,
    max_width: int = DEFAULT_MAX_WIDTH,
    max_height: int = DEFAULT_MAX_HEIGHT,
) -> Thumbnail:
    """The first video frame of ``path``, scaled to fit ``max_width`` x ``max_height``."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ThumbnailError(f"{path.name} has no video stream.")
            stream = container.streams.video[0]
            for count, frame in enumerate(container.decode(stream)):
                if count >= _MAX_FRAMES:
                    break
                width, height = fit_size(frame.width, frame.height, max_width, max_height)
                picture = frame.reformat(width=width, height=height, format="rgb24")
                return Thumbnail(width=width, height=height, rgb=_packed_rgb(picture, width))
    except ThumbnailError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        logger.info("No thumbnail for %s: %s", path, exc)
        raise ThumbnailError(f"{path.name} could not be decoded: {exc}") from exc
    raise ThumbnailError(f"{path.name} has no picture to show.")
