"""Whether a streamed MP4 ends where its own boxes say it ends: a cut-off check without a length.

The gateway streams videos without ``Content-Length`` at times, and a connection that closes
half way through such a body (no chunked framing either) looks just like its end. An MP4 is
a run of top-level boxes, each starting with its size, so the bytes themselves say where the
file ends: a body that stops inside a box, or inside a box header, was cut off.

:class:`BoxWalker` follows the top-level boxes as chunks arrive (it keeps at most 16 bytes,
never the video). It judges only what it can: a box that runs "to the end of the file"
(size 0), an impossible size (below its header) or a type that is not four printable
characters (not an MP4 box at all) ends the walk with no verdict. A body cut off exactly
between two top-level boxes cannot be told from a whole one.
"""

from __future__ import annotations

_HEADER = 8
_LARGE_HEADER = 16


def _is_box_type(kind: bytes) -> bool:
    """Whether four bytes can be a box type (``ftyp``, ``moov``, ``mdat``: printable ASCII)."""
    return len(kind) == 4 and all(0x20 <= byte <= 0x7E for byte in kind)


class BoxWalker:
    """Follows an MP4's top-level box headers through a stream of chunks."""

    def __init__(self) -> None:
        """Start before the first box."""
        self._seen = 0
        self._box_at = 0
        self._header = b""
        self._open_ended = False

    def feed(self, chunk: bytes) -> None:
        """Account for the next ``chunk`` of the body."""
        start = self._seen
        self._seen += len(chunk)
        while not self._open_ended:
            offset = self._box_at + len(self._header) - start
            if offset >= len(chunk):
                return
            wanted = _LARGE_HEADER if self._header[:4] == b"\x00\x00\x00\x01" else _HEADER
            self._header += chunk[offset : offset + wanted - len(self._header)]
            if len(self._header) < _HEADER:
                return
            size = int.from_bytes(self._header[:4], "big")
            if size == 1:
                if len(self._header) < _LARGE_HEADER:
                    continue  # the 64-bit size follows (in this chunk or the next)
                size = int.from_bytes(self._header[8:16], "big")
            kind = self._header[4:8]
            if size == 0 or size < len(self._header) or not _is_box_type(kind):
                # To the end of the file, or not a box at all: no verdict either way.
                self._open_ended = True
                return
            self._box_at += size
            self._header = b""

    def cut_off(self) -> bool:
        """Whether the body seen so far stops inside a box or a box header."""
        if self._open_ended:
            return False
        return self._box_at > self._seen or bool(self._header)

    def describe(self) -> str:
        """Where the body stopped, for the error message."""
        return f"the video's boxes need {self._box_at:,} bytes, {self._seen:,} arrived"
