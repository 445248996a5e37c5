"""CompareView: real MP4s in real QMediaPlayers, played, paused and sought together."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer

from core.demo_gateway.video import ClipKey, encode_clip
from core.jobs import Cause, DownloadState, Job, JobFailure, JobParams, JobState, SetKind
from ui.compare_view import CompareView

PLAYING = QMediaPlayer.PlaybackState.PlayingState
PAUSED = QMediaPlayer.PlaybackState.PausedState
#: How far apart (ms) clips may be after a pause or seek.
IN_STEP_MS = 150


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three real H.264 clips of 3, 4 and 4 seconds (as a compare set's models would make)."""
    folder = tmp_path_factory.mktemp("compare")
    paths = []
    for index, seconds in enumerate((3, 4, 4)):
        path = folder / f"clip{index}.mp4"
        path.write_bytes(encode_clip(ClipKey(160, 90, seconds, 12, index)))
        paths.append(path)
    return paths


def member(index: int, model: str, seconds: int, **changes: Any) -> Job:
    job = Job(
        local_id=f"m{index}",
        params=JobParams(model=model, prompt="A kite over dunes", duration=seconds),
        state=JobState.COMPLETED,
        created_at=100.0,
        updated_at=100.0,
        submitted_at=100.0,
        finished_at=165.0 + index,
        cost="0.20",
        set_id="S",
        set_kind=SetKind.COMPARE,
        download=DownloadState.DONE,
    )
    return replace(job, **changes)


def in_step(view: CompareView) -> bool:
    positions = [player.position() for player in view.players]
    return max(positions) - min(positions) <= IN_STEP_MS


def states(view: CompareView) -> set[QMediaPlayer.PlaybackState]:
    return {player.playbackState() for player in view.players}


@pytest.fixture
def keeps() -> list[tuple[str, bool]]:
    return []


@pytest.fixture
def view(qtbot: Any, clips: list[Path], keeps: list[tuple[str, bool]]) -> CompareView:
    jobs = [
        member(0, "demo/test-pattern", 3, files=(str(clips[0]),)),
        member(1, "google/veo-3.1-lite-preview", 4, files=(str(clips[1]),)),
        member(2, "openai/sora-2", 4, files=(str(clips[2]),)),
    ]
    widget = CompareView(jobs, lambda local_id, keep: keeps.append((local_id, keep)))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.slider.maximum() >= 3900, timeout=10_000)
    return widget


def test_three_clips_play_pause_and_seek_together(view: CompareView, qtbot: Any) -> None:
    assert len(view.players) == 3
    view.play()
    qtbot.waitUntil(lambda: states(view) == {PLAYING}, timeout=10_000)
    qtbot.waitUntil(lambda: min(p.position() for p in view.players) > 300, timeout=10_000)
    view.pause()
    qtbot.waitUntil(lambda: states(view) == {PAUSED}, timeout=5_000)
    qtbot.waitUntil(lambda: in_step(view), timeout=5_000)
    paused_at = view.players[0].position()
    assert paused_at > 300
    view.seek(2500)
    qtbot.waitUntil(
        lambda: all(abs(p.position() - 2500) <= IN_STEP_MS for p in view.players), timeout=5_000
    )
    assert states(view) == {PAUSED}
    assert view.slider.value() == 2500
    view.seek(3600)  # beyond the 3-second clip: it holds its last frame, the others go on
    qtbot.waitUntil(lambda: abs(view.players[1].position() - 3600) <= IN_STEP_MS, timeout=5_000)
    assert view.players[0].position() >= view.players[0].duration() - IN_STEP_MS
    view.seek(500)
    view.toggle()  # Play all again from 0.5 s
    qtbot.waitUntil(lambda: states(view) == {PLAYING}, timeout=5_000)
    assert view.play_button.text() == "Pause all"


def test_captions_keep_and_a_failed_member_in_place(
    qtbot: Any, clips: list[Path], keeps: list[tuple[str, bool]]
) -> None:
    failed = member(
        1,
        "minimax/hailuo-02",
        6,
        state=JobState.FAILED,
        download=DownloadState.NONE,
        cost=None,
        failure=JobFailure(Cause.PROVIDER, code="provider_error", message="render failed"),
    )
    running = member(2, "openai/sora-2", 4, state=JobState.PROCESSING,
                     download=DownloadState.NONE, finished_at=None)  # fmt: skip
    jobs = [member(0, "demo/test-pattern", 3, files=(str(clips[0]),)), failed, running]
    view = CompareView(jobs, lambda local_id, keep: keeps.append((local_id, keep)))
    qtbot.addWidget(view)
    view.show()
    first, bad, late = view.panes
    assert first.title.text() == "demo/test-pattern"
    assert first.details.text() == "3 s · finished in 1 m 05 s · $0.20"
    assert bad.stack.currentWidget() is bad.message
    assert bad.message.text() == (
        "Failed — Provider fault: The video provider failed to generate this video."
    )
    assert not bad.keep_button.isEnabled()
    assert late.message.text().startswith("Processing…")
    assert len(view.players) == 1
    qtbot.mouseClick(first.keep_button, Qt.MouseButton.LeftButton)
    assert keeps == [("m0", True)]
    # The running member finishes and downloads: it joins the group and plays in step.
    view.play()
    done = replace(running, state=JobState.COMPLETED, download=DownloadState.DONE,
                   files=(str(clips[2]),), updated_at=200.0, finished_at=170.0)  # fmt: skip
    view.update_job(done)
    assert len(view.players) == 2 and late.stack.currentWidget() is late.video
    qtbot.waitUntil(lambda: states(view) == {PLAYING}, timeout=10_000)
