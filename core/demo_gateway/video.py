"""Real H.264 MP4 test-pattern clips (PyAV + numpy), cached, and the padded bytes served per job.

PyAV and numpy are imported when the first clip is rendered, not with this module: together
they cost about 0.1 s, and the app imports the demo gateway on every start (see
``tests/bench/bench_startup.py``).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.demo_gateway.images import Still

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Frame = NDArray[np.uint8]

CHUNK_SIZE = 1024 * 1024
_ZEROS = bytes(CHUNK_SIZE)
_MAX_BOX_32 = 0xFFFFFFFF

_BARS = (
    (192, 192, 192),
    (192, 192, 0),
    (0, 192, 192),
    (0, 192, 0),
    (192, 0, 192),
    (192, 0, 0),
    (0, 0, 192),
)
_BOX_COLOURS = ((255, 255, 255), (255, 64, 64), (64, 255, 64), (64, 128, 255))
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    ".": ("000", "000", "000", "000", "010"),
    "s": ("000", "011", "010", "001", "110"),
    "/": ("001", "001", "010", "100", "100"),
}


@dataclass(frozen=True)
class ClipKey:
    """What a rendered clip depends on: size, length, frame rate, colour variant and images."""

    width: int
    height: int
    duration: int
    fps: int
    variant: int
    #: Drawn under the pattern instead of the colour bars (fading into ``last`` if given).
    first: Still | None = None
    last: Still | None = None


def _text_mask(text: str, scale: int) -> NDArray[np.bool_]:
    import numpy as np

    rows = []
    for y in range(5):
        row: list[bool] = []
        for char in text:
            glyph = _GLYPHS.get(char, ("000",) * 5)
            row.extend(bit == "1" for bit in glyph[y])
            row.append(False)
        rows.append(row)
    mask = np.array(rows, dtype=bool)
    return np.kron(mask, np.ones((scale, scale), dtype=bool)).astype(bool)


def _backdrop(still: Still, width: int, height: int) -> Frame:
    """``still`` cropped to the frame's shape and scaled to fill it."""
    import av
    import numpy as np

    pixels = np.frombuffer(still.rgb, dtype=np.uint8).reshape(still.height, still.width, 3)
    if still.width * height > still.height * width:
        keep = max(1, round(still.height * width / height))
        left = (still.width - keep) // 2
        pixels = pixels[:, left : left + keep]
    else:
        keep = max(1, round(still.width * height / width))
        top = (still.height - keep) // 2
        pixels = pixels[top : top + keep]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
    scaled = frame.reformat(width=width, height=height, format="rgb24", interpolation="BILINEAR")
    backdrop: Frame = np.asarray(scaled.to_ndarray(), dtype=np.uint8)
    return backdrop


