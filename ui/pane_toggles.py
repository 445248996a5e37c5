"""Collapse and bring back the composer and the preview pane, leaving room for the job list.

Each pane sits in a ``QSplitter``; hiding it gives its width to its neighbour and showing
it again restores the width it had. Dragging a splitter handle to the edge collapses a pane
too, and the toggle follows. The splitters' saved state (see ``MainWindow.save_state``)
remembers collapsed panes across restarts.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSplitter, QToolBar, QWidget


class PaneToggle(QObject):
    """A checkable action that shows or collapses one pane of a two-pane splitter."""

    def __init__(
        self,
        splitter: QSplitter,
        index: int,
        action: QAction,
        default_width: int,
        parent: QObject | None = None,
    ) -> None:
        """Let ``action`` show or collapse pane ``index`` of ``splitter``."""
        super().__init__(parent)
        self.splitter = splitter
        self.index = index
        self.action = action
        self._width = default_width
        splitter.setCollapsible(index, True)
        action.setCheckable(True)
        action.setChecked(True)
        action.toggled.connect(self.set_shown)
        splitter.splitterMoved.connect(lambda *_: self.sync())

    @property
    def shown(self) -> bool:
        """Whether the pane has any width."""
        return self.splitter.sizes()[self.index] > 0

    def set_shown(self, shown: bool) -> None:
        """Collapse the pane, or give it back the width it had."""
        sizes = self.splitter.sizes()
        other = 1 - self.index
        if shown == (sizes[self.index] > 0):
            return
        if shown:
            wanted = min(self._width, max(0, sizes[other] - 200))
            sizes[self.index] = wanted
            sizes[other] -= wanted
        else:
            self._width = sizes[self.index]
            sizes[other] += sizes[self.index]
            sizes[self.index] = 0
        self.splitter.setSizes(sizes)
        self.sync()

    def sync(self) -> None:
        """Make the action's tick match the pane (after a drag or a restored layout)."""
        shown = self.shown
        if shown:
            self._width = self.splitter.sizes()[self.index]
        if self.action.isChecked() != shown:
            self.action.blockSignals(True)
            self.action.setChecked(shown)
            self.action.blockSignals(False)


def add_pane_toggles(
    window: QWidget,
    composer_splitter: QSplitter,
    detail_splitter: QSplitter,
    toolbar: QToolBar,
    widths: tuple[int, int],
) -> tuple[PaneToggle, PaneToggle]:
    """Toolbar toggles for the composer (F7) and the preview pane (F8).

    The composer is the first pane of ``composer_splitter``, the preview the second of
    ``detail_splitter``; the keys work anywhere in ``window``.

    ``widths`` are the panes' widths when shown again before they had any of their own.
    """
    composer = pane_action(
        window, "Composer", "toggleComposerAction", "F7", "Show or hide the composer"
    )
    detail = pane_action(
        window, "Preview pane", "toggleDetailAction", "F8", "Show or hide the preview pane"
    )
    toolbar.addSeparator()
    for action in (composer, detail):
        toolbar.addAction(action)
        window.addAction(action)
    return (
        PaneToggle(composer_splitter, 0, composer, widths[0], window),
        PaneToggle(detail_splitter, 1, detail, widths[1], window),
    )


def pane_action(parent: QObject, text: str, name: str, keys: str, tip: str) -> QAction:
    """A checkable "show this pane" action with its key in the tooltip."""
    action = QAction(text, parent)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(keys))
    native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({native})")
    return action
