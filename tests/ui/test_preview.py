"""PreviewPanel: real MP4 frames through QMediaPlayer, transport controls, and plain errors."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer, QVideoFrame

import ui.preview as preview_module
from core.demo_gateway.video import ClipKey, encode_clip
from ui.preview import NO_AUDIO_TEXT, NO_BACKEND_TEXT, PreviewPanel, format_time

#: Benign messages from the offscreen platform and a machine without a sound server.
pytestmark = pytest.mark.qt_log_ignore(
    "does not support propagateSizeHints",
    "does not support raise",
    "PulseAudioService",
    "No RHI backend",
)
WIDTH, HEIGHT = 160, 90


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2-second 16:9 H.264 MP4 made by the demo gateway's encoder."""
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    path.write_bytes(encode_clip(ClipKey(WIDTH, HEIGHT, 2, 12, 0)))
    return path


class _NoAudioDevices:
    """Stands in for QMediaDevices on a machine without any audio output."""

    @staticmethod
    def audioOutputs() -> list[object]:
        return []


@pytest.fixture
def panel(qtbot, monkeypatch: pytest.MonkeyPatch) -> PreviewPanel:
    monkeypatch.setattr(preview_module, "QMediaDevices", _NoAudioDevices)
    widget = PreviewPanel()
    qtbot.addWidget(widget)
    widget.resize(480, 360)
    widget.show()
    return widget


def _playing(panel: PreviewPanel) -> bool:
    return panel.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState


def test_show_file_decodes_real_frames_with_the_right_size(qtbot, panel, clip) -> None:
    frames: list[QVideoFrame] = []
    panel.player.videoSink().videoFrameChanged.connect(
        lambda frame: frames.append(frame) if frame.isValid() else None
    )
    panel.show_file(clip, "A test clip")

    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=10_000)
    size = frames[-1].size()
    assert (size.width(), size.height()) == (WIDTH, HEIGHT)
    assert abs(size.width() / size.height() - 16 / 9) < 0.01
    resolution = panel.player.metaData().value(QMediaMetaData.Key.Resolution)
    assert (resolution.width(), resolution.height()) == (WIDTH, HEIGHT)
    assert panel.title_label.text() == "A test clip"
    assert panel.message == ""


def test_time_label_shows_the_total_duration(qtbot, panel, clip) -> None:
    panel.show_file(clip, "clip")
    qtbot.waitUntil(lambda: panel.time_label.text().endswith("/ 0:02"), timeout=10_000)
    assert panel.position_slider.maximum() == panel.player.duration() > 1900


def test_play_button_and_space_toggle_playback(qtbot, panel, clip) -> None:
    panel.show_file(clip, "clip")
    qtbot.waitUntil(lambda: _playing(panel), timeout=10_000)
    assert panel.play_button.text() == "Pause"

    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not _playing(panel))
    assert panel.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    assert panel.play_button.text() == "Play"

    # Space is a panel-wide shortcut: it works from any control, not only the play button.
    with qtbot.waitActive(panel):
        panel.activateWindow()
    panel.position_slider.setFocus()
    qtbot.keyClick(panel.position_slider, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: _playing(panel))


def test_loop_toggle_sets_infinite_loops(qtbot, panel, clip) -> None:
    panel.show_file(clip, "clip")
    assert panel.player.loops() == QMediaPlayer.Loops.Once
    qtbot.mouseClick(panel.loop_button, Qt.MouseButton.LeftButton)
    assert panel.player.loops() == QMediaPlayer.Loops.Infinite
    qtbot.mouseClick(panel.loop_button, Qt.MouseButton.LeftButton)
    assert panel.player.loops() == QMediaPlayer.Loops.Once


def test_without_audio_device_it_plays_silently_with_a_note(qtbot, panel, clip) -> None:
    assert panel.audio_output is None  # nothing is created before the first play
    panel.show_file(clip, "clip")
    qtbot.waitUntil(lambda: _playing(panel), timeout=10_000)
    assert panel.audio_output is None
    assert panel.note_label.text() == NO_AUDIO_TEXT
    assert not panel.mute_button.isEnabled()


def test_a_file_that_is_not_a_video_shows_plain_words_and_the_fallback(
    qtbot, panel, tmp_path
) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is a text file, not a video\n", encoding="utf-8")
    panel.show_file(bogus, "bogus")

    qtbot.waitUntil(lambda: panel.message != "", timeout=10_000)
    assert "not a video the preview can play" in panel.message
    assert "Open in system player" in panel.message
    assert panel.external_button.isVisible() and panel.external_button.isEnabled()
    assert not panel.play_button.isEnabled()
    with qtbot.waitSignal(panel.open_external_requested):
        qtbot.mouseClick(panel.external_button, Qt.MouseButton.LeftButton)


def test_missing_file_is_reported(panel, tmp_path) -> None:
    panel.show_file(tmp_path / "gone.mp4", "gone")
    assert "missing" in panel.message
    assert panel.external_button.isEnabled()


def test_save_button_emits_and_clear_resets(qtbot, panel, clip) -> None:
    panel.show_file(clip, "clip")
    with qtbot.waitSignal(panel.save_requested):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    panel.clear("Select a completed job to preview it.")
    assert panel.message == "Select a completed job to preview it."
    assert panel.current_path is None
    assert not panel.save_button.isEnabled()
    assert panel.time_label.text() == "0:00 / 0:00"


def test_without_a_multimedia_backend_it_offers_the_system_player(qtbot, monkeypatch, clip) -> None:
    monkeypatch.setattr(preview_module, "multimedia_available", lambda: False)
    widget = PreviewPanel()
    qtbot.addWidget(widget)
    assert widget.player is None
    assert widget.message == NO_BACKEND_TEXT
    widget.show_file(clip, "clip")
    assert widget.external_button.isEnabled()
    assert not widget.play_button.isEnabled()


def test_every_control_has_an_accessible_name(panel) -> None:
    controls = [
        panel.play_button,
        panel.position_slider,
        panel.loop_button,
        panel.mute_button,
        panel.volume_slider,
        panel.save_button,
        panel.external_button,
        panel.video_widget,
    ]
    assert all(control.accessibleName() for control in controls)
    assert panel.video_widget.objectName() == "previewPlayer"
    assert panel.play_button.objectName() == "playButton"


@pytest.mark.parametrize(
    ("ms", "text"), [(0, "0:00"), (3_400, "0:03"), (65_000, "1:05"), (3_725_000, "1:02:05")]
)
def test_format_time(ms: int, text: str) -> None:
    assert format_time(ms) == text
