"""The Compare view: a compare set's clips side by side, played in sync, with "Keep" on each.

Each member gets its own QMediaPlayer + QVideoWidget (silent: several soundtracks at once
help nobody), a caption with the model, the time the job took to finish and its cost, and a
Keep toggle. A member that failed shows why in place of its video; one still running says
so and starts playing in step once its video is downloaded. One transport row plays,
pauses and seeks every clip together (:class:`ui.synced_players.SyncedPlayers`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.failure_class import verdict_for
from core.jobs import DownloadState, Job, JobState
from ui.jobs_model import format_elapsed
from ui.preview import NO_BACKEND_TEXT, format_time, multimedia_available
from ui.theme import set_tone

try:  # QtMultimedia may be missing from a trimmed install; the view then says so.
    from PySide6.QtMultimedia import QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

    from ui.synced_players import SyncedPlayers
except ImportError:  # pragma: no cover - depends on the installation
    QMediaPlayer = None  # type: ignore[assignment,misc]

logger = logging.getLogger(__name__)

#: Clips per row before the grid wraps.
COLUMNS = 3


def finish_text(job: Job) -> str:
    """How long the job took from submission to its end, or where it stands."""
    start = job.submitted_at or job.created_at
    if job.finished_at is not None and job.finished_at >= start:
        return f"finished in {format_elapsed(job.finished_at - start)}"
    return job.status_text.lower()


def cost_text(job: Job) -> str:
    """The job's cost as the gateway reported it, or "cost not reported"."""
    return f"${job.cost}" if job.cost else "cost not reported"


def failure_text(job: Job) -> str:
    """Why a member has no video, in plain words (its failure class when known)."""
    verdict = verdict_for(job)
    if verdict is None:
        return job.status_text
    return f"{job.status_text} — {verdict.heading}: {verdict.cause}"


def _has_video(job: Job) -> bool:
    return (
        job.state is JobState.COMPLETED and job.download is DownloadState.DONE and bool(job.files)
    )


