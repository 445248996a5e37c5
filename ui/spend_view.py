"""The Spend view: what generating has cost, by period and by model, with CSV export.

It shows today, this week, this month and in all; by model; settled bills apart from
estimates not settled yet; the most expensive jobs.

Every figure comes from the journal (so it works offline); the summing runs on a worker thread
(:class:`ui.spend_tracker.SpendTracker`) and this window only shows the result.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.ledger import PERIOD_LABELS, PERIODS, SpendSummary, Totals
from core.money import format_usd

ALL_TIME = "All time"
_MONEY_COLUMNS = ("Settled", "Not settled yet", "Total", "Jobs", "Not charged")


def _table(name: str, accessible: str, headers: tuple[str, ...], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setAccessibleName(accessible)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _cell(text: str, *, number: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if number:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _money_row(totals: Totals) -> list[QTableWidgetItem]:
    return [
        _cell(format_usd(totals.settled), number=True),
        _cell(format_usd(totals.estimated), number=True),
        _cell(format_usd(totals.total), number=True),
        _cell(str(totals.jobs), number=True),
        _cell(str(totals.void_jobs), number=True),
    ]


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]]) -> None:
    table.setRowCount(len(rows))
    for row, items in enumerate(rows):
        for column, item in enumerate(items):
            table.setItem(row, column, item)


class SpendView(QDialog):
    """A window of spend figures; ``month_chosen`` asks for by-model and top jobs of a month."""

    #: ``YYYY-MM``, or None for all time.
    month_chosen = Signal(object)
    #: The person asked to export the chosen span as CSV.
    export_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, note: str = "") -> None:
        """Build the tables, empty until figures arrive; ``note`` is shown above them."""
        super().__init__(parent)
        self.setObjectName("spendView")
        self.setAccessibleName("Spend")
        self.setWindowTitle("Spend")
        self.heading = QLabel(
            "Settled bills and estimates not settled yet, from the job journal.", self
        )
        self.heading.setObjectName("spendHeading")
        self.heading.setWordWrap(True)
        self.note = QLabel(note, self)
        self.note.setObjectName("spendNote")
        self.note.setWordWrap(True)
        self.note.setVisible(bool(note))
        self.periods = _table("spendPeriods", "Spend by period", ("", *_MONEY_COLUMNS), self)
        self.month_combo = QComboBox(self)
        self.month_combo.setObjectName("spendMonthCombo")
        self.month_combo.setAccessibleName("Month to break down")
        self.month_combo.addItem(ALL_TIME, None)
        self.month_combo.currentIndexChanged.connect(
            lambda _index: self.month_chosen.emit(self.month_combo.currentData())
        )
        self.by_model = _table("spendByModel", "Spend by model", ("Model", *_MONEY_COLUMNS), self)
        self.top = _table(
            "spendTopJobs",
            "Most expensive jobs",
            ("Created", "Model", "Bill", "Amount", "Prompt"),
            self,
        )
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("spendExportButton")
        self.export_button.setAccessibleName("Export spend as CSV")
        self.export_button.clicked.connect(
            lambda: self.export_requested.emit(self.month_combo.currentData())
        )
        self.status = QLabel(self)
        self.status.setObjectName("spendStatus")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)

        span_row = QHBoxLayout()
        span_row.addWidget(QLabel("Break down:", self))
        span_row.addWidget(self.month_combo)
        span_row.addStretch(1)
        span_row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.periods)
        layout.addLayout(span_row)
        layout.addWidget(QLabel("By model", self))
        layout.addWidget(self.by_model, 1)
        layout.addWidget(QLabel("Most expensive jobs", self))
        layout.addWidget(self.top, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(760, 620)

    def set_months(self, months: list[str]) -> None:
        """Offer these months (``YYYY-MM``, newest first) besides all time; keep the choice."""
        chosen = self.month_combo.currentData()
        self.month_combo.blockSignals(True)
        self.month_combo.clear()
        self.month_combo.addItem(ALL_TIME, None)
        for month in months:
            label = datetime.strptime(month, "%Y-%m").strftime("%B %Y")
            self.month_combo.addItem(label, month)
        position = self.month_combo.findData(chosen) if chosen else 0
        self.month_combo.setCurrentIndex(max(0, position))
        self.month_combo.blockSignals(False)

    def show_summary(self, summary: SpendSummary) -> None:
        """Fill every table from ``summary``."""
        _fill(
            self.periods,
            [[_cell(PERIOD_LABELS[name]), *_money_row(summary.periods[name])] for name in PERIODS],
        )
        _fill(
            self.by_model,
            [[_cell(model), *_money_row(totals)] for model, totals in summary.by_model.items()],
        )
        top_rows = []
        for record in summary.top:
            created = datetime.fromtimestamp(record.created_at).strftime("%Y-%m-%d %H:%M")
            top_rows.append(
                [
                    _cell(created),
                    _cell(record.model),
                    _cell(record.charge.kind.value),
                    _cell(record.charge.text, number=True),
                    _cell(record.prompt),
                ]
            )
        _fill(self.top, top_rows)
        span = summary.span
        self.status.setText(
            f"{summary.span_label}: {format_usd(span.settled)} settled, "
            f"{format_usd(span.estimated)} not settled yet, over {span.jobs} job(s)."
        )

    def show_message(self, text: str) -> None:
        """A line under the tables (export done, export failed...)."""
        self.status.setText(text)
