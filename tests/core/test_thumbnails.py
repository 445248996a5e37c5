"""First-frame thumbnails read straight from PyAV's frame rows (no numpy), padding removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.demo_gateway.video import ClipKey, encode_clip
from core.thumbnails import ThumbnailError, first_frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    path.write_bytes(encode_clip(ClipKey(320, 180, 1, 12, 3)))
    return path


@pytest.mark.parametrize("box", [(128, 72), (126, 71), (61, 90)])
def test_the_pixels_are_the_decoders_rows_without_padding(clip: Path, box: tuple[int, int]) -> None:
    import av
    import numpy as np

    thumb = first_frame(clip, max_width=box[0], max_height=box[1])
    assert len(thumb.rgb) == thumb.width * thumb.height * 3
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
        expected = frame.reformat(width=thumb.width, height=thumb.height, format="rgb24")
        # 126 and 61 pixels make rows FFmpeg pads to its alignment: the picture must not shear.
        assert np.array_equal(thumb.as_array(), expected.to_ndarray())
    assert thumb.as_array().any()


def test_a_file_that_is_not_a_video_is_a_plain_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video", encoding="utf-8")
    with pytest.raises(ThumbnailError, match=r"notes\.mp4"):
        first_frame(bogus)
