"""The video preview: QMediaPlayer + QVideoWidget behind a small API, with a lazy audio output.

The panel checks once that a multimedia backend exists (QtMultimedia can import but have no
decoder plugin, e.g. in a trimmed bundle); without one it shows a plain message and offers
"Open in system player" instead. Audio is created on first play only: machines without an
audio device (CI, remote desktops) must still preview, just silently.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

try:  # QtMultimedia may be missing from a trimmed install; the preview then degrades.
    from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaFormat, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget
except ImportError:  # pragma: no cover - depends on the installation
    QMediaPlayer = None  # type: ignore[assignment,misc]

NO_BACKEND_TEXT = (
    "Video preview is not available on this system (no media backend). Use “Open in system player”."
)
NO_AUDIO_TEXT = "No audio device: playing without sound"
#: How long after a video is chosen the player takes it (ms); see show_file.
LOAD_DELAY_MS = 15
_ERROR_WORDS = {
    "ResourceError": "The video file could not be opened or decoded",
    "FormatError": "This file is not a video the preview can play",
    "NetworkError": "The video could not be read",
    "AccessDeniedError": "Reelgate is not allowed to read this file",
}


@cache
def multimedia_available() -> bool:
    """Whether QtMultimedia loads and its backend can decode at least one file format."""
    if QMediaPlayer is None:
        return False
    try:
        formats = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
    except Exception:  # a broken plugin must not take the window down
        logger.exception("Querying the multimedia backend failed")
        return False
    return bool(formats)


def format_time(milliseconds: int) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a position or duration."""
    seconds = max(0, milliseconds) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PreviewPanel(QWidget):
    """Plays one downloaded video with transport controls, "Save as…" and an external fallback."""

    save_requested = Signal()
    open_external_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the player and its controls (or the fallback when Qt Multimedia is missing)."""
        super().__init__(parent)
        self.setObjectName("previewPanel")
        self._path: Path | None = None
        self._audio: QAudioOutput | None = None
        self._audio_checked = False
        self._seeking = False
        self._load_pending = False
        self._available = multimedia_available()
        self._player: QMediaPlayer | None = None
        self._build()
        if self._available and self.video_widget is not None:
            self._player = QMediaPlayer(self)
            self._player.setVideoOutput(self.video_widget)
            self._player.playbackStateChanged.connect(self._on_state_changed)
            self._player.positionChanged.connect(self._on_position_changed)
            self._player.durationChanged.connect(self._on_duration_changed)
            self._player.errorOccurred.connect(self._on_error)
            self._player.mediaStatusChanged.connect(self._on_media_status)
        self.clear("" if self._available else NO_BACKEND_TEXT)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.title_label = QLabel(self)
        self.title_label.setObjectName("previewTitle")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Wrapped, so a long prompt does not widen the pane and squeeze the job table.
        self.title_label.setWordWrap(True)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("previewMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setAccessibleName("Preview message")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.message_label)
        self.video_widget: QVideoWidget | None = None
        if self._available:
            self.video_widget = QVideoWidget(self)
            self.video_widget.setObjectName("previewPlayer")
            self.video_widget.setAccessibleName("Video preview")
            self.video_widget.setSizePolicy(
                QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
            )
            self.stack.addWidget(self.video_widget)

        self.play_button = self._button("playButton", "Play", "Play or pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.position_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setAccessibleName("Playback position")
        self.position_slider.sliderPressed.connect(self._on_slider_pressed)
        self.position_slider.sliderReleased.connect(self._on_slider_released)
        self.position_slider.sliderMoved.connect(self._on_slider_moved)
        self.time_label = QLabel("0:00 / 0:00", self)
        self.time_label.setObjectName("timeLabel")
        self.time_label.setAccessibleName("Elapsed and total time")
        self.loop_button = self._button("loopButton", "Loop", "Repeat the video")
        self.loop_button.setCheckable(True)
        self.loop_button.toggled.connect(self._on_loop_toggled)
        self.mute_button = self._button("muteButton", "Mute", "Mute or unmute")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self._on_mute_toggled)
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setObjectName("volumeSlider")
        self.volume_slider.setAccessibleName("Volume")
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(80)
        self.volume_slider.setMaximumWidth(100)
        self.volume_slider.valueChanged.connect(self._on_volume_changed)
        self.save_button = QPushButton("Save as…", self)
        self.save_button.setObjectName("saveButton")
        self.save_button.setAccessibleName("Save video as")
        self.save_button.clicked.connect(self.save_requested)
        self.external_button = QPushButton("Open in system player", self)
        self.external_button.setObjectName("openExternalButton")
        self.external_button.setAccessibleName("Open in system player")
        self.external_button.clicked.connect(self.open_external_requested)
        self.note_label = QLabel(self)
        self.note_label.setObjectName("previewNote")
        self.note_label.setAccessibleName("Preview note")
        self.note_label.setWordWrap(True)

        transport = QHBoxLayout()
        for widget in (self.play_button, self.position_slider, self.time_label, self.loop_button):
            transport.addWidget(widget)
        transport.setStretchFactor(self.position_slider, 1)
        for widget in (self.mute_button, self.volume_slider):
            transport.addWidget(widget)
        actions = QHBoxLayout()
        actions.addWidget(self.note_label, 1)
        actions.addWidget(self.external_button)
        actions.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.stack, 1)
        layout.addLayout(transport)
        layout.addLayout(actions)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.toggle_play)

    def _button(self, name: str, text: str, accessible: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(accessible)
        button.setAccessibleName(accessible)
        return button

    # -- public API ---------------------------------------------------------------------------

    @property
    def player(self) -> QMediaPlayer | None:
        """The media player (``None`` when no multimedia backend exists)."""
        return self._player

    @property
    def audio_output(self) -> QAudioOutput | None:
        """The audio output, once created on first play (``None`` without an audio device)."""
        return self._audio

    @property
    def available(self) -> bool:
        """Whether in-app playback is possible on this system."""
        return self._available

    @property
    def current_path(self) -> Path | None:
        """The file shown, if any."""
        return self._path

    def show_file(self, path: Path, title: str) -> None:
        """Load ``path`` and start playing it from the start (looping off)."""
        self._path = Path(path)
        self.title_label.setText(title)
        self.title_label.setToolTip(str(path))
        self.save_button.setEnabled(True)
        self.external_button.setEnabled(True)
        self.loop_button.setChecked(False)
        if self._player is None:
            self._show_message(NO_BACKEND_TEXT)
            return
        if not self._path.is_file():
            self._player.setSource(QUrl())
            self._show_problem(f"The video file is missing: {self._path}")
            return
        self._set_transport_enabled(True)
        self._set_note("" if self._audio is not None or not self._audio_checked else NO_AUDIO_TEXT)
        # The player takes the file a moment later, from a timer: the click that chose the
        # video returns at once, the window repaints and handles input, and then the video
        # area's first showing (its graphics set-up, the slowest step of the session's first
        # video) runs as a step of its own. (A zero-delay call would run in the same pass.)
        self._show_message("")
        if not self._load_pending:
            self._load_pending = True
            QTimer.singleShot(LOAD_DELAY_MS, self._load)

    @Slot()
    def _load(self) -> None:
        """Give the player the file chosen last (unless cleared meanwhile) and play it."""
        if not self._load_pending:
            return
        self._load_pending = False
        if self._player is None or self._path is None or self.video_widget is None:
            return
        self.stack.setCurrentWidget(self.video_widget)
        self._player.setSource(QUrl.fromLocalFile(str(self._path.resolve())))
        self.play()

    def clear(self, message: str = "") -> None:
        """Stop playback, unload the file and show ``message`` in the video area."""
        self._path = None
        self._load_pending = False
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())
        self.title_label.clear()
        self.save_button.setEnabled(False)
        self.external_button.setEnabled(False)
        self._set_transport_enabled(False)
        self._update_time(0, 0)
        self._show_message(message or (NO_BACKEND_TEXT if not self._available else ""))
        if self._available:
            self._set_note("")

    @Slot()
    def play(self) -> None:
        """Start or resume playback (creating the audio output on first play)."""
        if self._player is None or self._path is None:
            return
        self._ensure_audio()
        self._player.play()

    @Slot()
    def pause(self) -> None:
        """Pause playback."""
        if self._player is not None:
            self._player.pause()

    @Slot()
    def toggle_play(self) -> None:
        """Play when paused or stopped, pause when playing."""
        if self._player is None:
            return
        if self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.pause()
        else:
            self.play()

    # -- audio --------------------------------------------------------------------------------

    def _ensure_audio(self) -> None:
        """Create the audio output once, if a device exists; otherwise note the silence."""
        if self._audio is not None or self._player is None:
            return
        try:
            devices = QMediaDevices.audioOutputs()
            if not devices:
                raise RuntimeError("no audio output device")
            audio = QAudioOutput(QMediaDevices.defaultAudioOutput(), self)
        except Exception as exc:  # any audio trouble: play the picture anyway
            logger.info("Playing without sound: %s", exc)
            self._audio_checked = True
            self._set_note(NO_AUDIO_TEXT)
            self.mute_button.setEnabled(False)
            self.volume_slider.setEnabled(False)
            return
        audio.setVolume(self.volume_slider.value() / 100)
        audio.setMuted(self.mute_button.isChecked())
        self._player.setAudioOutput(audio)
        self._audio = audio
        self._audio_checked = True

    @Slot(bool)
    def _on_mute_toggled(self, muted: bool) -> None:
        self.mute_button.setText("Unmute" if muted else "Mute")
        if not muted:
            self._ensure_audio()
        if self._audio is not None:
            self._audio.setMuted(muted)

    @Slot(int)
    def _on_volume_changed(self, value: int) -> None:
        if self._audio is None and value > 0 and self._player is not None and self._path:
            self._ensure_audio()
        if self._audio is not None:
            self._audio.setVolume(value / 100)

    # -- player signals -----------------------------------------------------------------------

    @Slot(bool)
    def _on_loop_toggled(self, looping: bool) -> None:
        if self._player is not None:
            loops = QMediaPlayer.Loops.Infinite if looping else QMediaPlayer.Loops.Once
            self._player.setLoops(loops.value)

    @Slot()
    def _on_state_changed(self) -> None:
        assert self._player is not None
        playing = self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    @Slot(int)
    def _on_position_changed(self, position: int) -> None:
        if not self._seeking:
            with QSignalBlocker(self.position_slider):
                self.position_slider.setValue(position)
        assert self._player is not None
        self._update_time(position, self._player.duration())

    @Slot(int)
    def _on_duration_changed(self, duration: int) -> None:
        self.position_slider.setRange(0, max(0, duration))
        assert self._player is not None
        self._update_time(self._player.position(), duration)

    def _on_slider_pressed(self) -> None:
        self._seeking = True

    def _on_slider_released(self) -> None:
        self._seeking = False
        if self._player is not None:
            self._player.setPosition(self.position_slider.value())

    @Slot(int)
    def _on_slider_moved(self, value: int) -> None:
        if self._player is not None:
            self._player.setPosition(value)

    @Slot()
    def _on_media_status(self) -> None:
        assert self._player is not None
        status = self._player.mediaStatus()
        if status == QMediaPlayer.MediaStatus.LoadedMedia and not self._player.hasVideo():
            # FFmpeg opens some text files as subtitles or lyrics: no error, but no picture.
            self._player.stop()
            self._show_problem("This file has no video picture to show.")

    @Slot()
    def _on_error(self, error: object = None, detail: str = "") -> None:
        assert self._player is not None
        name = getattr(error, "name", str(error))
        words = _ERROR_WORDS.get(name, "The video could not be played")
        detail = detail or self._player.errorString()
        text = f"{words}."
        if detail:
            text += f"\n(Player said: {detail})"
        logger.warning("Preview failed for %s: %s %s", self._path, name, detail)
        self._show_problem(text)

    # -- display helpers ----------------------------------------------------------------------

    def _show_problem(self, text: str) -> None:
        self._show_message(f"{text}\nTry “Open in system player”.")
        self._set_transport_enabled(False)
        self.external_button.setEnabled(self._path is not None)
        self.external_button.setVisible(True)

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.stack.setCurrentWidget(self.message_label)

    def _set_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def _set_transport_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.position_slider, self.loop_button):
            widget.setEnabled(enabled and self._available)
        audio_ok = enabled and self._available and not (self._audio_checked and not self._audio)
        self.mute_button.setEnabled(audio_ok)
        self.volume_slider.setEnabled(audio_ok)

    def _update_time(self, position: int, duration: int) -> None:
        self.time_label.setText(f"{format_time(position)} / {format_time(duration)}")

    @property
    def message(self) -> str:
        """The text currently shown instead of the video (empty while a video shows)."""
        if self.video_widget is not None and self.stack.currentWidget() is self.video_widget:
            return ""
        return self.message_label.text()
