"""The job table's model: one row per journaled job, updated one row at a time.

Rows are appended in the order jobs become known and never reordered (the view sorts
through a proxy), so ``local_id -> row`` stays valid and a job change touches exactly one
row with ``dataChanged``. Only the first load fills the model at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import IntEnum
from operator import attrgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QPixmap

from core.billing import ChargeKind, job_charge
from core.failure_class import verdict_for
from core.jobs import MAX_RATING, DownloadState, Job, JobState
from core.money import NANOS_PER_USD
from ui.theme import status_colour
from ui.thumbnails import ThumbnailCache

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    """The table's columns, left to right."""

    THUMBNAIL = 0
    PROMPT = 1
    MODEL = 2
    DURATION = 3
    ASPECT = 4
    STATUS = 5
    CREATED = 6
    ELAPSED = 7
    COST = 8
    KEPT = 9
    RATING = 10


HEADERS: dict[Column, str] = {
    Column.THUMBNAIL: "",
    Column.PROMPT: "Prompt",
    Column.MODEL: "Model",
    Column.DURATION: "Duration",
    Column.ASPECT: "Aspect",
    Column.STATUS: "Status",
    Column.CREATED: "Created",
    Column.ELAPSED: "Elapsed",
    Column.COST: "Cost",
    Column.KEPT: "Keep",
    Column.RATING: "Rating",
}
#: The job itself, for any column.
JobRole = Qt.ItemDataRole.UserRole + 1
#: A value that sorts right (numbers for times, durations and costs).
SortRole = Qt.ItemDataRole.UserRole + 2
#: 0-100 for the Status column of a job with work under way (the delegate draws a bar).
ProgressRole = Qt.ItemDataRole.UserRole + 3

_NUMERIC = frozenset({Column.DURATION, Column.ELAPSED, Column.COST})
_CENTRED = frozenset({Column.KEPT, Column.RATING})
KEPT_MARK = "✔"
_PROMPT_CHARS = 90
_TOOLTIP_CHARS = 1_000


def is_active(job: Job) -> bool:
    """Whether the job still has work under way (on the server or a download)."""
    return not job.terminal or job.download in (DownloadState.PENDING, DownloadState.ACTIVE)


def format_elapsed(seconds: float) -> str:
    """``"45 s"``, ``"3 m 05 s"``, ``"2 h 04 m"``."""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def stars(rating: int) -> str:
    """``"★★★☆☆"`` for 3; empty for "not rated"."""
    return "★" * rating + "☆" * (MAX_RATING - rating) if rating > 0 else ""


def _cost_value(job: Job) -> float:
    """Sort key of the Cost cell: the settled or estimated amount; -1 when there is none."""
    charge = job_charge(job)
    return -1.0 if charge.nanos is None else charge.nanos / NANOS_PER_USD


#: The sort keys of the columns that sort by a value of the job (attrgetter runs in C).
_SORT_KEYS: dict[Column, Callable[[Job], Any]] = {
    Column.THUMBNAIL: attrgetter("created_at"),
    Column.DURATION: attrgetter("params.duration"),
    Column.STATUS: lambda job: job.state.label,
    Column.CREATED: attrgetter("created_at"),
    Column.COST: _cost_value,
    Column.KEPT: lambda job: int(job.kept),
    Column.RATING: attrgetter("rating"),
}


def _cost_tooltip(job: Job) -> str:
    charge = job_charge(job)
    if charge.kind is ChargeKind.SETTLED:
        return "Settled: the gateway's bill for this job"
    if charge.kind is ChargeKind.ESTIMATED:
        return "Estimated: credit reserved; the bill settles when the job ends"
    if charge.kind is ChargeKind.VOID:
        return "Not charged: the gateway voided the bill"
    return f"Billing: {job.billing_state}" if job.billing_state else "No cost reported yet"