class ClipPane(QFrame):
    """One member of the set: its video or why there is none, its caption and Keep."""

    #: ``(local_id, keep)``: the creator picked (or un-picked) this clip.
    keep_toggled = Signal(str, bool)

    def __init__(
        self, job: Job, index: int, model_name: str | None = None, parent: QWidget | None = None
    ) -> None:
        """Show ``job`` in pane ``index``, titled ``model_name`` (default: the model id)."""
        super().__init__(parent)
        self.model_name = model_name or job.params.model
        self.setObjectName(f"compareClip{index}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.job = job
        self.loaded: Path | None = None
        self.player: QMediaPlayer | None = None
        self.title = QLabel(self)
        self.title.setObjectName("compareClipModel")
        self.details = QLabel(self)
        self.details.setObjectName("compareClipDetails")
        self.message = QLabel(self)
        self.message.setObjectName("compareClipMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMinimumHeight(120)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.message)
        self.video: QVideoWidget | None = None
        if multimedia_available():
            self.video = QVideoWidget(self)
            self.video.setObjectName("compareClipVideo")
            self.video.setAccessibleName(f"Video from {job.params.model}")
            self.video.setMinimumSize(240, 135)
            self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.stack.addWidget(self.video)
        self.keep_button = QPushButton("Keep", self)
        self.keep_button.setObjectName("compareKeepButton")
        self.keep_button.setCheckable(True)
        self.keep_button.setToolTip("Mark this clip as the one to keep")
        self.keep_button.toggled.connect(self._on_keep)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.keep_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.details)
        self.show_job(job)

    def show_job(self, job: Job) -> None:
        """Bring the captions, the message and the Keep state up to date."""
        self.job = job
        self.title.setText(self.model_name)
        self.title.setToolTip(job.params.model)
        self.details.setText(f"{job.params.duration} s · {finish_text(job)} · {cost_text(job)}")
        self.keep_button.setAccessibleName(f"Keep the clip from {self.model_name}")
        if self.keep_button.isChecked() != job.kept:
            self.keep_button.blockSignals(True)
            self.keep_button.setChecked(job.kept)
            self.keep_button.blockSignals(False)
        self._show_kept(job.kept)
        self.keep_button.setEnabled(job.state is JobState.COMPLETED)
        if _has_video(job) and self.video is not None:
            self.stack.setCurrentWidget(self.video)
        elif job.terminal and job.state is not JobState.COMPLETED:
            self.message.setText(failure_text(job))
            set_tone(self.message, "problem")
            self.stack.setCurrentWidget(self.message)
        else:
            text = NO_BACKEND_TEXT if self.video is None and _has_video(job) else None
            self.message.setText(text or f"{job.status_text}… the clip joins in when it is ready.")
            set_tone(self.message, None)
            self.stack.setCurrentWidget(self.message)

    def _on_keep(self, kept: bool) -> None:
        self._show_kept(kept)
        self.keep_toggled.emit(self.job.local_id, kept)

    def _show_kept(self, kept: bool) -> None:
        self.keep_button.setText("Kept ✓" if kept else "Keep")
        set_tone(self.keep_button, "ok" if kept else None)

    def video_to_load(self) -> Path | None:
        """The downloaded file to play, if it is not playing yet."""
        if not _has_video(self.job) or self.video is None:
            return None
        path = Path(self.job.files[0])
        return None if path == self.loaded else path


class CompareView(QDialog):
    """A compare set's clips side by side, played, paused and sought together."""

    def __init__(
        self,
        jobs: list[Job],
        set_keep: Callable[[str, bool], None],
        parent: QWidget | None = None,
        *,
        model_names: Mapping[str, str] | None = None,
    ) -> None:
        """Lay out one pane per job and start loading their videos; Keep calls ``set_keep``."""
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare clips")
        self.setWindowTitle("Compare")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._set_keep = set_keep
        self.set_id = jobs[0].set_id if jobs else None
        self.sync: SyncedPlayers | None = SyncedPlayers(self) if multimedia_available() else None
        self.panes: list[ClipPane] = []
        self._seeking = False
        prompt = jobs[0].params.prompt if jobs else ""
        self.prompt_label = QLabel(prompt.splitlines()[0][:200] if prompt else "", self)
        self.prompt_label.setObjectName("comparePrompt")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid = QGridLayout()
        for index, job in enumerate(jobs):
            pane = ClipPane(job, index, (model_names or {}).get(job.params.model), self)
            pane.keep_toggled.connect(self._set_keep)
            self.panes.append(pane)
            grid.addWidget(pane, index // COLUMNS, index % COLUMNS)
        self._build_transport()
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt_label)
        layout.addLayout(grid, 1)
        layout.addLayout(self._transport)
        for pane in self.panes:
            self._load(pane)
        self.resize(min(1400, 360 * max(1, min(COLUMNS, len(jobs))) + 40), 520)

    def _build_transport(self) -> None:
        self.play_button = QPushButton("Play all", self)
        self.play_button.setObjectName("comparePlayButton")
        self.play_button.setAccessibleName("Play or pause every clip")
        self.play_button.setToolTip("Play or pause every clip together (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("compareSeekSlider")
        self.slider.setAccessibleName("Position of every clip")
        self.slider.sliderMoved.connect(self.seek)
        self.slider.sliderPressed.connect(lambda: setattr(self, "_seeking", True))
        self.slider.sliderReleased.connect(self._seek_released)
        self.time_label = QLabel("0:00 / 0:00", self)
        self.time_label.setObjectName("compareTime")
        self._transport = QHBoxLayout()
        self._transport.addWidget(self.play_button)
        self._transport.addWidget(self.slider, 1)
        self._transport.addWidget(self.time_label)
        QShortcut(QKeySequence("Space"), self, self.toggle)
        if self.sync is None:
            self.play_button.setEnabled(False)
            self.slider.setEnabled(False)
            return
        self.sync.position_changed.connect(self._on_position)
        self.sync.duration_changed.connect(self._on_duration)
        self.sync.playing_changed.connect(
            lambda playing: self.play_button.setText("Pause all" if playing else "Play all")
        )

    # -- members ------------------------------------------------------------------------------

    def _load(self, pane: ClipPane) -> None:
        path = pane.video_to_load()
        if path is None or self.sync is None or pane.video is None:
            return
        if pane.player is None:
            pane.player = QMediaPlayer(pane)
            pane.player.setVideoOutput(pane.video)
            self.sync.add(pane.player)
        pane.player.setSource(QUrl.fromLocalFile(str(path)))
        pane.loaded = path
        if self.sync.playing:
            pane.player.setPosition(self.sync.position)
            pane.player.play()

    def update_job(self, job: Job) -> None:
        """A member changed (finished, downloaded, kept): show it, and play it once ready."""
        for pane in self.panes:
            if pane.job.local_id == job.local_id and job.updated_at >= pane.job.updated_at:
                pane.show_job(job)
                self._load(pane)

    @property
    def players(self) -> list[QMediaPlayer]:
        """The members' media players (those with a video), in pane order."""
        return [pane.player for pane in self.panes if pane.player is not None]

    # -- transport ----------------------------------------------------------------------------

    def toggle(self) -> None:
        """Play every clip, or pause them all."""
        if self.sync is not None:
            self.sync.toggle()

    def play(self) -> None:
        """Play every clip together."""
        if self.sync is not None:
            self.sync.play()

    def pause(self) -> None:
        """Pause every clip at the same position."""
        if self.sync is not None:
            self.sync.pause()

    def seek(self, position: int) -> None:
        """Move every clip to ``position`` ms."""
        if self.sync is not None:
            self.sync.seek(position)

    def _seek_released(self) -> None:
        self._seeking = False
        self.seek(self.slider.value())

    def _on_position(self, position: int) -> None:
        if not self._seeking:
            self.slider.setValue(position)
        self.time_label.setText(f"{format_time(position)} / {format_time(self.slider.maximum())}")

    def _on_duration(self, duration: int) -> None:
        self.slider.setRange(0, max(0, duration))
        self.time_label.setText(f"{format_time(self.slider.value())} / {format_time(duration)}")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop every player before the window goes."""
        for player in self.players:
            player.stop()
            player.setSource(QUrl())
        super().closeEvent(event)
