"""The job table's columns: default widths, which are shown, and the header's show/hide menu.

The prompt column takes whatever width is left, so the table never scrolls sideways: at
1280x800 the prompt, model, duration, status, cost, keep and rating columns fit beside the
composer and the preview. The picture (the Gallery shows clips), Aspect, Created and Elapsed
start hidden; the header's context menu shows or hides any column but the prompt, and the
header remembers the choice.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHeaderView, QMenu, QTableView

from ui.jobs_model import HEADERS, Column

#: Widths before the person resizes anything (the prompt stretches instead).
DEFAULT_WIDTHS: dict[Column, int] = {
    Column.THUMBNAIL: 60,
    Column.PROMPT: 160,
    Column.MODEL: 120,
    Column.DURATION: 62,
    Column.ASPECT: 80,
    Column.STATUS: 140,
    Column.CREATED: 116,
    Column.ELAPSED: 76,
    Column.COST: 64,
    Column.KEPT: 42,
    Column.RATING: 70,
}
#: The Gallery shows the pictures; the table stays a compact list of words by default.
HIDDEN_BY_DEFAULT = frozenset({Column.THUMBNAIL, Column.ASPECT, Column.CREATED, Column.ELAPSED})
#: Names for the show/hide menu (the thumbnail column has no title of its own).
_MENU_NAMES = {**{column: text for column, text in HEADERS.items()}, Column.THUMBNAIL: "Picture"}


def set_up_columns(table: QTableView) -> None:
    """Default widths, order and visibility, and the header's show/hide menu."""
    header = table.horizontalHeader()
    header.setSectionsMovable(True)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(36)
    for column, width in DEFAULT_WIDTHS.items():
        header.resizeSection(column, width)
    for column in HIDDEN_BY_DEFAULT:
        header.setSectionHidden(column, True)
    # The status matters most: by default it follows the prompt (columns can be moved).
    header.moveSection(header.visualIndex(Column.STATUS), Column.PROMPT + 1)
    fit_prompt(table)
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.customContextMenuRequested.connect(lambda point: show_column_menu(table, point))


def fit_prompt(table: QTableView) -> None:
    """The prompt column takes the width the other columns leave (also after a restore)."""
    header = table.horizontalHeader()
    header.setSectionHidden(Column.PROMPT, False)
    header.setSectionResizeMode(Column.PROMPT, QHeaderView.ResizeMode.Stretch)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)


def column_actions(table: QTableView, parent: QMenu) -> list[QAction]:
    """One checkable action per column that can be hidden, in the table's visual order."""
    header = table.horizontalHeader()
    actions = []
    for visual in range(header.count()):
        column = Column(header.logicalIndex(visual))
        if column is Column.PROMPT:
            continue
        action = QAction(_MENU_NAMES[column], parent)
        action.setObjectName(f"showColumn{column.name.title()}Action")
        action.setCheckable(True)
        action.setChecked(not header.isSectionHidden(column))
        action.toggled.connect(
            lambda shown, section=column: header.setSectionHidden(section, not shown)
        )
        actions.append(action)
    return actions


def show_column_menu(table: QTableView, point: QPoint) -> QMenu:
    """The header's menu: tick the columns to show."""
    header = table.horizontalHeader()
    menu = QMenu(header)
    menu.setObjectName("columnMenu")
    menu.setTitle("Columns")
    for action in column_actions(table, menu):
        menu.addAction(action)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.popup(header.mapToGlobal(point))
    return menu