def _frames(key: ClipKey) -> Iterator[Frame]:
    """Yield the clip's RGB frames: scrolling bars, a bouncing box, a counter and a time bar."""
    import numpy as np

    width, height, count = key.width, key.height, key.duration * key.fps
    palette = np.roll(np.array(_BARS, dtype=np.uint8), key.variant * 2, axis=0)
    bar_index = (np.arange(2 * width) * len(palette) // width) % len(palette)
    bar_row = palette[bar_index]
    band = max(2, height // 6)
    box = max(2, min(width, height) // 5)
    scale = max(1, height // 72)
    box_colour = np.array(_BOX_COLOURS[key.variant % len(_BOX_COLOURS)], dtype=np.uint8)
    frame = np.empty((height, width, 3), dtype=np.uint8)
    first = None if key.first is None else _backdrop(key.first, width, height)[: height - band]
    last = None if key.last is None else _backdrop(key.last, width, height)[: height - band]
    if first is not None and last is not None:
        first, last = first.astype(np.uint32), last.astype(np.uint32)
    for index in range(count):
        if first is not None and last is not None and count > 1:
            weights = np.uint32(count - 1 - index), np.uint32(index)
            mix = (first * weights[0] + last * weights[1]) // np.uint32(count - 1)
            frame[: height - band] = mix.astype(np.uint8)
        elif first is not None:
            frame[: height - band] = first
        else:
            offset = (index * max(1, width // (2 * key.fps))) % width
            frame[: height - band] = bar_row[offset : offset + width]
        frame[height - band :] = 24
        filled = width * (index + 1) // count
        thick = max(1, band // 6)
        frame[height - band // 2 - thick : height - band // 2 + thick, :filled] = 230
        span_x, span_y = max(1, width - box), max(1, height - band - box)
        x = _bounce(index * max(1, width // key.fps), span_x)
        y = _bounce(index * max(1, height // key.fps), span_y)
        frame[y : y + box, x : x + box] = box_colour
        text = f"{index + 1}/{count} {index / key.fps:.2f}s"
        mask = _text_mask(text, scale)
        text_h, text_w = min(mask.shape[0], height), min(mask.shape[1], width)
        region = frame[scale : scale + text_h, scale : scale + text_w]
        region[:] = 0
        region[mask[: region.shape[0], : region.shape[1]]] = 255
        yield frame


def _bounce(position: int, span: int) -> int:
    cycle = position % (2 * span)
    return cycle if cycle < span else 2 * span - cycle


def encode_clip(key: ClipKey) -> bytes:
    """Encode the test pattern for `key` as a faststart H.264/yuv420p MP4 and return its bytes."""
    import av

    handle, path = tempfile.mkstemp(prefix="reelgate-demo-", suffix=".mp4")
    os.close(handle)
    try:
        with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream(
                "libx264", rate=key.fps, options={"preset": "ultrafast", "crf": "28"}
            )
            stream.width = key.width
            stream.height = key.height
            stream.pix_fmt = "yuv420p"
            for index, pixels in enumerate(_frames(key)):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = index
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        with open(path, "rb") as handle_in:
            return handle_in.read()
    finally:
        os.unlink(path)


class ClipCache:
    """A process-wide, thread-safe LRU of clips being or already encoded on worker threads."""

    def __init__(self, max_entries: int = 48, workers: int | None = None) -> None:
        """Create the cache; the worker pool starts on first use."""
        self._max_entries = max_entries
        self._workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._entries: OrderedDict[ClipKey, Future[bytes]] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None

    def get(self, key: ClipKey) -> Future[bytes]:
        """The (possibly still running) encode of `key`; identical keys share one encode."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and not found.cancelled():
                self._entries.move_to_end(key)
                return found
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="demo-encode")
            future = self._pool.submit(encode_clip, key)
            self._entries[key] = future
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
            return future


CLIPS = ClipCache()


def _box_header(size: int) -> bytes:
    if size > _MAX_BOX_32:
        return struct.pack(">I4sQ", 1, b"free", size)
    return struct.pack(">I4s", size, b"free")


class Payload:
    """The exact bytes served for one job output: the clip, then a tagged, zero-padded free box."""

    def __init__(self, clip: Future[bytes] | ClipKey, tag: bytes, target_size: int | None) -> None:
        """`clip` is an encode under way, or a ClipKey to encode on first use (see CLIPS).

        `target_size`, when given, pads the file to exactly that many bytes if it can.
        """
        self._clip: Future[bytes] | None = None
        self._key: ClipKey | None = None
        if isinstance(clip, ClipKey):
            self._key = clip
        else:
            self._clip = clip
        self._tag = tag
        self._target = target_size
        self._sha256: str | None = None
        self._lock = threading.Lock()
        self._clip_lock = threading.Lock()

    def _future(self) -> Future[bytes]:
        with self._clip_lock:
            if self._clip is None:
                assert self._key is not None
                self._clip = CLIPS.get(self._key)
            return self._clip

    def clip(self, timeout: float = 120.0) -> bytes:
        """The encoded MP4 (starts a deferred encode, then waits for it to finish)."""
        return self._future().result(timeout=timeout)

    def _layout(self) -> tuple[bytes, bytes, int]:
        clip = self.clip()
        minimal = 8 + len(self._tag)
        box = minimal
        if self._target is not None and self._target - len(clip) >= minimal:
            box = self._target - len(clip)
        head = _box_header(box) + self._tag
        return clip, head, box - len(head)

    @property
    def size(self) -> int:
        """Total byte count of the served file."""
        clip, head, zeros = self._layout()
        return len(clip) + len(head) + zeros

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes | memoryview]:
        """Yield the file in pieces of at most `chunk_size`; padding comes from a shared buffer."""
        clip, head, zeros = self._layout()
        view = memoryview(clip)
        for start in range(0, len(view), chunk_size):
            yield view[start : start + chunk_size]
        yield head
        zero_view = memoryview(_ZEROS)[: min(chunk_size, len(_ZEROS))]
        while zeros > 0:
            piece = min(zeros, len(zero_view))
            yield zero_view[:piece]
            zeros -= piece

    def materialise(self, limit: int = 64 * 1024 * 1024) -> bytes:
        """The whole file as bytes; raises ValueError above `limit` (use size/sha256 instead)."""
        if self.size > limit:
            raise ValueError(f"output is {self.size} bytes; use job_size()/job_sha256() instead")
        return b"".join(bytes(piece) for piece in self.chunks())

    def sha256(self) -> str:
        """Hex SHA-256 of the served file (computed once, streaming)."""
        with self._lock:
            if self._sha256 is None:
                digest = hashlib.sha256()
                for piece in self.chunks():
                    digest.update(piece)
                self._sha256 = digest.hexdigest()
            return self._sha256
