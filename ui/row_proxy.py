"""A flat proxy model that shows a list of source rows, in the order the list gives.

:class:`RowListProxy` maps between its rows and the source's (``_rows`` holds the visible
source rows in display order) and answers the read-only model API from the source model.
A subclass decides which rows show and in what order (``ui.jobs_proxy``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()


class RowListProxy(QAbstractProxyModel):
    """Shows the source rows listed in ``_rows``, in that order (a flat table)."""

    def __init__(self, parent: QObject | None = None) -> None:
        """Start with no rows shown."""
        super().__init__(parent)
        #: The visible source rows, in display order.
        self._rows: list[int] = []
        #: Source row -> proxy row (-1 hidden); rebuilt lazily after structural changes.
        self._proxy_of: list[int] | None = None

    def _known_rows(self) -> int:
        """How many source rows the proxy knows of (the source may be ahead mid-update)."""
        model = self.sourceModel()
        return 0 if model is None else model.rowCount()

    def _proxy_map(self) -> list[int]:
        if self._proxy_of is None:
            mapping = [-1] * self._known_rows()
            for proxy_row, source_row in enumerate(self._rows):
                mapping[source_row] = proxy_row
            self._proxy_of = mapping
        return self._proxy_of

    def _source_row(self, proxy_row: int) -> int:
        return self._rows[proxy_row] if 0 <= proxy_row < len(self._rows) else -1

    def _moved(self, index: QModelIndex, source_row: int) -> QModelIndex:
        if source_row < 0:
            return QModelIndex()
        proxy_row = self._proxy_map()[source_row]
        return self.index(proxy_row, index.column()) if proxy_row >= 0 else QModelIndex()

    def mapToSource(self, proxy_index: Index) -> QModelIndex:
        """The source index behind a proxy index."""
        model = self.sourceModel()
        if model is None or not proxy_index.isValid():
            return QModelIndex()
        row = self._source_row(proxy_index.row())
        return model.index(row, proxy_index.column()) if row >= 0 else QModelIndex()

    def mapFromSource(self, source_index: Index) -> QModelIndex:
        """The proxy index showing a source index (invalid when filtered out)."""
        if not source_index.isValid() or source_index.row() >= self._known_rows():
            return QModelIndex()
        proxy_row = self._proxy_map()[source_index.row()]
        if proxy_row < 0:
            return QModelIndex()
        return self.index(proxy_row, source_index.column())

    def index(self, row: int, column: int, parent: Index = _NO_INDEX) -> QModelIndex:
        """A flat table: rows and columns under the invisible root."""
        if parent.isValid() or not 0 <= row < len(self._rows):
            return QModelIndex()
        if not 0 <= column < self.columnCount():
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: Index | None = None) -> Any:
        """No item has a parent (without an argument: the QObject parent)."""
        if child is None:
            return QObject.parent(self)
        return QModelIndex()

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        """Visible rows."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        """The source model's columns."""
        model = self.sourceModel()
        return 0 if parent.isValid() or model is None else model.columnCount()

    def hasChildren(self, parent: Index = _NO_INDEX) -> bool:
        """Only the root has children, when some row is visible."""
        return not parent.isValid() and bool(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The source model's value for the mapped cell."""
        model = self.sourceModel()
        if model is None or not index.isValid():
            return None
        row = self._source_row(index.row())
        return None if row < 0 else model.data(model.index(row, index.column()), role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles come from the source model unchanged."""
        model = self.sourceModel()
        if model is None or orientation != Qt.Orientation.Horizontal:
            return None
        return model.headerData(section, orientation, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """The source model's flags for the mapped cell."""
        model = self.sourceModel()
        if model is None or not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return model.flags(self.mapToSource(index))
