"""The Gallery: the job list as cards of clip pictures, scrubbed by moving the pointer across.

It is a ``QListView`` in icon mode over the job table's own filter proxy and selection
model, so the filter, the minimum rating, the search and the selected job are the same in
both views, and every action works on what is selected in either.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
)
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from core.jobs import Job
from ui.gallery_delegate import GalleryDelegate
from ui.gallery_frames import GalleryFrames
from ui.jobs_model import Column, JobRole
from ui.jobs_proxy import JobsFilterProxy
from ui.theme import app_theme

Index = QModelIndex | QPersistentModelIndex
SelectionFlag = QItemSelectionModel.SelectionFlag


class GalleryView(QListView):
    """Cards in rows that wrap with the width; hover or drag across a card to scrub it."""

    def __init__(
        self,
        proxy: JobsFilterProxy,
        selection: QItemSelectionModel,
        frames: GalleryFrames | None,
        model_name: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        """Show ``proxy``'s rows as cards sharing the table's ``selection``."""
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.setAccessibleName("Gallery")
        self.setAccessibleDescription(
            "Clips as pictures. Move the pointer across a picture to scrub through the clip."
        )
        self.frames = frames
        #: Whether the gallery was ever shown: until then it lays nothing out.
        self._shown = False
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(6)
        self.setUniformItemSizes(False)
        self.setDragEnabled(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setModel(proxy)
        self.setModelColumn(Column.PROMPT)
        self.setSelectionModel(selection)
        self._scrub_index = QPersistentModelIndex()
        self._scrub_fraction = 0.0
        self.setItemDelegate(GalleryDelegate(frames, model_name, self.scrub_of, self))
        if frames is not None:
            frames.frames_ready.connect(self._on_frames_ready)
        app_theme().changed.connect(self.viewport().update)

    # -- scrubbing -------------------------------------------------------------------------

    def scrub_of(self, index: Index) -> float | None:
        """Where across ``index``'s card the pointer is (0.0-1.0), or ``None`` if not over it."""
        if not self._scrub_index.isValid() or index.row() != self._scrub_index.row():
            return None
        return self._scrub_fraction

    def scrubbed_job(self) -> Job | None:
        """The job whose card is being scrubbed, if any."""
        if not self._scrub_index.isValid():
            return None
        job = self._scrub_index.data(JobRole)
        return job if isinstance(job, Job) else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Scrub the card under the pointer (with or without a button held)."""
        self._scrub_at(event.position().toPoint())
        super().mouseMoveEvent(event)

    def _scrub_at(self, point: QPoint) -> None:
        index = self.indexAt(point)
        previous = QPersistentModelIndex(self._scrub_index) if self._scrub_index.isValid() else None
        if not index.isValid():
            self._clear_scrub()
            return
        rect = self.visualRect(index)
        fraction = (point.x() - rect.left()) / max(1, rect.width() - 1)
        fraction = min(max(fraction, 0.0), 1.0)
        same = previous is not None and previous.row() == index.row()
        if same and abs(fraction - self._scrub_fraction) < 1e-3:
            return
        self._scrub_index = QPersistentModelIndex(index)
        self._scrub_fraction = fraction
        if previous is not None and not same:
            self.update(previous)
        self.update(index)

    def _clear_scrub(self) -> None:
        if self._scrub_index.isValid():
            index = self._scrub_index
            self._scrub_index = QPersistentModelIndex()
            self.update(index)

    def viewportEvent(self, event: QEvent) -> bool:
        """Leaving the cards shows every card's poster again."""
        if event.type() == QEvent.Type.Leave:
            self._clear_scrub()
        return super().viewportEvent(event)

    # -- layout ------------------------------------------------------------------------------

    def doItemsLayout(self) -> None:
        """Lay out the cards, once the gallery has been shown (see :meth:`setVisible`).

        Behind the table, it would otherwise measure every card of the first page while the
        window is being built: about 40 ms with 500 jobs.
        """
        if self._shown:
            super().doItemsLayout()

    def setVisible(self, visible: bool) -> None:
        """Show or hide the gallery; shown, its cards are laid out (before their first use)."""
        super().setVisible(visible)
        if visible and not self._shown:
            self._shown = True
            self.scheduleDelayedItemsLayout()

    def _on_frames_ready(self, _local_id: str) -> None:
        self.viewport().update()

    # -- selection ---------------------------------------------------------------------------

    def selectionCommand(
        self, index: Index, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        """Select whole rows, as the table does (they share one selection model)."""
        return super().selectionCommand(index, event) | SelectionFlag.Rows