class JobsModel(QAbstractTableModel):
    """All listed jobs as a table; :meth:`upsert` applies one job change to one row."""

    #: The one-second refresh ran (countdowns elsewhere may follow it).
    ticked = Signal()

    def __init__(
        self,
        jobs: list[Job] | None = None,
        *,
        hidden: set[str] | None = None,
        thumbnails: ThumbnailCache | None = None,
        owns: Callable[[Job], bool] | None = None,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        """List ``jobs`` (``hidden`` ids left out); ``owns`` tells this gateway's jobs apart."""
        super().__init__(parent)
        self._clock = clock
        self._owns = owns
        self._jobs: list[Job] = list(jobs or [])
        self._rows: dict[str, int] = {job.local_id: row for row, job in enumerate(self._jobs)}
        #: Jobs with work under way: the one-second tick repaints only these, not a
        #: 100,000-job history (walking every row took 0.1 s a second; bench_history).
        self._active: set[str] = {job.local_id for job in self._jobs if is_active(job)}
        self._hidden: set[str] = set(hidden or ())
        self._download: dict[str, tuple[int, int | None]] = {}
        self._thumbnails = thumbnails
        #: Catalogue model id -> human name (ids without one are shown as they are).
        self._model_names: dict[str, str] = {}
        if thumbnails is not None:
            thumbnails.thumbnail_ready.connect(self._on_thumbnail)
        self._ticker = QTimer(self)
        self._ticker.setObjectName("jobsTicker")
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.tick)

    # -- lookups ------------------------------------------------------------------------------

    def job_at(self, row: int) -> Job:
        """The job shown in ``row``."""
        return self._jobs[row]

    def row_of(self, local_id: str) -> int | None:
        """The row of a job, or ``None`` when it is not listed."""
        return self._rows.get(local_id)

    def job(self, local_id: str) -> Job | None:
        """The listed version of a job."""
        row = self._rows.get(local_id)
        return None if row is None else self._jobs[row]

    def jobs(self) -> list[Job]:
        """Every listed job, in row order."""
        return list(self._jobs)

    # -- changes ------------------------------------------------------------------------------

    def upsert(self, job: Job) -> None:
        """Show a job's new state: ``dataChanged`` for its row, or one inserted row if new."""
        row = self._rows.get(job.local_id)
        if row is None:
            if job.local_id in self._hidden:
                return
            row = len(self._jobs)
            self.beginInsertRows(QModelIndex(), row, row)
            self._jobs.append(job)
            self._rows[job.local_id] = row
            self._track(job)
            self.endInsertRows()
            return
        if job.download is not DownloadState.ACTIVE:
            self._download.pop(job.local_id, None)
        self._jobs[row] = job
        self._track(job)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def add_jobs(self, jobs: list[Job]) -> int:
        """Append the jobs not listed yet (older history loaded after start-up) in one insert.

        Jobs already listed keep their (newer) listed version; hidden ones stay hidden.
        Returns how many rows were added.
        """
        rows, hidden = self._rows, self._hidden
        new = [job for job in jobs if job.local_id not in rows and job.local_id not in hidden]
        if not new:
            return 0
        first = len(self._jobs)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._jobs.extend(new)
        for row, job in enumerate(new, first):
            rows[job.local_id] = row
        self._active.update(job.local_id for job in new if is_active(job))
        self.endInsertRows()
        return len(new)

    def remove(self, local_id: str) -> Job | None:
        """Take a job off the list (it stays hidden from later updates until :meth:`restore`)."""
        self._hidden.add(local_id)
        row = self._rows.get(local_id)
        if row is None:
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        job = self._jobs.pop(row)
        del self._rows[local_id]
        self._active.discard(local_id)
        for later in self._jobs[row:]:
            self._rows[later.local_id] -= 1
        self.endRemoveRows()
        return job

    def restore(self, job: Job) -> None:
        """Bring a removed job back (Undo)."""
        self._hidden.discard(job.local_id)
        self.upsert(job)

    def set_download_progress(self, local_id: str, done: int, total: int | None) -> None:
        """Show download progress in the job's Status cell (only when the percentage moves)."""
        row = self._rows.get(local_id)
        if row is None:
            return
        before = self._download.get(local_id)
        self._download[local_id] = (done, total)
        if before is not None and _percent(*before) == _percent(done, total) and total:
            return
        cell = self.index(row, Column.STATUS)
        self.dataChanged.emit(cell, cell)

    def set_model_names(self, names: dict[str, str]) -> None:
        """Show the catalogue's human model names (the id stays in the tooltip)."""
        names = {model_id: name for model_id, name in names.items() if name and name != model_id}
        if names == self._model_names:
            return
        self._model_names = names
        if self._jobs:
            top, bottom = self.index(0, Column.MODEL), self.index(len(self._jobs) - 1, Column.MODEL)
            self.dataChanged.emit(top, bottom)

    def model_name(self, model_id: str) -> str:
        """The human name of a model id (the id itself when the catalogue has none)."""
        return self._model_names.get(model_id, model_id)

    def start_ticking(self) -> None:
        """Refresh countdowns and elapsed times of active rows every second."""
        self._ticker.start()

    def stop_ticking(self) -> None:
        """Stop the one-second refresh."""
        self._ticker.stop()

    def _track(self, job: Job) -> None:
        if is_active(job):
            self._active.add(job.local_id)
        else:
            self._active.discard(job.local_id)

    def tick(self) -> None:
        """Emit ``dataChanged`` for the Status and Elapsed cells of rows with work under way."""
        for row in sorted(self._rows[local_id] for local_id in self._active):
            for column in (Column.STATUS, Column.ELAPSED):
                cell = self.index(row, column)
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole, ProgressRole])
        self.ticked.emit()

    def _on_thumbnail(self, local_id: str) -> None:
        row = self._rows.get(local_id)
        if row is not None:
            cell = self.index(row, Column.THUMBNAIL)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])

    # -- Qt model API -------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of listed jobs (a flat table: no children)."""
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of columns."""
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Rows are selectable, never editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[column]
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.THUMBNAIL:
            return "Thumbnail"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell values for every role the views use."""
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        column = Column(index.column())
        if role == JobRole:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column)
        if role == SortRole:
            return self.sort_key(column)(job)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.THUMBNAIL:
            return self._thumbnail(job)
        if role == ProgressRole and column is Column.STATUS:
            return self._progress(job)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATUS:
            return QBrush(status_colour(job.state))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _CENTRED:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column in _CENTRED:
                return self._tooltip(job, column)
            return self._display(job, column) or HEADERS[column]
        return None

    # -- cell contents ------------------------------------------------------------------------

    def _display(self, job: Job, column: Column) -> str:
        params = job.params
        match column:
            case Column.THUMBNAIL:
                return ""
            case Column.PROMPT:
                line = " ".join(params.prompt.split())
                return line if len(line) <= _PROMPT_CHARS else line[: _PROMPT_CHARS - 1] + "…"
            case Column.MODEL:
                return self._model_names.get(params.model, params.model)
            case Column.DURATION:
                return f"{params.duration} s"
            case Column.ASPECT:
                shape = params.size or params.aspect_ratio or "default"  # size-only models
                if params.resolution:
                    return f"{shape} · {params.resolution}"
                return shape
            case Column.STATUS:
                return self.status_line(job)
            case Column.CREATED:
                return time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
            case Column.ELAPSED:
                return format_elapsed(self._elapsed(job))
            case Column.COST:
                return job_charge(job).text or "—"
            case Column.KEPT:
                return KEPT_MARK if job.kept else ""
            case Column.RATING:
                return stars(job.rating)
        return ""  # pragma: no cover - every column is matched

    def status_line(self, job: Job) -> str:
        """The Status cell's words: state, progress and when the next check is due."""
        text = job.status_text
        if job.state is JobState.COMPLETED:
            return text + self._download_words(job)
        if job.terminal:
            return f"{text} · reviewed" if job.reviewed else text
        if job.auth_blocked:
            return f"{text} · paused (API key refused)"
        if self._owns is not None and not self._owns(job):
            return f"{text} · made on another gateway, not checked now"
        parts = [text]
        if job.progress:
            parts.append(f"{job.progress}%")
        if job.next_poll_at is not None and job.state is not JobState.SUBMITTING:
            seconds = math.ceil(job.next_poll_at - self._clock())
            parts.append(f"next check in {seconds} s" if seconds > 0 else "checking…")
        return " · ".join(parts)

    def _download_words(self, job: Job) -> str:
        if job.download is DownloadState.ACTIVE:
            done, total = self._download.get(job.local_id, (0, None))
            percent = _percent(done, total)
            return f" · downloading {percent}%" if percent is not None else " · downloading…"
        if job.download is DownloadState.PENDING:
            return " · download waiting"
        if job.download is DownloadState.FAILED:
            return " · download failed"
        if job.deleted_on_server:
            return " · deleted on server"
        return ""

    def _progress(self, job: Job) -> int | None:
        if job.download is DownloadState.ACTIVE:
            percent = _percent(*self._download.get(job.local_id, (0, None)))
            return percent if percent is not None else 0
        if job.terminal or job.auth_blocked:
            return None
        return max(0, min(100, job.progress or 0))

    def _elapsed(self, job: Job) -> float:
        end = job.finished_at if job.terminal and job.finished_at else self._clock()
        return max(0.0, end - job.created_at)

    def sort_key(self, column: Column) -> Callable[[Job], Any]:
        """How ``column`` sorts: a function of a job giving its :data:`SortRole` value.

        Times, durations, money and ratings sort as numbers, states by their names, the other
        columns by their words ignoring case. The proxy sorts every row with it at once.
        """
        if column is Column.ELAPSED:
            return self._elapsed
        return _SORT_KEYS.get(column) or (lambda job: self._display(job, column).casefold())

    def _tooltip(self, job: Job, column: Column) -> str:
        if column is Column.PROMPT:
            prompt = job.params.prompt
            if len(prompt) > _TOOLTIP_CHARS:
                prompt = prompt[:_TOOLTIP_CHARS] + "…"
            return prompt
        if column is Column.STATUS:
            return self._status_tooltip(job)
        if column is Column.COST:
            return _cost_tooltip(job)
        if column is Column.MODEL:
            name = self._model_names.get(job.params.model)
            return f"{name}\n{job.params.model}" if name else job.params.model
        if column is Column.KEPT:
            return "Kept" if job.kept else "Not kept (K keeps it)"
        if column is Column.RATING:
            return f"{job.rating} of {MAX_RATING} stars" if job.rating else "Not rated (keys 1-5)"
        return self._display(job, column)

    def _status_tooltip(self, job: Job) -> str:
        """The status, the failure's class, cause and next step, and the provider's words."""
        lines = [self.status_line(job)]
        verdict = verdict_for(job)
        if verdict is not None:
            lines.append(f"{verdict.heading}: {verdict.cause}")
            lines.append(f"Next step: {verdict.next_step}")
            lines.extend(_clip(line) for line in verdict.provider_words)
        elif job.problem or job.download_problem:
            lines.append(_clip(job.problem or job.download_problem or ""))
        if verdict is not None and job.download_problem:
            lines.append(_clip(job.download_problem))
        return "\n".join(lines)

    def _thumbnail(self, job: Job) -> QPixmap | None:
        if self._thumbnails is None:
            return None
        return self._thumbnails.pixmap(job)


def _clip(text: str) -> str:
    return text if len(text) <= _TOOLTIP_CHARS else text[:_TOOLTIP_CHARS] + "…"


def _percent(done: int, total: int | None) -> int | None:
    if not total or total <= 0:
        return None
    return max(0, min(100, done * 100 // total))
