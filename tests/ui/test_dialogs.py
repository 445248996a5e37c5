"""Dialogs: Settings (real loopback connection tests, key storage), first run, file choosers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QLineEdit, QMessageBox

from core.context import AppContext, open_context
from core.demo_gateway import DemoGateway
from core.secrets import MemorySecretStore
from ui.dialogs import ExportDialog, FirstRunDialog, SaveDialog, SettingsDialog
from ui.dialogs.settings_dialog import NO_KEYCHAIN_TEXT, check_base_url

#: The offscreen platform warns about this whenever a top-level window is shown.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
SECRET = "phaseo_v1_sk_TESTSECRET0123456789"
LEFT = Qt.MouseButton.LeftButton


class LockedStore(MemorySecretStore):
    """A keychain that refuses to store anything."""

    def set(self, key: str) -> None:
        raise RuntimeError("the keychain is locked")


class PersistentStore(MemorySecretStore):
    """A store that claims to survive restarts (like the OS keychain)."""

    @property
    def persistent(self) -> bool:
        return True


@pytest.fixture
def guarded_gateway() -> Iterator[DemoGateway]:
    """A demo gateway that only accepts the key "right"."""
    with DemoGateway(api_key="right", video_scale=0.25) as gateway:
        yield gateway


def make_context(tmp_path: Path, base_url: str, store: MemorySecretStore) -> AppContext:
    return open_context(data_dir=tmp_path, base_url=base_url, demo=False, secrets=store)


@pytest.fixture
def store() -> MemorySecretStore:
    return MemorySecretStore(description="test memory")


@pytest.fixture
def context(tmp_path, guarded_gateway, store, monkeypatch) -> Iterator[AppContext]:
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)
    opened = make_context(tmp_path, guarded_gateway.base_url, store)
    yield opened
    opened.close()


@pytest.fixture
def dialog(qtbot, context: AppContext) -> SettingsDialog:
    widget = SettingsDialog(None, context)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_connection_test_with_a_good_key_says_connected(qtbot, dialog, guarded_gateway) -> None:
    dialog.base_url_edit.setText(guarded_gateway.base_url)
    qtbot.keyClicks(dialog.key_edit, "right")
    qtbot.mouseClick(dialog.test_button, LEFT)
    # The click returns at once: the request runs off the GUI thread.
    assert dialog.test_message.startswith("Testing")
    assert not dialog.test_button.isEnabled()

    qtbot.waitUntil(lambda: dialog.test_message.startswith("Connected"), timeout=10_000)
    assert dialog.test_message.endswith("models available")
    assert dialog.test_button.isEnabled()


def test_connection_test_with_a_wrong_key_says_why(qtbot, dialog, guarded_gateway) -> None:
    dialog.base_url_edit.setText(guarded_gateway.base_url)
    qtbot.keyClicks(dialog.key_edit, "wrong")
    qtbot.mouseClick(dialog.test_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.test_message.startswith("Testing"), timeout=10_000)
    assert dialog.test_message.startswith("The gateway did not accept the API key")


def test_ok_stores_the_key_only_in_the_secret_store(qtbot, dialog, context, store) -> None:
    qtbot.keyClicks(dialog.key_edit, SECRET)
    dialog.auto_download_check.setChecked(False)
    dialog.download_dir_edit.setText(str(context.paths.data_dir / "my-videos"))
    qtbot.mouseClick(dialog.ok_button, LEFT)

    assert dialog.result() == QDialog.DialogCode.Accepted
    result = dialog.settings_result
    assert result is not None
    assert result.api_key_changed and result.api_key == SECRET
    assert not result.auto_download
    assert store.get() == SECRET
    saved = context.paths.settings.read_text(encoding="utf-8")
    assert SECRET not in saved
    assert json.loads(saved)["auto_download"] is False
    assert json.loads(saved)["download_dir"].endswith("my-videos")


def test_a_store_that_refuses_the_key_keeps_the_dialog_open(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)
    context = make_context(tmp_path, "https://gateway.example/v1", LockedStore())
    try:
        dialog = SettingsDialog(None, context)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.key_edit, SECRET)
        qtbot.mouseClick(dialog.ok_button, LEFT)
        assert dialog.isVisible()
        assert dialog.settings_result is None
        assert "the keychain is locked" in dialog.error_label.text()
        assert dialog.error_label.isVisibleTo(dialog)
        assert not context.paths.settings.exists()
    finally:
        context.close()


def test_plain_http_to_another_machine_is_rejected_inline(dialog) -> None:
    dialog.base_url_edit.setText("http://gateway.example.com/v1")
    assert dialog.base_url_error.isVisibleTo(dialog)
    assert "https://" in dialog.base_url_error.text()
    assert not dialog.ok_button.isEnabled()
    assert not dialog.test_button.isEnabled()

    dialog.base_url_edit.setText("http://127.0.0.1:8765/v1")
    assert not dialog.base_url_error.isVisibleTo(dialog)
    assert dialog.ok_button.isEnabled()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("", True),
        ("https://api.phaseo.app/v1", True),
        ("http://localhost:8765/v1", True),
        ("http://[::1]:8765/v1", True),
        ("http://10.0.0.5/v1", False),
        ("ftp://api.phaseo.app/v1", False),
        ("not a url", False),
    ],
)
def test_check_base_url(url: str, ok: bool) -> None:
    assert (check_base_url(url) is None) is ok


def test_keychain_description_and_session_only_warning(dialog, store) -> None:
    assert "test memory" in dialog.keychain_label.text()
    assert dialog.keychain_warning.text() == NO_KEYCHAIN_TEXT
    assert dialog.keychain_warning.isVisibleTo(dialog)


def test_no_warning_with_a_persistent_store(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)
    context = make_context(tmp_path, "https://gateway.example/v1", PersistentStore())
    try:
        dialog = SettingsDialog(None, context)
        qtbot.addWidget(dialog)
        assert not dialog.keychain_warning.isVisibleTo(dialog)
    finally:
        context.close()


def test_show_hide_toggles_the_echo_mode(qtbot, dialog) -> None:
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password
    qtbot.mouseClick(dialog.show_key_button, LEFT)
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Normal
    qtbot.mouseClick(dialog.show_key_button, LEFT)
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_remove_key_after_confirmation(qtbot, dialog, store, monkeypatch) -> None:
    store.set(SECRET)
    dialog._refresh_key_labels()
    assert dialog.remove_key_button.isEnabled()
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes
    )
    qtbot.mouseClick(dialog.remove_key_button, LEFT)
    assert store.get() is None
    dialog.reject()
    result = dialog.settings_result  # removal already happened, so Cancel still reports it
    assert result is not None and result.api_key_changed and result.api_key is None


def test_remove_key_declined_keeps_it(qtbot, dialog, store, monkeypatch) -> None:
    store.set(SECRET)
    dialog._refresh_key_labels()
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.No
    )
    qtbot.mouseClick(dialog.remove_key_button, LEFT)
    assert store.get() == SECRET


def test_settings_controls_have_accessible_names(dialog) -> None:
    from PySide6.QtWidgets import QAbstractButton

    controls = [*dialog.findChildren(QAbstractButton), *dialog.findChildren(QLineEdit)]
    assert controls and all(control.accessibleName() for control in controls)


# -- first run ------------------------------------------------------------------------------


@pytest.mark.parametrize(("button", "choice"), [("demo_button", "demo"), ("key_button", "key")])
def test_first_run_buttons(qtbot, button: str, choice: str) -> None:
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Welcome to Reelgate"
    qtbot.mouseClick(getattr(dialog, button), LEFT)
    assert dialog.choice == choice
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_first_run_closed_returns_none(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: self.reject())
    assert FirstRunDialog.ask(None) is None
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: self.key_button.click())
    assert FirstRunDialog.ask(None) == "key"


# -- file choosers ----------------------------------------------------------------------------


def test_save_dialog_is_an_mp4_save_chooser(qtbot, tmp_path) -> None:
    dialog = SaveDialog.build(None, tmp_path / "lighthouse.mp4")
    qtbot.addWidget(dialog)
    assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    assert dialog.defaultSuffix() == "mp4"
    assert dialog.nameFilters() == ["MP4 video (*.mp4)"]
    assert not dialog.testOption(QFileDialog.Option.DontConfirmOverwrite)


def test_save_dialog_adds_the_suffix(qtbot, tmp_path, monkeypatch) -> None:
    def accept_typed_name(self: QFileDialog) -> int:
        self.selectFile(str(tmp_path / "my clip"))
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(QFileDialog, "exec", accept_typed_name)
    chosen = SaveDialog.ask(None, tmp_path / "suggested.mp4")
    assert chosen is not None and chosen.name == "my clip.mp4"
    monkeypatch.setattr(QFileDialog, "exec", lambda self: QDialog.DialogCode.Rejected.value)
    assert SaveDialog.ask(None, tmp_path / "suggested.mp4") is None


def test_export_dialog_is_a_json_chooser(qtbot, tmp_path) -> None:
    dialog = ExportDialog.build(None, tmp_path / "diagnostics.json")
    qtbot.addWidget(dialog)
    assert dialog.defaultSuffix() == "json"
    assert dialog.nameFilters() == ["JSON file (*.json)"]
    assert ExportDialog.with_suffix(Path("/x/report")) == Path("/x/report.json")
    assert ExportDialog.with_suffix(Path("/x/report.JSON")) == Path("/x/report.JSON")
