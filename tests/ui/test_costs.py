"""Costs in the real window: the composer's estimate, the checks before a submit, the Spend view
and the month in the status bar, over real HTTP to the demo gateway."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from core.demo_gateway import DemoGateway
from core.jobs import JobParams, JobState
from ui.cost_guard import BudgetRefusal, CostConfirm
from ui.dialogs.settings_dialog import SettingsDialog
from ui.main_window import MainWindow

from .conftest import open_test_context

LITE = "google/veo-3.1-lite-preview"
LITE_720 = JobParams(
    model=LITE, prompt="A lake at dawn", duration=8, resolution="720p", generate_audio=True
)


def choose(
    window: MainWindow,
    model: str,
    duration: int,
    resolution: str | None,
    audio: bool,
    samples: int = 1,
) -> None:
    composer = window.composer
    composer.model_combo.setCurrentIndex(composer.model_combo.findData(model))
    assert composer.duration.set_value(duration)
    advanced = composer.advanced
    if resolution is not None:
        advanced.resolution_combo.setCurrentIndex(advanced.resolution_combo.findData(resolution))
    advanced.audio_check.setChecked(audio)
    advanced.samples_spin.setValue(samples)


def label(window: MainWindow) -> QLabel:
    found = window.findChild(QLabel, "costEstimateLabel")
    assert found is not None and found.accessibleName()
    return found


def test_estimate_follows_the_form_and_is_worked_out_off_the_gui_thread(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []
    estimate = window.costs.prices.estimate

    def spy(query: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return estimate(query)

    monkeypatch.setattr(window.costs.prices, "estimate", spy)
    shown = label(window)
    choose(window, LITE, 8, "720p", audio=True)
    expected = "about $0.40 (8 s x $0.05/s, 720p, with audio)"
    qtbot.waitUntil(lambda: shown.text() == expected, timeout=5_000)
    window.composer.advanced.audio_check.setChecked(False)
    qtbot.waitUntil(lambda: shown.text().startswith("about $0.24 (8 s x $0.03/s"), timeout=5_000)
    window.composer.advanced.samples_spin.setValue(2)
    qtbot.waitUntil(lambda: shown.text().startswith("about $0.48 (2 x 8 s"), timeout=5_000)
    choose(window, "minimax/hailuo-2.3", 10, "768P", audio=False)
    qtbot.waitUntil(lambda: shown.text().startswith("about $0.56 (1 video x $0.56"), timeout=5_000)
    choose(window, "minimax/hailuo-2.3", 10, "1080P", audio=False)
    qtbot.waitUntil(
        lambda: shown.text().startswith("price unknown (the price list has no tier"), timeout=5_000
    )
    assert threads and not any(threads)


def test_estimate_says_price_unknown_when_the_gateway_has_no_prices(
    window: MainWindow, gateway: DemoGateway, qtbot: Any
) -> None:
    gateway.pricing_fault = "501"
    window.costs.prices.forget()
    choose(window, LITE, 6, "1080p", audio=True)
    shown = label(window)
    qtbot.waitUntil(lambda: shown.text().startswith("price unknown"), timeout=5_000)
    assert "HTTP 501" in shown.text() and "$" not in shown.text()


def test_a_job_above_the_threshold_is_sent_only_when_confirmed(
    window: MainWindow, gateway: DemoGateway, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[int, int, int]] = []
    answer = [False]

    async def ask(cls: type, parent: QWidget, total: int, threshold: int, jobs: int) -> bool:
        asked.append((total, threshold, jobs))
        return answer[0]

    monkeypatch.setattr(CostConfirm, "ask", classmethod(ask))
    window.preferences.confirm_cost_above = "0.30"
    assert run(window.job_actions.submit_job(LITE_720, None)) is None
    assert asked == [(400_000_000, 300_000_000, 1)]
    assert gateway.stats.get("create", 0) == 0  # nothing sent
    answer[0] = True
    job = run(window.job_actions.submit_job(LITE_720, None))
    assert job is not None and job.state is JobState.QUEUED
    assert gateway.stats["create"] == 1
    window.preferences.confirm_cost_above = "2.00"  # the default: $0.40 goes unasked
    assert run(window.job_actions.submit_job(LITE_720, None)) is not None and len(asked) == 2


def test_budget_refuses_an_over_budget_submit_with_the_numbers_and_offers_to_raise_it(
    window: MainWindow,
    gateway: DemoGateway,
    run: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offers: list[int] = []
    accept = [False]

    async def ask(cls: type, parent: QWidget, verdict: Any) -> bool:
        offers.append(verdict.suggested_budget)
        return accept[0]

    monkeypatch.setattr(BudgetRefusal, "ask", classmethod(ask))
    settings = window.preferences
    settings.monthly_budget = "0.50"
    first = run(window.job_actions.submit_job(LITE_720, None))
    assert first is not None
    tracker = window.costs.tracker
    qtbot.waitUntil(
        lambda: any(r.local_id == first.local_id for r in tracker.records()), timeout=5_000
    )
    assert run(window.job_actions.submit_job(LITE_720, None)) is None
    assert gateway.stats["create"] == 1
    error = window.composer.submit_error.text()
    assert "$0.80" in error and "$0.50" in error and "$0.40" in error
    assert offers == [1_000_000_000]
    accept[0] = True
    second = run(window.job_actions.submit_job(LITE_720, None))
    assert second is not None and gateway.stats["create"] == 2
    assert settings.monthly_budget == "1.00"
    qtbot.waitUntil(lambda: "of $1.00 budget" in tracker.label.text(), timeout=5_000)


def test_spend_view_shows_the_settled_bill_and_exports_csv(
    window: MainWindow, qtbot: Any, run: Any, tmp_path: Path
) -> None:
    job = run(window.job_actions.submit_job(LITE_720, None))
    assert job is not None

    def settled() -> bool:
        current = window.controller.engine.job(job.local_id)
        return current is not None and current.settled_nanos is not None

    qtbot.waitUntil(settled, timeout=15_000)
    window.costs.action.trigger()
    view = window.findChild(QWidget, "spendView")
    assert view is not None and view.isVisible() and view.accessibleName()
    periods = view.periods  # type: ignore[attr-defined]
    qtbot.waitUntil(
        lambda: (
            periods.rowCount() == 4
            and periods.item(2, 1) is not None
            and periods.item(2, 1).text() == "$0.40"
        ),
        timeout=10_000,
    )
    assert periods.item(2, 0).text() == "This month"
    by_model = view.by_model  # type: ignore[attr-defined]
    assert by_model.item(0, 0).text() == LITE
    assert view.top.item(0, 3).text() == "$0.40"  # type: ignore[attr-defined]
    assert window.costs.action.shortcut().toString() == "Ctrl+Shift+B"
    qtbot.waitUntil(
        lambda: window.costs.tracker.label.text().startswith("This month: $0.40"), timeout=10_000
    )
    target = tmp_path / "spend.csv"
    run(window.costs.export_csv(target, None))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(row["model"], row["bill"], row["amount_usd"]) for row in rows] == [
        (LITE, "settled", "0.40")
    ]
    assert "Exported 1 job(s)" in view.status.text()  # type: ignore[attr-defined]


def test_settings_costs_default_to_two_dollars_and_no_budget_and_are_saved(
    qtbot: Any, tmp_path: Path, gateway: DemoGateway
) -> None:
    context = open_test_context(tmp_path / "data", gateway)
    try:
        dialog = SettingsDialog(None, context)
        qtbot.addWidget(dialog)
        costs = dialog.costs
        assert costs.confirm_check.isChecked() and costs.confirm_spin.value() == 2.0
        assert not costs.budget_check.isChecked() and not costs.budget_spin.isEnabled()
        for name in ("confirmCostSpin", "budgetCheck", "budgetSpin"):
            found = dialog.findChild(QWidget, name)
            assert found is not None and found.accessibleName()
        costs.confirm_spin.setValue(1.5)
        costs.budget_check.setChecked(True)
        costs.budget_spin.setValue(25.0)
        dialog.accept()
        saved = json.loads(context.paths.settings.read_text(encoding="utf-8"))
        assert saved["confirm_cost_above"] == "1.50" and saved["monthly_budget"] == "25.00"
    finally:
        context.close()
