"""The Settings dialog's "Costs" group: the confirmation threshold and the monthly budget."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QWidget

from core.budget import dollars_setting
from core.money import NANOS_PER_USD, cents_text
from core.settings import Settings
from ui.preferences import Preferences

MAX_DOLLARS = 100_000.0
DEFAULT_BUDGET = 20.0


def _spin(name: str, accessible: str, parent: QWidget) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setObjectName(name)
    spin.setAccessibleName(accessible)
    spin.lineEdit().setAccessibleName(accessible)
    spin.setPrefix("$")
    spin.setDecimals(2)
    spin.setRange(0.0, MAX_DOLLARS)
    spin.setSingleStep(1.0)
    return spin


class CostSettings(QGroupBox):
    """Ask before costly jobs above a threshold; refuse submits over a monthly budget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the two check boxes with their dollar amounts."""
        super().__init__("Costs", parent)
        self.setObjectName("costSettings")
        self.confirm_check = QCheckBox("Ask before a job or batch costing more than", self)
        self.confirm_check.setObjectName("confirmCostCheck")
        self.confirm_check.setAccessibleName("Ask before costly jobs")
        self.confirm_spin = _spin("confirmCostSpin", "Confirmation threshold in dollars", self)
        self.budget_check = QCheckBox("Monthly budget", self)
        self.budget_check.setObjectName("budgetCheck")
        self.budget_check.setAccessibleName("Use a monthly budget")
        self.budget_spin = _spin("budgetSpin", "Monthly budget in dollars", self)
        self.confirm_check.toggled.connect(self.confirm_spin.setEnabled)
        self.budget_check.toggled.connect(self.budget_spin.setEnabled)
        form = QFormLayout(self)
        form.addRow(self.confirm_check, self.confirm_spin)
        form.addRow(self.budget_check, self.budget_spin)

    def load(self, settings: Settings) -> None:
        """Show the saved values (a budget that is off shows a suggestion to switch on)."""
        threshold = dollars_setting(settings.confirm_cost_above)
        self.confirm_check.setChecked(threshold is not None)
        self.confirm_spin.setValue(2.0 if threshold is None else threshold / NANOS_PER_USD)
        self.confirm_spin.setEnabled(threshold is not None)
        budget = dollars_setting(settings.monthly_budget)
        self.budget_check.setChecked(budget is not None)
        self.budget_spin.setValue(DEFAULT_BUDGET if budget is None else budget / NANOS_PER_USD)
        self.budget_spin.setEnabled(budget is not None)

    def store(self, preferences: Preferences) -> None:
        """Write the chosen values through ``preferences`` (which saves them)."""
        preferences.confirm_cost_above = (
            cents_text(round(self.confirm_spin.value() * 100) * 10_000_000)
            if self.confirm_check.isChecked()
            else ""
        )
        preferences.monthly_budget = (
            cents_text(round(self.budget_spin.value() * 100) * 10_000_000)
            if self.budget_check.isChecked()
            else ""
        )
