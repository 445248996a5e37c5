"""The MP4 box walk that tells a body cut off without Content-Length from a whole one."""

from __future__ import annotations

import pytest

from core.mp4_boxes import BoxWalker

FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
MOOV = (8 + 40).to_bytes(4, "big") + b"moov" + bytes(40)
# A 64-bit sized box: size field 1, then the real size (16-byte header) in 8 more bytes.
LARGE_MDAT = b"\x00\x00\x00\x01mdat" + (16 + 300).to_bytes(8, "big") + bytes(range(256)) + bytes(44)
FREE = (8 + 5).to_bytes(4, "big") + b"free" + b"\x00" * 5
VIDEO = FTYP + MOOV + LARGE_MDAT + FREE
BOUNDARIES = {len(FTYP), len(FTYP + MOOV), len(FTYP + MOOV + LARGE_MDAT), len(VIDEO)}


def walked(body: bytes, chunk: int) -> BoxWalker:
    walker = BoxWalker()
    for start in range(0, len(body), chunk):
        walker.feed(body[start : start + chunk])
    return walker


@pytest.mark.parametrize("chunk", [1, 3, 7, 16, 64, len(VIDEO)])
def test_a_whole_video_is_not_cut_off_in_any_chunking(chunk: int) -> None:
    assert not walked(VIDEO, chunk).cut_off()


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_every_cut_inside_a_box_or_a_header_is_seen(chunk: int) -> None:
    for end in range(1, len(VIDEO)):
        walker = walked(VIDEO[:end], chunk)
        assert walker.cut_off() is (end not in BOUNDARIES), end
    assert "need" in walked(VIDEO[:100], 7).describe()


@pytest.mark.parametrize(
    "body",
    [
        FTYP + b"\x00\x00\x00\x00mdat" + bytes(50),  # size 0: the box runs to the end
        FTYP + b"\x00\x00\x00\x04mdat" + bytes(50),  # a size smaller than its own header
        FTYP + bytes(range(256)),  # not boxes after ftyp: no verdict
    ],
)
def test_no_verdict_where_the_boxes_say_nothing(body: bytes) -> None:
    assert not walked(body, 9).cut_off()
