"""A window that fits a creator: 1280x800 without sideways scrolling, panes that collapse and
come back after a restart, human model names, quiet validation, no needless keychain note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton

from core.context import open_context
from core.jobs import JobParams, JobState
from core.secrets import ENV_VAR, MemorySecretStore
from ui.dialogs.settings_dialog import NO_KEYCHAIN_TEXT, SettingsDialog
from ui.jobs_model import Column
from ui.main_window import MainWindow

NEEDED = (Column.PROMPT, Column.MODEL, Column.DURATION, Column.STATUS, Column.COST)
PARAMS = JobParams(
    model="demo/test-pattern", prompt="[fail] A kite over dunes", duration=2, aspect_ratio="16:9"
)


def fully_visible(window: MainWindow, column: Column) -> bool:
    """Whether a column is shown whole inside the table's viewport."""
    table = window.jobs_view.table
    header = table.horizontalHeader()
    left = header.sectionViewportPosition(column)
    width = header.sectionSize(column)
    return (
        not header.isSectionHidden(column)
        and left >= 0
        and left + width <= (table.viewport().width())
    )


def test_at_1280x800_the_job_list_needs_no_sideways_scrolling(
    window: MainWindow, run: Any, wait_for: Any, qtbot: Any
) -> None:
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    job = run(window.job_actions.submit_job(PARAMS, None))
    wait_for(lambda: window.model.job(job.local_id).state is JobState.FAILED)
    window.jobs_view.select_job(job.local_id)
    table = window.jobs_view.table
    assert not table.horizontalScrollBar().isVisible()
    assert [column for column in NEEDED if not fully_visible(window, column)] == []
    assert table.horizontalHeader().sectionSize(Column.PROMPT) >= 100
    assert fully_visible(window, Column.RATING) and fully_visible(window, Column.KEPT)
    # The review of the failed job beside it fits too.
    assert window.detail_stack.currentWidget() is window.review
    scroll = window.review.findChild(QScrollArea, "reviewScroll")
    assert scroll is not None and not scroll.horizontalScrollBar().isVisible()
    # The catalogue's human name, the id in the tooltip.
    row = window.model.row_of(job.local_id) or 0
    cell = window.model.index(row, Column.MODEL)
    wait_for(lambda: cell.data() != "demo/test-pattern")
    assert cell.data() == window.composer.model_combo.currentText()
    assert "demo/test-pattern" in cell.data(3)  # ToolTipRole


def test_at_1280x800_every_toolbar_button_is_shown_and_more_holds_the_rest(
    window: MainWindow, qtbot: Any
) -> None:
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    toolbar = window.toolbar
    overflow = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert overflow is None or not overflow.isVisible()
    hidden = [
        action.text()
        for action in toolbar.actions()
        if not action.isSeparator() and not toolbar.widgetForAction(action).isVisible()
    ]
    assert hidden == []
    texts = {action.text() for action in toolbar.actions()}
    assert {"Composer", "Preview pane", "Settings", "Batch…", "Spend…"} <= texts
    more = toolbar.findChild(QToolButton, "moreActionsButton")
    assert more is not None and more.isVisible()
    in_more = [action.objectName() for action in more.menu().actions() if not action.isSeparator()]
    assert in_more == [
        "copyLinkAction",
        "openFolderAction",
        "downloadAction",
        "copyDiagnosticsAction",
        "exportDiagnosticsAction",
        "deleteOnServerAction",
        "removeAction",
    ]


def test_composer_and_preview_collapse_and_the_layout_is_remembered(
    tmp_path: Path, make_context: Any, make_window: Any, qtbot: Any
) -> None:
    data = tmp_path / "data"
    first: MainWindow = make_window(make_context(data))
    first.resize(1280, 800)
    table_width = first.jobs_view.width()
    first.composer_toggle.action.trigger()  # F7
    first.detail_toggle.action.trigger()  # F8
    assert not first.composer.isVisible() or first.main_splitter.sizes()[0] == 0
    assert first.jobs_splitter.sizes()[1] == 0
    qtbot.waitUntil(lambda: first.jobs_view.width() > table_width + 500)
    header = first.jobs_view.table.horizontalHeader()
    header.setSectionHidden(Column.ELAPSED, False)  # shown from the header's menu
    first.close()

    second: MainWindow = make_window(make_context(data))
    assert second.main_splitter.sizes()[0] == 0 and second.jobs_splitter.sizes()[1] == 0
    assert not second.composer_toggle.action.isChecked()
    assert not second.detail_toggle.action.isChecked()
    assert not second.jobs_view.table.horizontalHeader().isSectionHidden(Column.ELAPSED)
    second.resize(1280, 800)  # the offscreen screen is smaller than the restored window
    second.composer_toggle.action.trigger()
    second.detail_toggle.action.trigger()
    assert second.main_splitter.sizes()[0] > 150 and second.jobs_splitter.sizes()[1] > 150
    assert second.composer.prompt_edit.isVisible()


def test_a_fresh_window_says_nothing_in_red(window: MainWindow) -> None:
    composer = window.composer
    problems = [
        label.objectName()
        for label in window.findChildren(QLabel)
        if label.property("tone") == "problem" and label.isVisible()
    ]
    assert problems == []
    assert not composer.speaking and composer.submit_button.isEnabled()
    # Pressing Generate is what makes it speak.
    composer.submit_button.click()
    assert composer.speaking and composer.prompt_problem.isVisible()
    assert "Write a prompt" in composer.prompt_problem.text()


@pytest.mark.parametrize("from_env", [True, False])
def test_the_no_keychain_note_is_only_for_a_key_that_would_be_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: Any, from_env: bool
) -> None:
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    keyring.set_keyring(NoKeyring())  # this system has no keychain
    if from_env:
        monkeypatch.setenv(ENV_VAR, "phaseo_v1_sk_FROMENV123")
    context = open_context(data_dir=tmp_path, base_url="https://gateway.example", demo=False)
    try:
        noted = any("No OS keychain" in message for message in context.messages)
        assert noted is not from_env
        dialog = SettingsDialog(None, context)
        qtbot.addWidget(dialog)
        assert (dialog.keychain_warning.text() == NO_KEYCHAIN_TEXT) is not from_env
        dialog.key_edit.setText("phaseo_v1_sk_TYPED456")  # this one would be lost: say so
        assert dialog.keychain_warning.text() == NO_KEYCHAIN_TEXT
        assert isinstance(context.secrets, MemorySecretStore)
    finally:
        context.close()
