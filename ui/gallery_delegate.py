"""Paints one gallery card: the clip's picture, its status and what describes it.

The card holds the clip's picture in its own aspect ratio, a status badge, the duration, the
model's name, the cost, the prompt, the rating and the keep mark.

Cards share a height; their width follows the clip's aspect ratio (a 9:16 clip gets a
narrow card, a 16:9 one a wide card) within limits that leave room for the text. While the
pointer is over a card, the gallery tells the delegate where (see
:class:`ui.gallery_view.GalleryView`) and the card shows the frame at that point of the clip.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from core.jobs import Job, JobState
from ui.gallery_frames import GalleryFrames
from ui.jobs_model import KEPT_MARK, Column, JobRole, ProgressRole, stars
from ui.theme import app_theme

Index = QModelIndex | QPersistentModelIndex

#: The picture area's height; the card's width follows the clip's aspect ratio.
PICTURE_HEIGHT = 120
MIN_WIDTH = 150
MAX_WIDTH = 260
PADDING = 6
TEXT_LINES = 2
_RADIUS = 6.0


def aspect_of(job: Job) -> float:
    """Width / height of the clip from its parameters (16:9 when unknown)."""
    size = job.params.size or ""
    text = size.replace("x", ":") if size else job.params.aspect_ratio or ""
    width, _, height = text.partition(":")
    try:
        ratio = float(width) / float(height)
    except (ValueError, ZeroDivisionError):
        return 16 / 9
    return ratio if 0.2 <= ratio <= 5 else 16 / 9


def picture_box(job: Job) -> QSize:
    """The size of the clip's picture on its card."""
    width = round(PICTURE_HEIGHT * aspect_of(job))
    height = PICTURE_HEIGHT
    if width > MAX_WIDTH - 2 * PADDING:  # very wide: shrink the height instead
        width = MAX_WIDTH - 2 * PADDING
        height = round(width / aspect_of(job))
    return QSize(width, height)


def _fit(pixmap: QPixmap, area: QRect) -> QRect:
    """The largest rectangle of the pixmap's shape centred in ``area``."""
    size = pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    left = area.left() + (area.width() - size.width()) // 2
    top = area.top() + (area.height() - size.height()) // 2
    return QRect(left, top, size.width(), size.height())


