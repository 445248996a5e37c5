"""Rating and keeping clips: the Keep toggle and the 0-5 star actions, with their keys.

The actions are declared once and shown in the toolbar-less places a creator picks from:
the context menu of the table and of the gallery, and the keys 1-5, 0 and K while one of
those views has the focus. The work (a journal write) runs through the controller off the
GUI thread; the row repaints when the engine reports the change.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from core.jobs import MAX_RATING, Job
from ui.jobs_model import stars

Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class PickActions(QObject):
    """The Keep and Rate actions for the selected job."""

    def __init__(
        self,
        selected: Callable[[], Job | None],
        set_rating: Callable[[str, int], Coroutine[Any, Any, Any]],
        set_kept: Callable[[str, bool], Coroutine[Any, Any, Any]],
        spawn: Spawn,
        parent: QObject | None = None,
    ) -> None:
        """Build the Keep and Rate actions acting on ``selected()`` through the given calls."""
        super().__init__(parent)
        self._selected = selected
        self._set_rating = set_rating
        self._set_kept = set_kept
        self._spawn = spawn
        self.keep = QAction("Keep", self)
        self.keep.setObjectName("keepAction")
        self.keep.setCheckable(True)
        self.keep.setShortcut(QKeySequence("K"))
        self.keep.setToolTip("Keep this clip (K)")
        self.keep.triggered.connect(self.toggle_keep)
        self.rate_group = QActionGroup(self)
        self.rate_group.setExclusive(True)
        self.rate: list[QAction] = []
        for rating in range(MAX_RATING + 1):
            text = f"{stars(rating)}  ({rating})" if rating else "Not rated"
            action = QAction(text, self.rate_group)
            action.setObjectName(f"rate{rating}Action")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(str(rating)))
            action.setToolTip(f"Rate {rating} of {MAX_RATING}" if rating else "Clear the rating")
            action.triggered.connect(lambda _checked=False, value=rating: self.rate_selected(value))
            self.rate.append(action)
        self.update_enabled(None)

    @property
    def actions(self) -> list[QAction]:
        """Every action (for adding to a view so its keys work there)."""
        return [self.keep, *self.rate]

    def attach(self, view: QWidget) -> None:
        """Make the keys work while ``view`` (a table or the gallery) has the focus.

        Digits and K type text elsewhere (the prompt, the search box), so the keys are
        scoped to the view.
        """
        for action in self.actions:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            view.addAction(action)

    def update_enabled(self, job: Job | None) -> None:
        """Reflect ``job``'s marks in the checked states (and disable without a job)."""
        for action in self.actions:
            action.setEnabled(job is not None)
        self.keep.setChecked(job is not None and job.kept)
        self.rate[job.rating if job is not None else 0].setChecked(True)

    def add_to(self, menu: QMenu) -> None:
        """Add "Keep" and a "Rating" submenu to a context menu."""
        menu.addAction(self.keep)
        rating = menu.addMenu("Rating")
        rating.setObjectName("ratingMenu")
        for action in self.rate:
            rating.addAction(action)

    def toggle_keep(self) -> None:
        """Keep the selected clip, or stop keeping it."""
        job = self._selected()
        if job is not None:
            self._spawn(self._set_kept(job.local_id, not job.kept))

    def rate_selected(self, rating: int) -> None:
        """Give the selected clip ``rating`` stars (0 clears)."""
        job = self._selected()
        if job is not None and job.rating != rating:
            self._spawn(self._set_rating(job.local_id, rating))
