"""Several QMediaPlayers driven as one: play, pause and seek together, drift corrected.

The longest clip leads: its position is the group's position. While playing, a follower
that drifts more than :data:`DRIFT_MS` from the leader is moved back into step (decoders do
not start in the same millisecond). A clip shorter than the position holds its last frame.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QMediaPlayer

#: How far (ms) a follower may wander from the leader before it is put back in step.
DRIFT_MS = 120

_PLAYING = QMediaPlayer.PlaybackState.PlayingState


class SyncedPlayers(QObject):
    """Plays a group of media players in step."""

    #: The group's position in ms (the leader's).
    position_changed = Signal(int)
    #: The longest clip's duration in ms.
    duration_changed = Signal(int)
    #: Whether the group is playing.
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        """Start with no players."""
        super().__init__(parent)
        self._players: list[QMediaPlayer] = []
        self._leader: QMediaPlayer | None = None
        self._playing = False

    @property
    def players(self) -> list[QMediaPlayer]:
        """The players in the group."""
        return list(self._players)

    @property
    def playing(self) -> bool:
        """Whether the group was told to play (and has not reached the end)."""
        return self._playing

    @property
    def duration(self) -> int:
        """The longest clip's duration in ms (0 until known)."""
        return max((player.duration() for player in self._players), default=0)

    @property
    def position(self) -> int:
        """The leader's position in ms."""
        return self._leader.position() if self._leader is not None else 0

    def add(self, player: QMediaPlayer) -> None:
        """Join ``player`` to the group (its media may still be loading)."""
        self._players.append(player)
        player.durationChanged.connect(self._choose_leader)
        player.positionChanged.connect(lambda position, p=player: self._on_position(p, position))
        player.mediaStatusChanged.connect(self._on_media_status)
        self._choose_leader()

    def remove(self, player: QMediaPlayer) -> None:
        """Leave the group (the player is stopped)."""
        if player in self._players:
            self._players.remove(player)
            player.stop()
            self._choose_leader()

    def play(self) -> None:
        """Start every clip together (from the start if the group had finished)."""
        if self._players and self._leader is not None and self._at_end():
            self.seek(0)
        self._playing = True
        for player in self._players:
            if player.position() < max(0, player.duration() - 40) or player.duration() <= 0:
                player.play()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Pause every clip and line them up on the leader's position."""
        self._playing = False
        for player in self._players:
            player.pause()
        self.seek(self.position)
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def seek(self, position: int) -> None:
        """Move every clip to ``position`` ms (a shorter clip to its last frame)."""
        for player in self._players:
            length = player.duration()
            target = min(position, max(0, length - 1)) if length > 0 else position
            player.setPosition(max(0, target))
            if self._playing and player.playbackState() != _PLAYING and position < length:
                player.play()  # a clip that had ended joins in again
        self.position_changed.emit(max(0, position))

    def _at_end(self) -> bool:
        leader = self._leader
        return (
            leader is not None
            and leader.duration() > 0
            and (
                leader.position() >= leader.duration() - 40
                or leader.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia
            )
        )

    def _choose_leader(self, *_args: object) -> None:
        self._leader = max(self._players, key=lambda p: p.duration(), default=None)
        self.duration_changed.emit(self.duration)

    def _on_position(self, player: QMediaPlayer, position: int) -> None:
        if player is not self._leader:
            return
        self.position_changed.emit(position)
        if not self._playing:
            return
        for other in self._players:
            if other is player or other.duration() <= position:
                continue
            if abs(other.position() - position) > DRIFT_MS:
                other.setPosition(position)

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia and self._playing and self._at_end():
            self._playing = False
            self.playing_changed.emit(False)
