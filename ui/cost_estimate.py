"""The composer's price line: "about $0.40 (8 s x $0.05/s, 720p, with audio)", kept current.

Each change of the form (model, duration, resolution or size, audio, sample count) schedules a
new estimate; the work (the price list fetch, or the gateway's calculator) runs on a worker
thread and only the answer for the form's latest state is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from core.catalogue import ModelInfo
from core.estimate import Estimate, PriceQuery
from core.job_sets import price_query
from core.jobs import JobParams
from core.pricing_client import PriceSource
from ui.offthread import Submit, run_task

#: Wait this long after the last change before estimating (typing a duration, say).
DEBOUNCE_MS = 120
WORKING_TEXT = "Estimating the price…"


def estimate_text(estimate: Estimate) -> str:
    """The label's words: the amount, then the rule (or why the price is unknown)."""
    return f"{estimate.text} ({estimate.rule})" if estimate.rule else estimate.text


class CostEstimate(QObject):
    """Keeps ``label`` showing the estimate for the composer's current request."""

    #: A new estimate is shown (``Estimate``).
    estimated = Signal(object)

    def __init__(
        self,
        source: PriceSource,
        submit: Submit,
        read_form: Callable[[], tuple[JobParams, ModelInfo | None]],
        parent: QWidget,
        *,
        note: str = "",
    ) -> None:
        """``read_form`` gives the composer's params and model; ``note`` ends the tooltip."""
        super().__init__(parent)
        self._source = source
        self._submit = submit
        self._read_form = read_form
        self._note = note
        self._generation = 0
        self._query: PriceQuery | None = None
        #: The estimate shown for the current form, or None while it is worked out.
        self.current: Estimate | None = None
        self.label = QLabel(parent)
        self.label.setObjectName("costEstimateLabel")
        self.label.setAccessibleName("Estimated cost")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.update_now)

    def schedule(self) -> None:
        """The form changed: estimate again shortly (changes in a burst make one estimate)."""
        self._timer.start()

    def update_now(self) -> None:
        """Start estimating the form as it stands (no work when nothing price-related moved)."""
        params, model = self._read_form()
        query = price_query(params, model)
        if query == self._query and self.current is not None:
            return
        self._query = query
        self._generation += 1
        generation = self._generation
        if query is None:
            self._show(None, "")
            return
        self.current = None
        self.label.setText(WORKING_TEXT)
        run_task(
            self._submit,
            self._source.estimate,
            query,
            on_result=lambda estimate: self._on_result(generation, estimate),
            on_error=lambda error: self._on_result(
                generation, Estimate.unknown(f"the price could not be worked out ({error})")
            ),
            receiver=self,
        )

    def _on_result(self, generation: int, estimate: Estimate) -> None:
        if generation != self._generation:
            return  # the form moved on; a newer estimate is on its way
        self._show(estimate, estimate_text(estimate))

    def _show(self, estimate: Estimate | None, text: str) -> None:
        self.current = estimate
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        tip = "Price before submitting, from the gateway's price list."
        if estimate is not None and estimate.source == "gateway calculation":
            tip = "Price before submitting, calculated by the gateway."
        elif estimate is not None and not estimate.known:
            tip = "The gateway gave no price for this request; Reelgate does not guess one."
        self.label.setToolTip(f"{tip} {self._note}".strip())
        if estimate is not None:
            self.estimated.emit(estimate)