class GalleryDelegate(QStyledItemDelegate):
    """Draws job cards; asks ``scrub_of(index)`` for the pointer's place over the card."""

    def __init__(
        self,
        frames: GalleryFrames | None,
        model_name: Callable[[str], str],
        scrub_of: Callable[[Index], float | None],
        parent: QWidget | None = None,
    ) -> None:
        """Draw posters from ``frames`` and model names from ``model_name(model_id)``."""
        super().__init__(parent)
        self._frames = frames
        self._model_name = model_name
        self._scrub_of = scrub_of

    # -- geometry ----------------------------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Card size: the picture's width (at least room for the text) by picture + text."""
        job = index.data(JobRole)
        box = picture_box(job) if isinstance(job, Job) else QSize(266, PICTURE_HEIGHT)
        width = max(MIN_WIDTH, box.width() + 2 * PADDING)
        line = QFontMetrics(option.font).height()
        return QSize(width, PICTURE_HEIGHT + 3 * PADDING + TEXT_LINES * line)

    # -- painting ----------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """The whole card."""
        job = index.data(JobRole)
        if not isinstance(job, Job):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state = option.state
        colours = app_theme().colours
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(rect.adjusted(2, 2, -2, -2))
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        background = palette.color(
            QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base
        )
        if selected:
            background.setAlpha(70)
        elif hovered:
            background = palette.color(QPalette.ColorRole.AlternateBase)
        path = QPainterPath()
        path.addRoundedRect(card, _RADIUS, _RADIUS)
        painter.fillPath(path, background)
        border = (
            palette.color(QPalette.ColorRole.Highlight) if selected else colours.named("cardBorder")
        )
        painter.setPen(border)
        painter.drawPath(path)

        box = picture_box(job)
        area = QRect(
            rect.left() + (rect.width() - box.width()) // 2,
            rect.top() + PADDING + (PICTURE_HEIGHT - box.height()) // 2,
            box.width(),
            box.height(),
        )
        self._paint_picture(painter, area, job, index, palette)
        self._paint_badge(
            painter, area, job, colours.for_state(job.state), colours.named("badgeText")
        )
        self._paint_duration(
            painter, area, job, colours.named("scrim"), colours.named("overlayText")
        )
        progress = _status_progress(index)
        if progress is not None:
            bar = QRectF(area.left(), area.bottom() - 3, area.width() * progress / 100, 4)
            painter.fillRect(bar, colours.for_state(job.state))
        self._paint_text(painter, rect, job, index, palette, selected)
        painter.restore()

    def _paint_picture(
        self, painter: QPainter, area: QRect, job: Job, index: Index, palette: QPalette
    ) -> None:
        painter.fillRect(area, palette.color(QPalette.ColorRole.Dark))
        pixmap: QPixmap | None = None
        if self._frames is not None:
            fraction = self._scrub_of(index)
            if fraction is not None:
                pixmap = self._frames.frame(job, fraction)
            if pixmap is None:
                pixmap = self._frames.poster(job)
        if pixmap is not None and not pixmap.isNull():
            target = _fit(pixmap, area)
            painter.drawPixmap(target, pixmap)
            return
        if job.state is JobState.COMPLETED:
            words = "Loading…" if job.files else "Not downloaded yet"
        elif job.failure is not None:
            words = job.failure.cause.explanation
        else:
            words = job.status_text
        painter.setPen(palette.color(QPalette.ColorRole.Light))
        painter.drawText(
            area.adjusted(8, 22, -8, -22),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            words,
        )

    @staticmethod
    def _paint_badge(
        painter: QPainter, area: QRect, job: Job, colour: QColor, text_colour: QColor
    ) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        metrics = QFontMetrics(font)
        label = job.state.label if job.state is not JobState.WAITING else job.status_text
        label = metrics.elidedText(label, Qt.TextElideMode.ElideRight, area.width() - 16)
        badge = QRectF(
            area.left() + 4,
            area.top() + 4,
            metrics.horizontalAdvance(label) + 10,
            metrics.height() + 2,
        )
        path = QPainterPath()
        path.addRoundedRect(badge, 4, 4)
        painter.fillPath(path, colour)
        painter.setFont(font)
        painter.setPen(text_colour)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)

    @staticmethod
    def _paint_duration(
        painter: QPainter, area: QRect, job: Job, scrim: QColor, text_colour: QColor
    ) -> None:
        metrics = QFontMetrics(painter.font())
        text = f"{job.params.duration} s"
        width = metrics.horizontalAdvance(text) + 10
        pill = QRectF(
            area.right() - width - 3,
            area.bottom() - metrics.height() - 7,
            width,
            metrics.height() + 2,
        )
        path = QPainterPath()
        path.addRoundedRect(pill, 4, 4)
        painter.fillPath(path, scrim)
        painter.setPen(text_colour)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_text(
        self,
        painter: QPainter,
        rect: QRect,
        job: Job,
        index: Index,
        palette: QPalette,
        selected: bool,
    ) -> None:
        font = painter.font()
        metrics = QFontMetrics(font)
        line = metrics.height()
        left = rect.left() + PADDING + 2
        width = rect.width() - 2 * PADDING - 4
        top = rect.top() + PICTURE_HEIGHT + 2 * PADDING
        text_colour = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        cost = _cell(index, Column.COST)
        cost_width = metrics.horizontalAdvance(cost) + (6 if cost else 0)
        name = metrics.elidedText(
            self._model_name(job.params.model), Qt.TextElideMode.ElideRight, width - cost_width
        )
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(QRect(left, top, width, line), Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(font)
        if cost:
            painter.drawText(QRect(left, top, width, line), Qt.AlignmentFlag.AlignRight, cost)
        marks = " ".join(
            part for part in (KEPT_MARK if job.kept else "", stars(job.rating)) if part
        )
        marks_width = metrics.horizontalAdvance(marks) + (6 if marks else 0)
        prompt = metrics.elidedText(
            " ".join(job.params.prompt.split()), Qt.TextElideMode.ElideRight, width - marks_width
        )
        second = QRect(left, top + line, width, line)
        painter.setPen(muted if not selected else text_colour)
        painter.drawText(second, Qt.AlignmentFlag.AlignLeft, prompt)
        if marks:
            painter.setPen(text_colour)
            painter.drawText(second, Qt.AlignmentFlag.AlignRight, marks)


def _status_progress(index: Index) -> int | None:
    """The Status column's progress for the card's row (the gallery shows another column)."""
    if not index.isValid():
        return None
    value = index.sibling(index.row(), Column.STATUS).data(ProgressRole)
    return int(value) if isinstance(value, int) else None


def _cell(index: Index, column: Column) -> str:
    """The table's words for ``column`` of the card's row ("" for the table's "—")."""
    text = index.sibling(index.row(), column).data() if index.isValid() else None
    return text if isinstance(text, str) and text != "—" else ""
