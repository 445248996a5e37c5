"""The main window: named, accessible widgets; demo banner; shortcuts; remembered layout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from core.context import open_context
from core.demo_gateway import DemoGateway
from core.jobs import DownloadState, JobParams, JobState
from core.paths import resolve_paths
from core.settings import load_settings
from ui.app import open_for_window
from ui.crash import CrashHandler
from ui.dialogs.first_run import FirstRunDialog
from ui.dialogs.save_dialog import SaveDialog
from ui.dialogs.settings_dialog import SettingsDialog, SettingsResult
from ui.job_actions import Confirm
from ui.main_window import CloseNotice, MainWindow

TEST_KEY = "phaseo_v1_sk_TESTSECRET123"
#: Every widget a test, a screen reader or a stylesheet finds by name.
REQUIRED_NAMES = (
    "promptEdit",
    "promptCounter",
    "modelCombo",
    "durationInput",
    "aspectRatioCombo",
    "advancedToggle",
    "submitButton",
    "submitError",
    "jobsTable",
    "jobFilter",
    "searchEdit",
    "settingsButton",
    "undoButton",
    "saveProgress",
)
#: Widgets of the preview and the failure review, which are built when first shown.
PANEL_NAMES = (
    "previewPlayer",
    "playButton",
    "saveButton",
    "reviewPanel",
    "errorDetail",
    "requestIdLabel",
    "copyDiagnosticsButton",
    "resubmitButton",
)
PARAMS = JobParams(model="demo/test-pattern", prompt="A red kite", duration=2, aspect_ratio="16:9")


def test_every_named_widget_exists_and_has_an_accessible_name(window: MainWindow) -> None:
    missing = [name for name in REQUIRED_NAMES if window.findChild(QWidget, name) is None]
    assert missing == []
    # The preview and the review are built on first use; then their widgets are there too.
    assert window.preview is window.preview and window.review is window.review
    names = REQUIRED_NAMES + PANEL_NAMES
    assert [name for name in names if window.findChild(QWidget, name) is None] == []
    unnamed = [name for name in names if not window.findChild(QWidget, name).accessibleName()]
    assert unnamed == []
    assert window.windowTitle() == "Reelgate"
    assert window.findChild(QWidget, "demoBanner") is None


def test_preview_and_review_are_built_when_first_needed(window: MainWindow) -> None:
    # Start-up builds neither (the preview loads Qt Multimedia), and selecting nothing
    # shows the placeholder.
    assert window.findChild(QWidget, "previewPanel") is None
    assert window.findChild(QWidget, "reviewPanel") is None
    assert window.detail_stack.currentWidget() is window.placeholder
    preview = window.preview
    assert window.findChild(QWidget, "previewPanel") is preview
    assert window.preview is preview  # one media pipeline, reused for every video
    assert preview.save_button.isEnabled() is False


def test_the_review_is_built_while_idle_so_the_first_failure_opens_quickly(
    window: MainWindow, qtbot: Any
) -> None:
    # A moment after start-up (its module loaded on a worker thread), the review is built
    # and polished in the background; the pane still shows the placeholder.
    qtbot.waitUntil(lambda: window.findChild(QWidget, "reviewPanel") is not None, timeout=15_000)
    assert window.detail_stack.currentWidget() is window.placeholder
    assert window.findChild(QWidget, "reviewPanel") is window.review


def test_demo_mode_says_so_in_the_title_and_a_banner(tmp_path: Path, make_window: Any) -> None:
    context = open_context(
        data_dir=tmp_path / "demo",
        demo=True,
        demo_overrides={"queued_seconds": 0.3, "processing_seconds": 0.8},
    )
    window = make_window(context)
    assert window.windowTitle() == "Demo mode — Reelgate"
    banner = window.findChild(QWidget, "demoBanner")
    assert banner is not None and banner.isVisible()
    assert "test-pattern" in banner.text() and "API key" in banner.text()
    assert banner.accessibleName()


def test_keyboard_shortcuts_reach_every_main_action(window: MainWindow) -> None:
    actions = window.job_actions
    expected = {
        actions.save_as: "Ctrl+S",
        actions.refresh: "F5",
        actions.remove: "Del",
        actions.find: "Ctrl+F",
        actions.settings: "Ctrl+,",
    }
    for action, keys in expected.items():
        assert action.shortcut() == QKeySequence(keys), action.text()
    actions.find.trigger()
    assert window.jobs_view.search_edit.hasFocus()


def test_layout_and_filter_are_remembered_across_restarts(
    tmp_path: Path, make_context: Any, make_window: Any
) -> None:
    data = tmp_path / "data"
    first = make_window(make_context(data))
    first.jobs_view.filter_combo.setCurrentText("Completed")
    first.jobs_view.rating_combo.setCurrentIndex(3)
    first.jobs_view.table.horizontalHeader().resizeSection(2, 233)
    first.close()
    saved = first.context.settings.window
    assert {"geometry", "main_splitter", "jobs_splitter", "jobs"} <= saved.keys()
    assert all(isinstance(value, str | int) for value in saved["jobs"].values())

    second = make_window(make_context(data))
    assert second.jobs_view.filter_combo.currentText() == "Completed"
    assert second.jobs_view.proxy.min_rating == 3
    assert second.jobs_view.table.horizontalHeader().sectionSize(2) == 233


def test_the_last_request_is_saved_while_the_window_stays_open(
    window: MainWindow, run: Any, wait_for: Any
) -> None:
    """A crash later must not lose the request settings the composer comes back with."""
    run(window.job_actions.submit_job(PARAMS, None))
    path = window.context.paths.settings

    def saved_model() -> object:
        reloaded, _problem = load_settings(path)
        return reloaded.last_params.get("model")

    wait_for(lambda: path.exists() and saved_model() == PARAMS.model)
    assert "prompt" not in load_settings(path)[0].last_params


def test_closing_with_a_running_job_says_it_continues_next_time(
    window: MainWindow, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []

    def ask(cls: type, parent: QWidget, count: int) -> bool:
        asked.append(count)
        return True

    monkeypatch.setattr(CloseNotice, "ask", classmethod(ask))
    job = run(window.job_actions.submit_job(PARAMS, None))
    assert job.state is JobState.QUEUED
    assert window.close()
    assert asked == [1]
    assert not window.isVisible()


def test_a_refused_key_pauses_polling_until_a_new_key_is_set(
    tmp_path: Path,
    gateway: DemoGateway,
    make_context: Any,
    make_window: Any,
    run: Any,
    wait_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window(make_context(tmp_path / "data", "phaseo_v1_sk_WRONGKEY99"))
    job = run(window.job_actions.submit_job(PARAMS, None))
    assert job.state is JobState.REJECTED
    wait_for(lambda: window.findChild(QMessageBox, "keyRejectedBox") is not None)
    box = window.findChild(QMessageBox, "keyRejectedBox")
    assert "refused the API key" in box.text() and "Polling is paused" in box.text()
    assert window.controller.engine.key_rejected is not None

    result = SettingsResult(
        api_key_changed=True,
        api_key=TEST_KEY,
        base_url=gateway.base_url,
        download_dir="",
        auto_download=True,
        notifications=True,
    )
    monkeypatch.setattr(SettingsDialog, "ask", classmethod(lambda cls, *_args: result))
    box.buttons()[0].click()
    wait_for(lambda: window.controller.engine.key_rejected is None)
    job = run(window.job_actions.submit_job(PARAMS, None))
    assert job.state is JobState.QUEUED


def _args(data_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(demo=False, base_url=None, data_dir=str(data_dir), verbose=False)


def test_first_run_offers_the_demo_and_remembers_the_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda cls, parent: "demo"))
    args = _args(tmp_path / "first")
    context = open_for_window(args, resolve_paths(args.data_dir))
    assert context is not None
    try:
        assert context.runs_demo_gateway
        assert context.settings.demo_mode is True
    finally:
        context.close()

    def must_not_ask(cls: type, parent: QWidget) -> str:
        raise AssertionError("the welcome dialog is for the first run only")

    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(must_not_ask))
    again = open_for_window(args, resolve_paths(args.data_dir))
    assert again is not None
    try:
        assert again.runs_demo_gateway
    finally:
        again.close()


def test_first_run_with_a_key_opens_settings_then_real_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda cls, parent: "key"))

    def enter_key(cls: type, parent: QWidget, context: Any) -> SettingsResult:
        context.secrets.set(TEST_KEY)
        return SettingsResult(True, TEST_KEY, "", "", True, True)

    monkeypatch.setattr(SettingsDialog, "ask", classmethod(enter_key))
    args = _args(tmp_path / "keyed")
    context = open_for_window(args, resolve_paths(args.data_dir))
    assert context is not None
    try:
        assert not context.runs_demo_gateway and context.has_key
        assert context.settings.demo_mode is False
    finally:
        context.close()


def test_closing_the_welcome_dialog_quits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda cls, parent: None))
    args = _args(tmp_path / "closed")
    assert open_for_window(args, resolve_paths(args.data_dir)) is None


def test_a_crash_shows_a_copyable_report_without_the_key(tmp_path: Path, qtbot: Any) -> None:
    handler = CrashHandler(tmp_path / "crashes", redacted=lambda: (TEST_KEY,))
    try:
        raise ValueError(f"boom while using {TEST_KEY}")
    except ValueError as error:
        handler(type(error), error, error.__traceback__)
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    dialog = handler.dialog
    assert dialog is not None
    report = dialog.report_view.toPlainText()
    assert "boom while using [redacted]" in report and TEST_KEY not in report
    assert "ValueError" in report and "Reelgate" in report
    saved = list((tmp_path / "crashes").glob("crash-*.txt"))
    assert len(saved) == 1 and saved[0].read_text(encoding="utf-8") == report
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report
    dialog.accept()


def _finished(window: MainWindow, local_id: str) -> bool:
    job = window.model.job(local_id)
    return job is not None and job.download is DownloadState.DONE


def test_actions_on_a_finished_video(
    window: MainWindow,
    gateway: DemoGateway,
    run: Any,
    wait_for: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = run(window.job_actions.submit_job(PARAMS, None))
    wait_for(lambda: _finished(window, job.local_id))
    assert window.jobs_view.select_job(job.local_id)
    actions = window.job_actions
    for action in (actions.preview, actions.save_as, actions.copy_link, actions.delete_on_server):
        assert action.isEnabled(), action.text()
    assert not actions.download.isEnabled()

    actions.copy_link.trigger()
    wait_for(lambda: "Link copied, expires at" in window.statusBar().currentMessage())
    assert QGuiApplication.clipboard().text().startswith(gateway.base_url.rsplit("/v1", 1)[0])

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("in the way", encoding="utf-8")
    monkeypatch.setattr(
        SaveDialog, "ask", classmethod(lambda cls, parent, proposal: blocker / "out.mp4")
    )
    actions.save_as.trigger()
    wait_for(lambda: window.findChild(QMessageBox, "errorBox") is not None)
    error_box = window.findChild(QMessageBox, "errorBox")
    assert error_box.windowTitle() == "Could not save the video" and error_box.text()
    error_box.close()

    actions.resubmit.trigger()
    assert window.composer.prompt_edit.toPlainText() == PARAMS.prompt
    assert window.composer.parent_id == job.local_id
    child = run(window.job_actions.submit_job(window.composer.params(), job.local_id))
    assert child.parent_id == job.local_id and child.params == PARAMS
    assert window.composer.parent_id is None

    monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, *args: True))
    assert window.jobs_view.select_job(job.local_id)
    actions.delete_on_server.trigger()
    wait_for(lambda: window.model.job(job.local_id).deleted_on_server)
    with pytest.raises(KeyError):
        gateway.job_status(job.remote_id)

    assert window.jobs_view.select_job(job.local_id)
    actions.remove.trigger()
    assert window.model.row_of(job.local_id) is None
    assert window.undo_button.isVisible()
    wait_for(lambda: job.local_id in window.context.journal.hidden_ids())
    window.undo_button.click()
    assert window.model.row_of(job.local_id) is not None
    wait_for(lambda: job.local_id not in window.context.journal.hidden_ids())


def test_without_auto_download_the_download_action_fetches_the_video(
    window: MainWindow, run: Any, wait_for: Any
) -> None:
    window.context.settings.auto_download = False
    job = run(window.job_actions.submit_job(PARAMS, None))
    wait_for(lambda: window.model.job(job.local_id).state is JobState.COMPLETED)
    assert window.jobs_view.select_job(job.local_id)
    waiting = window.model.job(job.local_id)
    assert waiting.download is DownloadState.PENDING
    assert window.model.status_line(waiting) == "Completed · download waiting"
    action = window.job_actions.download
    assert action.isEnabled() and action.text() == "Download"
    action.trigger()
    wait_for(lambda: _finished(window, job.local_id))
    assert window.detail_stack.currentWidget() is window.preview


def test_deleting_a_video_not_saved_here_warns_it_will_be_lost(
    window: MainWindow,
    gateway: DemoGateway,
    run: Any,
    wait_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window.context.settings.auto_download = False
    job = run(window.job_actions.submit_job(PARAMS, None))
    wait_for(lambda: window.model.job(job.local_id).state is JobState.COMPLETED)
    assert window.jobs_view.select_job(job.local_id)
    asked: list[tuple[str, str, str]] = []

    def refuse(cls: Any, parent: Any, title: str, text: str, action: str) -> bool:
        asked.append((title, text, action))
        return False

    monkeypatch.setattr(Confirm, "ask", classmethod(refuse))
    window.job_actions.delete_on_server.trigger()
    [(title, text, action)] = asked
    assert "will be lost" in title and "not saved on this computer" in text
    assert action == "Delete and lose it"
    assert gateway.job_status(job.remote_id) == "completed"  # refused: nothing deleted


def test_start_up_notes_are_shown_without_blocking(
    tmp_path: Path, make_context: Any, make_window: Any
) -> None:
    context = make_context(tmp_path / "data")
    context.messages.append("The job journal was damaged. It was kept as journal.db.bad.")
    window = make_window(context)
    notes = window.findChild(QMessageBox, "startupNotes")
    assert notes is not None and notes.isVisible() and not notes.isModal()
    assert "journal was damaged" in notes.text()
    assert "journal was damaged" in window.statusBar().currentMessage()
