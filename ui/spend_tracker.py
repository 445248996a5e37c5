"""Keeps the spend figures current for the status bar, the Spend view and the budget guard.

The status bar shows the month against the budget; the Spend view and the budget guard ask
for summaries.

The journal is read once, on a worker thread; after that every job change the engine reports
updates one record in memory, and the totals are summed again on a worker thread (a burst of
changes makes one summing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from core.budget import dollars_setting
from core.jobs import Job
from core.ledger import CostRecord, SpendSummary, Totals, read_records, record_of, summarize
from core.money import format_usd
from ui.offthread import Submit, run_async, run_task
from ui.preferences import Preferences
from ui.theme import set_tone

logger = logging.getLogger(__name__)

#: Sum again this long after the last job change.
DEBOUNCE_MS = 1_500


class SpendTracker(QObject):
    """The ledger's records in memory and the latest summary; safe to use from the GUI thread."""

    #: A new summary is available (``SpendSummary``).
    summary_changed = Signal(object)

    def __init__(
        self,
        journal_path: Path,
        gateway: str,
        preferences: Preferences,
        submit: Submit,
        parent: QWidget,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Track the jobs made on ``gateway`` (``"demo"`` or ``"default"``) in the journal."""
        super().__init__(parent)
        self._path = journal_path
        self._gateway = gateway
        self._preferences = preferences
        self._submit = submit
        self._clock = clock
        self._records: dict[str, CostRecord] | None = None
        self._generation = 0
        self.summary: SpendSummary | None = None
        self.label = QLabel(parent)
        self.label.setObjectName("spendStatusLabel")
        self.label.setAccessibleName("This month's spend")
        self.label.setToolTip("This month's spend: settled bills plus estimates not settled yet")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_now)

    # -- inputs ---------------------------------------------------------------------------------

    def job_changed(self, job: Job) -> None:
        """The engine reported a change: update its record, sum again shortly."""
        if self._records is None:
            return  # the first read is on its way and will include it
        gateway = job.gateway_label
        if gateway != self._gateway:
            return
        record = record_of(job)
        if self._records.get(job.local_id) != record:
            self._records[job.local_id] = record
            self._timer.start()

    def refresh_now(self) -> None:
        """Sum the totals again on a worker thread (reading the journal the first time)."""
        self._generation += 1
        generation = self._generation
        snapshot = None if self._records is None else list(self._records.values())
        run_task(
            self._submit,
            self._compute,
            snapshot,
            None,
            on_result=lambda result: self._on_done(generation, result),
            on_error=self._on_error,
            receiver=self,
        )

    def _compute(
        self, snapshot: list[CostRecord] | None, month: str | None
    ) -> tuple[list[CostRecord], SpendSummary]:
        records = snapshot
        if records is None:
            records = read_records(self._path, gateway=self._gateway)
        return records, summarize(records, self._clock(), month=month)

    def _on_error(self, error: BaseException) -> None:
        logger.warning("Could not add up the spend: %s", error)
        self.label.setText("Spend: not available")

    def _on_done(self, generation: int, result: tuple[list[CostRecord], SpendSummary]) -> None:
        records, summary = result
        if self._records is None:
            self._records = {record.local_id: record for record in records}
        if generation != self._generation:
            return
        self.summary = summary
        self.show_month()
        self.summary_changed.emit(summary)

    # -- outputs --------------------------------------------------------------------------------

    @property
    def month(self) -> Totals:
        """This month's totals as last summed (zero before the first summing)."""
        if self.summary is None:
            return Totals()
        return self.summary.periods["month"]

    def records(self) -> list[CostRecord]:
        """A snapshot of every record (for exports)."""
        return list((self._records or {}).values())

    async def summarize(self, month: str | None = None) -> SpendSummary:
        """A fresh summary, off the GUI thread (``month``: by model and top jobs of that month)."""
        snapshot = None if self._records is None else list(self._records.values())
        records, summary = await run_async(self._submit, self._compute, snapshot, month)
        if self._records is None:
            self._records = {record.local_id: record for record in records}
        return summary

    def show_month(self) -> None:
        """Put this month's spend (against the budget, when one is set) in the status bar."""
        if self.summary is None:
            return
        month = self.month
        budget = dollars_setting(self._preferences.monthly_budget)
        text = f"This month: {format_usd(month.total)}"
        if month.estimated:
            text += f" ({format_usd(month.estimated)} not settled yet)"
        over = False
        if budget is not None:
            text += f" of {format_usd(budget)} budget"
            over = month.total > budget
        if self._gateway == "demo":
            text += " — demo, nothing billed"
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        set_tone(self.label, "problem" if over else None)
