"""Costs in the main window: the estimate, the month's spend, the Spend view, the checks.

The composer's estimate, the month's spend in the status bar, the Spend view (toolbar and
Ctrl+Shift+B), and the budget and threshold checks before a submit.

Features that send jobs (a single submit, batches, compare sets) are handed ``costs.guard``
and call ``guard.approve(params_list)`` before sending. The window places :attr:`Costs.action`
in the toolbar and :attr:`Costs.tracker`'s label in the status bar.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from core.catalogue import ModelInfo, find_model
from core.estimate import Estimate
from core.job_sets import price_query
from core.jobs import JobParams
from core.ledger import SpendSummary, months_of, save_text, to_csv
from core.money import NANOS_PER_USD
from core.pricing_client import PriceSource
from ui.action_ports import StatusSink
from ui.composer import Composer
from ui.controller import Controller
from ui.cost_estimate import CostEstimate
from ui.cost_guard import CostGuard
from ui.offthread import run_async
from ui.spend_tracker import SpendTracker

if TYPE_CHECKING:
    from ui.spend_view import SpendView

logger = logging.getLogger(__name__)

SPEND_SHORTCUT = "Ctrl+Shift+B"
DEMO_NOTE = "Demo mode: these are the demo gateway's prices; nothing is billed."


class Costs(QObject):
    """Owns the price source, the estimate line, the spend tracker, the guard and the view."""

    def __init__(
        self, controller: Controller, composer: Composer, status: StatusSink, parent: QWidget
    ) -> None:
        """Price ``composer``'s form and tell refusals and exports to ``status``.

        ``parent`` owns the dialogs and the Spend view.
        """
        super().__init__(parent)
        self._parent = parent
        self._composer = composer
        self._status = status
        context = controller.context
        preferences = controller.preferences
        self._controller = controller
        self._demo = context.runs_demo_gateway
        self.prices = PriceSource(context.client)
        self.estimate = CostEstimate(
            self.prices,
            controller.run_background,
            lambda: (composer.params(), composer.current_model()),
            composer,
            note=DEMO_NOTE if self._demo else "",
        )
        composer.cost_slot.addWidget(self.estimate.label)
        composer.changed.connect(self.estimate.schedule)
        self.tracker = SpendTracker(
            context.journal.path,
            "demo" if self._demo else "default",
            preferences,
            controller.run_background,
            parent,
        )
        controller.job_changed.connect(self.tracker.job_changed, Qt.ConnectionType.QueuedConnection)
        self.tracker.summary_changed.connect(self._on_summary)
        self.guard = CostGuard(parent, preferences, self.tracker, self.estimate_params)
        self.action = QAction("Spend…", parent)
        self.action.setObjectName("spendAction")
        self.action.setShortcut(QKeySequence(SPEND_SHORTCUT))
        keys = QKeySequence(SPEND_SHORTCUT).toString(QKeySequence.SequenceFormat.NativeText)
        self.action.setToolTip(f"What generating has cost, and the monthly budget ({keys})")
        self.action.triggered.connect(lambda _checked=False: self.show_spend())
        self.view: SpendView | None = None
        self._month: str | None = None

    def start(self) -> None:
        """Read the spend so far and estimate the form (both off the GUI thread)."""
        self.tracker.refresh_now()
        self.estimate.schedule()

    def settings_changed(self) -> None:
        """Settings closed with OK: show the month against the (new) budget, re-price."""
        self.tracker.show_month()
        self.prices.forget()
        self.estimate.update_now()

    async def estimate_params(self, params: JobParams) -> Estimate:
        """The estimate for one request, worked out on a worker thread."""
        model = find_model(self._composer.models, params.model)
        query = price_query(params, model)
        if query is None:
            return Estimate.unknown("the request has no duration")
        try:
            return await run_async(self._controller.run_background, self.prices.estimate, query)
        except Exception as exc:  # a price problem must never stop a submit by itself
            logger.warning("Estimating failed: %s", exc)
            return Estimate.unknown(f"the price could not be worked out ({exc})")

    def price_now(self, params: JobParams, model: ModelInfo | None) -> Decimal | None:
        """Dollars from the prices already fetched, or None (the batch dialog's estimator).

        Never waits for the network: the price list is fetched when the window starts.
        """
        query = price_query(params, model)
        found = self.prices.estimate_cached(query) if query is not None else None
        if found is None or found.nanos is None:
            return None
        return Decimal(found.nanos) / NANOS_PER_USD

    # -- the Spend view -------------------------------------------------------------------------

    def show_spend(self) -> SpendView:
        """Open (or raise) the Spend view and fill it off the GUI thread."""
        if self.view is None:
            from ui.spend_view import SpendView  # built on first use: not part of start-up

            note = DEMO_NOTE if self._demo else ""
            self.view = SpendView(self._parent, note=note)
            self.view.month_chosen.connect(self._choose_month)
            self.view.export_requested.connect(self._export)
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        self._controller.spawn(self.load_view())
        return self.view

    def _choose_month(self, month: object) -> None:
        self._month = month if isinstance(month, str) else None
        self._controller.spawn(self.load_view())

    async def load_view(self) -> None:
        """Sum the chosen span and fill the view (no-op when the view is closed)."""
        if self.view is None:
            return
        summary = await self.tracker.summarize(self._month)
        months = await run_async(self._controller.run_background, months_of, self.tracker.records())
        if self.view is not None:
            self.view.set_months(months)
            self.view.show_summary(summary)

    def _on_summary(self, _summary: SpendSummary) -> None:
        if self.view is not None and self.view.isVisible():
            self._controller.spawn(self.load_view())

    def _export(self, month: object) -> None:
        span = month if isinstance(month, str) else None
        name = f"reelgate-spend-{span or 'all'}.csv"
        start = Path(self._controller.preferences.last_save_dir or Path.home()) / name
        path, _filter = QFileDialog.getSaveFileName(
            self.view, "Export spend as CSV", str(start), "CSV file (*.csv)"
        )
        if path:
            self._controller.spawn(self.export_csv(Path(path), span))

    async def export_csv(self, path: Path, month: str | None) -> None:
        """Write the span's bills to ``path`` as CSV, off the GUI thread, and say so."""
        records = self.tracker.records()

        def work() -> int:
            text = to_csv(records, month=month)
            save_text(path, text)
            return text.count("\n") - 1

        try:
            rows = await run_async(self._controller.run_background, work)
        except OSError as exc:
            message = f"Could not write {path}: {exc.strerror or exc}"
        else:
            message = f"Exported {rows} job(s) to {path}"
        if self.view is not None:
            self.view.show_message(message)
        self._status.show_status(message)
