"""Before money is spent: the monthly budget check and the "this costs more than $2.00" question.

:meth:`CostGuard.ask` is the one door: give it the estimated total of what is about to be sent
(one job, or a whole batch) and it answers whether to go ahead, asking the person when the total
is above their confirmation threshold and refusing (with the numbers, and an offer to raise the
budget) when it would take the month over budget. The dialogs open with ``open()`` and are
awaited, so the event loop keeps running while they show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from core.budget import BudgetVerdict, check_budget, dollars_setting
from core.estimate import Estimate
from core.jobs import JobParams
from core.money import cents_text, format_usd
from ui.preferences import Preferences
from ui.spend_tracker import SpendTracker


async def _answer(box: QMessageBox) -> QAbstractButton | None:
    """Show ``box`` without blocking the event loop and wait for the clicked button."""
    loop = asyncio.get_running_loop()
    clicked: asyncio.Future[QAbstractButton | None] = loop.create_future()

    def finished(_code: int) -> None:
        if not clicked.done():
            clicked.set_result(box.clickedButton())

    box.finished.connect(finished)
    box.open()
    try:
        return await clicked
    finally:
        box.deleteLater()


class CostConfirm:
    """Asks whether to send something whose estimate is above the threshold."""

    @classmethod
    async def ask(cls, parent: QWidget | None, total: int, threshold: int, jobs: int) -> bool:
        """True to go ahead."""
        box = QMessageBox(parent)
        box.setObjectName("costConfirm")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Confirm the cost")
        what = "This video is" if jobs == 1 else f"These {jobs} videos are"
        box.setText(f"{what} estimated at about {format_usd(total)}.")
        box.setInformativeText(
            f"That is more than {format_usd(threshold)}, the amount above which you asked to "
            "confirm (Settings, Costs)."
        )
        go = box.addButton(
            "Generate" if jobs == 1 else "Generate all", QMessageBox.ButtonRole.AcceptRole
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        return await _answer(box) is go


class BudgetRefusal:
    """Says why a submit is over the monthly budget; offers to raise the budget."""

    @classmethod
    async def ask(cls, parent: QWidget | None, verdict: BudgetVerdict) -> bool:
        """True when the person raised the budget to ``verdict.suggested_budget``."""
        box = QMessageBox(parent)
        box.setObjectName("budgetRefusal")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Over the monthly budget")
        box.setText("Not sent: this would go over your monthly budget.")
        box.setInformativeText(verdict.message)
        raise_button = box.addButton(
            f"Raise the budget to {format_usd(verdict.suggested_budget)} and send",
            QMessageBox.ButtonRole.AcceptRole,
        )
        raise_button.setObjectName("raiseBudgetButton")
        cancel = box.addButton("Don't send", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        return await _answer(box) is raise_button


class CostGuard:
    """Budget and threshold checks in front of every submit (single jobs and batches)."""

    def __init__(
        self,
        parent: QWidget,
        preferences: Preferences,
        tracker: SpendTracker,
        estimate: Callable[[JobParams], Awaitable[Estimate]],
    ) -> None:
        """``estimate`` prices one request off the GUI thread; a raised budget is saved."""
        self._parent = parent
        self._preferences = preferences
        self._tracker = tracker
        self._estimate = estimate
        #: Why the last check let something through unchecked, or refused it (for the UI).
        self.last_note = ""

    async def ask(self, total: int | None, *, jobs: int = 1) -> bool:
        """May ``jobs`` requests with this estimated ``total`` (nanos; None: unknown) be sent?

        Refuses when the month's settled plus pending spend plus ``total`` would pass the
        monthly budget (the person may raise it on the spot), then asks for confirmation when
        ``total`` is above the threshold set in Settings. True means go ahead.
        """
        self.last_note = ""
        budget = dollars_setting(self._preferences.monthly_budget)
        if budget is not None:
            summary = await self._tracker.summarize()
            verdict = check_budget(budget, summary.periods["month"], total)
            if not verdict.allowed:
                self.last_note = verdict.message
                if total is None or not await BudgetRefusal.ask(self._parent, verdict):
                    return False
                await self._raise_budget(verdict.suggested_budget)
            elif verdict.message:
                self.last_note = verdict.message  # price unknown: passed unchecked
        threshold = dollars_setting(self._preferences.confirm_cost_above)
        if threshold is not None and total is not None and total > threshold:
            return await CostConfirm.ask(self._parent, total, threshold, jobs)
        return True

    async def approve(self, requests: Sequence[JobParams]) -> bool:
        """Estimate ``requests`` (off the GUI thread) and :meth:`ask` about their total."""
        estimates = await asyncio.gather(*(self._estimate(params) for params in requests))
        known = [estimate.nanos for estimate in estimates if estimate.nanos is not None]
        total = sum(known) if len(known) == len(estimates) else None
        return await self.ask(total, jobs=len(requests))

    async def _raise_budget(self, budget: int) -> None:
        self._preferences.monthly_budget = cents_text(budget)  # saved a moment later
        self._tracker.show_month()
