"""A job's status timeline: one row per journal event, the gateway's raw answer on expanding."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from core.journal import JournalEvent

COLUMNS = ("Time", "Event", "State", "HTTP", "Request id", "Note")
COL_TIME, COL_KIND, COL_STATE, COL_HTTP, COL_REQUEST, COL_NOTE = range(len(COLUMNS))
#: Tooltips stay readable; the full answer is in the expandable child row.
_TOOLTIP_CHARS = 1500
#: Raw answers are kept verbatim in the journal but a huge one must not freeze the panel.
_RAW_CHARS = 200_000


def format_moment(moment: float) -> str:
    """Local date and time of a journal stamp, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def raw_text(raw: object) -> str:
    """The gateway's answer as pretty JSON (text answers verbatim)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        text = raw
    else:
        text = json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _RAW_CHARS else text[:_RAW_CHARS] + "\n… (truncated)"


class TimelineView(QTreeWidget):
    """Lists a job's journal events; expanding a row shows the raw response it recorded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build an empty, read-only event list."""
        super().__init__(parent)
        self.setObjectName("timelineView")
        self.setAccessibleName("Status timeline")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(False)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)

    def set_events(self, events: Sequence[JournalEvent]) -> None:
        """Replace the rows with ``events`` (oldest first, as the journal returns them)."""
        self.clear()
        for event in events:
            item = QTreeWidgetItem(
                [
                    format_moment(event.at),
                    event.kind,
                    event.state,
                    "" if event.http_status is None else str(event.http_status),
                    event.request_id or "",
                    event.note or "",
                ]
            )
            text = raw_text(event.raw)
            if text:
                tip = text if len(text) <= _TOOLTIP_CHARS else text[:_TOOLTIP_CHARS] + "\n…"
                for column in range(len(COLUMNS)):
                    item.setToolTip(column, tip)
                child = QTreeWidgetItem([text])
                child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.addChild(child)
            if event.note:
                item.setToolTip(COL_NOTE, event.note)
            self.addTopLevelItem(item)
            raw = item.child(0) if item.childCount() else None
            if raw is not None:
                raw.setFirstColumnSpanned(True)  # only works once in the tree
        for column in range(len(COLUMNS) - 1):
            self.resizeColumnToContents(column)

    def row_texts(self) -> list[tuple[str, ...]]:
        """Every top-level row's cells (for tests and copy)."""
        rows = []
        for index in range(self.topLevelItemCount()):
            item = self.topLevelItem(index)
            if item is not None:
                rows.append(tuple(item.text(column) for column in range(len(COLUMNS))))
        return rows

    def raw_for_row(self, row: int) -> str:
        """The raw answer shown under a row (empty when none was recorded)."""
        item = self.topLevelItem(row)
        raw = item.child(0) if item is not None and item.childCount() else None
        return raw.text(0) if raw is not None else ""
