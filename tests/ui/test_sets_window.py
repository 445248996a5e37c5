"""Compare sets and batches from the real window over the demo gateway (real HTTP, real MP4s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer

from core.demo_gateway import DemoGateway
from core.jobs import SetKind
from core.journal import Journal
from core.poll_policy import RequestBudget
from tests.ui.conftest import open_test_context
from ui.batch_dialog import BatchDialog
from ui.main_window import MainWindow

PLAYING = QMediaPlayer.PlaybackState.PlayingState
PAUSED = QMediaPlayer.PlaybackState.PausedState
IN_STEP_MS = 150
COMPARED = ["demo/test-pattern", "google/veo-3.1-lite-preview", "openai/sora-2"]


def test_a_three_model_compare_set_gets_each_models_nearest_duration_and_plays_in_sync(
    window: MainWindow, gateway: DemoGateway, qtbot: Any, wait_for: Any
) -> None:
    composer = window.composer
    composer.prompt_edit.setPlainText("A kite over the dunes at dawn")
    composer.duration.set_value(5)
    qtbot.mouseClick(composer.compare_picker.button, Qt.MouseButton.LeftButton)
    composer.compare_picker.set_checked(COMPARED)
    assert composer.submit_button.text() == "&Generate 3 clips"
    qtbot.mouseClick(composer.submit_button, Qt.MouseButton.LeftButton)
    actions = window.set_actions
    wait_for(lambda: actions.last_report is not None)
    report = actions.last_report
    assert report is not None and report.sent == 3
    members = window.context.journal.set_members(report.set_id)
    assert [(job.params.model, job.params.duration) for job in members] == [
        ("demo/test-pattern", 5),
        ("google/veo-3.1-lite-preview", 4),  # 4 and 6 are as near: the shorter
        ("openai/sora-2", 4),
    ]
    assert {job.set_kind for job in members} == {SetKind.COMPARE}
    assert gateway.stats["max_concurrent:create"] == 1
    view = actions.views[report.set_id]
    assert view.objectName() == "compareView" and view.isVisible()
    wait_for(lambda: len(view.players) == 3, timeout=30)
    wait_for(lambda: view.slider.maximum() >= 4900)
    assert [pane.title.toolTip() for pane in view.panes] == COMPARED
    names = {model.id: model.name for model in composer.models}
    assert [pane.title.text() for pane in view.panes] == [names[m] for m in COMPARED]
    assert all("finished in" in pane.details.text() for pane in view.panes)

    def states() -> set[QMediaPlayer.PlaybackState]:
        return {player.playbackState() for player in view.players}

    def near(position: int) -> bool:
        return all(abs(p.position() - position) <= IN_STEP_MS for p in view.players)

    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: states() == {PLAYING})
    wait_for(lambda: min(p.position() for p in view.players) > 300)
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: states() == {PAUSED})
    wait_for(lambda: near(view.players[0].position()))
    view.seek(2000)
    wait_for(lambda: near(2000))
    assert states() == {PAUSED}
    # The creator keeps the Veo clip: journaled, and the button stays on after the update.
    qtbot.mouseClick(view.panes[1].keep_button, Qt.MouseButton.LeftButton)
    journal = window.context.journal
    wait_for(lambda: journal.get(members[1].local_id).kept)  # type: ignore[union-attr]
    wait_for(lambda: view.panes[1].job.kept)
    assert view.panes[1].keep_button.isChecked() and not view.panes[0].keep_button.isChecked()
    assert view.panes[1].keep_button.text() == "Kept ✓"


def test_a_twenty_prompt_batch_runs_within_the_request_budget_while_the_window_responds(
    tmp_path: Path,
    gateway: DemoGateway,
    make_window: Any,
    monkeypatch: Any,
    wait_for: Any,
) -> None:
    budget = RequestBudget(max_in_flight=2, per_second=20.0, burst=4)
    window = make_window(open_test_context(tmp_path / "data", gateway, budget=budget))
    wait_for(lambda: window.composer.model_combo.count() > 0)
    dialog = BatchDialog(window.composer.models, window.composer.params())
    dialog.set_text("\n".join(f"Batch prompt {n} [slow-create=0.05]" for n in range(20)))
    dialog.duration_spin.setValue(1)
    request = dialog.request()
    dialog.deleteLater()
    assert request is not None and len(request.jobs) == 20
    monkeypatch.setattr(BatchDialog, "ask", classmethod(lambda cls, *args, **kwargs: request))
    shown: list[str] = []
    window.statusBar().messageChanged.connect(shown.append)
    window.set_actions.batch.trigger()
    assert window.set_actions.sending
    wait_for(lambda: window.set_actions.last_report is not None, timeout=40)
    report = window.set_actions.last_report
    assert report is not None and report.sent == 20 and report.stopped is None
    # The window ran while the batch went out: it showed the count rising.
    counts = [text for text in shown if text.startswith("Batch: ") and "sent…" in text]
    assert counts[0] == "Batch: 1 of 20 sent…" and counts[-1] == "Batch: 20 of 20 sent…"
    stats = gateway.stats
    assert stats["create"] == 20
    assert stats["max_concurrent:create"] == 1
    assert stats["max_concurrent:api"] <= 2  # creates and status reads share the budget
    proxy = window.jobs_view.proxy
    assert proxy.job_set == report.set_id and proxy.rowCount() == 20
    assert window.jobs_view.set_bar.label.text().startswith("Batch of 20 jobs")


def test_closing_the_window_while_a_batch_is_sent_sends_nothing_more(
    window: MainWindow, gateway: DemoGateway, monkeypatch: Any, wait_for: Any
) -> None:
    dialog = BatchDialog(window.composer.models, window.composer.params())
    dialog.set_text("\n".join(f"Slow prompt {n} [slow-create=0.3]" for n in range(20)))
    request = dialog.request()
    dialog.deleteLater()
    monkeypatch.setattr(BatchDialog, "ask", classmethod(lambda cls, *args, **kwargs: request))
    window.set_actions.batch.trigger()
    wait_for(lambda: gateway.stats["create"] >= 2)
    window.close()  # the close notice is answered "close" by the fixture
    sent = gateway.stats["create"]
    assert 2 <= sent < 20
    journal = Journal.open(window.context.journal.path)  # the window closed its own
    try:
        assert len(journal.jobs()) == sent  # every create sent is journaled
    finally:
        journal.close()


def test_a_batch_above_the_confirmation_threshold_is_sent_only_when_confirmed(
    window: MainWindow, gateway: DemoGateway, monkeypatch: Any, wait_for: Any
) -> None:
    from ui.cost_guard import CostConfirm

    asked: list[tuple[int, int, int]] = []

    async def refuse(cls: Any, parent: Any, total: int, threshold: int, jobs: int) -> bool:
        asked.append((total, threshold, jobs))
        return False

    monkeypatch.setattr(CostConfirm, "ask", classmethod(refuse))
    window.preferences.confirm_cost_above = "0.05"
    dialog = BatchDialog(window.composer.models, window.composer.params())
    dialog.set_text("\n".join(f"Priced prompt {n}" for n in range(20)))
    dialog.duration_spin.setValue(2)
    request = dialog.request()
    dialog.deleteLater()
    assert request is not None and len(request.jobs) == 20
    monkeypatch.setattr(BatchDialog, "ask", classmethod(lambda cls, *args, **kwargs: request))
    window.set_actions.batch.trigger()
    wait_for(lambda: not window.set_actions.sending)
    assert len(asked) == 1
    total, threshold, jobs = asked[0]
    assert jobs == 20 and total > threshold == 50_000_000  # $0.05 in nanos
    assert window.set_actions.last_report is None
    assert gateway.stats["create"] == 0  # nothing was sent, nothing charged
    assert window.statusBar().currentMessage() == "Not sent."


def test_compare_on_a_big_batch_plays_four_clips_from_the_selected_one(
    window: MainWindow, gateway: DemoGateway, monkeypatch: Any, wait_for: Any
) -> None:
    dialog = BatchDialog(window.composer.models, window.composer.params())
    dialog.set_text("\n".join(f"Window prompt {n}" for n in range(6)))
    dialog.duration_spin.setValue(1)
    request = dialog.request()
    dialog.deleteLater()
    monkeypatch.setattr(BatchDialog, "ask", classmethod(lambda cls, *args, **kwargs: request))
    actions = window.set_actions
    actions.batch.trigger()
    wait_for(lambda: actions.last_report is not None, timeout=40)
    report = actions.last_report
    assert report is not None and report.sent == 6
    ids = [job.local_id for job in report.jobs]
    window.jobs_view.select_job(ids[4])
    actions.compare.trigger()
    wait_for(lambda: report.set_id in actions.views)
    view = actions.views[report.set_id]
    # Six jobs: the fifth and the ones after it, moved back to keep four side by side.
    assert [pane.job.local_id for pane in view.panes] == ids[2:6]
    assert view.windowTitle() == "Compare: jobs 3-6 of 6"
    window.jobs_view.select_job(ids[0])
    actions.compare.trigger()
    wait_for(lambda: actions.views.get(report.set_id) not in (None, view))
    again = actions.views[report.set_id]
    assert [pane.job.local_id for pane in again.panes] == ids[0:4]
    assert again.windowTitle() == "Compare: jobs 1-4 of 6" and again.isVisible()


def test_prompts_a_stopped_batch_did_not_send_come_back_in_the_next_batch(
    window: MainWindow, gateway: DemoGateway, monkeypatch: Any, wait_for: Any
) -> None:
    dialog = BatchDialog(window.composer.models, window.composer.params())
    dialog.set_text("A fox\n[disabled] A lake\nA hill, at dusk\nA field\n")
    dialog.duration_spin.setValue(1)
    request = dialog.request()
    dialog.deleteLater()
    asked: list[str] = []

    def ask(cls: Any, *args: Any, text: str = "", **kwargs: Any) -> Any:
        asked.append(text)
        return request if len(asked) == 1 else None

    monkeypatch.setattr(BatchDialog, "ask", classmethod(ask))
    actions = window.set_actions
    actions.batch.trigger()
    wait_for(lambda: actions.last_report is not None, timeout=40)
    assert gateway.stats["create"] == 2  # the 501 stopped sending
    assert (
        window.statusBar()
        .currentMessage()
        .endswith("Batch… (Ctrl+B) opens with the 2 prompt(s) not sent.")
    )
    actions.batch.trigger()
    # The next Batch… opens with the two prompts not sent, as CSV the dialog reads.
    again = BatchDialog(window.composer.models, window.composer.params())
    again.set_text(asked[1], csv_format=True)
    again_request = again.request()
    again.deleteLater()
    assert again_request is not None
    assert [job.params.prompt for job in again_request.jobs] == ["A hill, at dusk", "A field"]
