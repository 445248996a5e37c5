"""The Settings dialog: API key (kept only in the secret store), gateway URL, downloads, alerts.

"Test connection" asks the gateway for its model list on the dialog's own one-thread pool
(the dialog also opens at first run, before the app's controller exists), using a temporary
client built from what is typed in the dialog, so a slow or dead gateway never freezes the
window and nothing is saved until OK.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import parse_catalogue
from core.errors import GatewayError
from core.gateway import DEFAULT_BASE_URL, GatewayClient
from core.gateway_http import normalise_base_url
from core.logsetup import REDACTION
from core.secrets import key_in_environment
from ui.cost_settings import CostSettings
from ui.offthread import run_task
from ui.preferences import Preferences
from ui.theme import ThemeChoice, set_tone

if TYPE_CHECKING:
    from core.context import AppContext

logger = logging.getLogger(__name__)

NO_KEYCHAIN_TEXT = "No OS keychain: the key is kept for this session only"


@dataclass(frozen=True)
class SettingsResult:
    """What the dialog changed. ``api_key`` is the new key when changed (``None``: removed)."""

    api_key_changed: bool
    api_key: str | None
    base_url: str
    download_dir: str
    auto_download: bool
    notifications: bool


def check_base_url(text: str) -> str | None:
    """Why ``text`` is not a usable gateway URL, or ``None`` (empty means the default)."""
    if not text.strip():
        return None
    try:
        normalise_base_url(text)
    except GatewayError:
        return "Use https://. Plain http is allowed only for a gateway on this computer."
    except ValueError as exc:
        return str(exc)
    return None


def probe_gateway(base_url: str, api_key: str | None) -> tuple[bool, str]:
    """Ask the gateway's model list with a throwaway client; ``(ok, plain-words message)``."""
    try:
        client = GatewayClient(base_url, api_key, connect_timeout=5.0, read_timeout=20.0)
    except GatewayError as error:
        return False, error.summary
    except ValueError as exc:
        return False, str(exc)
    try:
        document = client.models()
    except GatewayError as error:
        return False, error.summary
    except Exception as exc:  # a bug must reach the user as text, not kill the worker silently
        logger.exception("Connection test failed unexpectedly")
        return False, f"The connection test failed: {exc}"
    finally:
        client.close()
    count = len(parse_catalogue(document))
    return True, f"Connected: {count} model{'' if count == 1 else 's'} available"


class SettingsDialog(QDialog):
    """Edits the API key and the user's settings; see :meth:`ask`."""

    settings_chosen = Signal(object)  # SettingsResult | None, for callers that use open()

    def __init__(
        self, parent: QWidget | None, context: AppContext, preferences: Preferences | None = None
    ) -> None:
        """Edit ``context``'s key and settings; ``preferences`` (the app's) saves them."""
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._context = context
        #: Without the app's preferences (the first run), the dialog saves on its own.
        self._preferences = preferences or Preferences(
            context.settings, context.paths.settings, parent=self
        )
        self._result: SettingsResult | None = None
        self._key_removed = False
        self._probe_generation = 0
        self._pool: ThreadPoolExecutor | None = None
        self._build()
        self._load()

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.key_edit = QLineEdit(self)
        self.key_edit.setObjectName("apiKeyEdit")
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.textChanged.connect(self._refresh_keychain_warning)
        self.show_key_button = QPushButton("Show", self)
        self.show_key_button.setObjectName("showKeyButton")
        self.show_key_button.setAccessibleName("Show or hide the API key")
        self.show_key_button.setCheckable(True)
        self.show_key_button.toggled.connect(self._on_show_key)
        self.remove_key_button = QPushButton("Remove key", self)
        self.remove_key_button.setObjectName("removeKeyButton")
        self.remove_key_button.setAccessibleName("Remove the stored API key")
        self.remove_key_button.clicked.connect(self._on_remove_key)
        self.keychain_label = self._label("keychainLabel", "Where the key is stored")
        self.keychain_warning = self._label("keychainWarning", "Keychain warning")
        self.keychain_warning.setProperty("tone", "warning")
        self.test_button = QPushButton("Test connection", self)
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = self._label("testResultLabel", "Connection test result")
        self.base_url_edit = QLineEdit(self)
        self.base_url_edit.setObjectName("baseUrlEdit")
        self.base_url_edit.setAccessibleName("Gateway URL")
        self.base_url_edit.setPlaceholderText(f"{DEFAULT_BASE_URL} (default)")
        self.base_url_edit.textChanged.connect(self._validate)
        self.base_url_error = self._label("baseUrlError", "Gateway URL problem")
        self.base_url_error.setProperty("tone", "problem")
        self.download_dir_edit = QLineEdit(self)
        self.download_dir_edit.setObjectName("downloadDirEdit")
        self.download_dir_edit.setAccessibleName("Download folder")
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setObjectName("browseButton")
        self.browse_button.setAccessibleName("Choose the download folder")
        self.browse_button.clicked.connect(self._on_browse)
        self.auto_download_check = QCheckBox("Download videos as soon as they are ready", self)
        self.auto_download_check.setObjectName("autoDownloadCheck")
        self.auto_download_check.setAccessibleName("Download automatically on completion")
        self.sidecar_check = QCheckBox(
            "When saving a video, also save its parameters as a .json file beside it", self
        )
        self.sidecar_check.setObjectName("sidecarCheck")
        self.sidecar_check.setAccessibleName("Save a parameters file beside saved videos")
        self.notifications_check = QCheckBox("Notify me when a job finishes", self)
        self.notifications_check.setObjectName("notificationsCheck")
        self.notifications_check.setAccessibleName("Desktop notifications")
        self.theme_combo = QComboBox(self)
        self.theme_combo.setObjectName("themeCombo")
        self.theme_combo.setAccessibleName("Theme")
        for choice in ThemeChoice:
            self.theme_combo.addItem(choice.label, choice.value)
        self.error_label = self._label("settingsError", "Settings problem")
        self.error_label.setProperty("tone", "problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setObjectName("settingsButtons")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setAccessibleName("Save settings")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key_button)
        key_row.addWidget(self.remove_key_button)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        dir_row = QHBoxLayout()
        dir_row.addWidget(self.download_dir_edit, 1)
        dir_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("API key:", key_row)
        form.addRow("", self.keychain_label)
        form.addRow("", self.keychain_warning)
        form.addRow("", test_row)
        form.addRow("Gateway URL:", self.base_url_edit)
        form.addRow("", self.base_url_error)
        form.addRow("Download folder:", dir_row)
        form.addRow("", self.auto_download_check)
        form.addRow("", self.sidecar_check)
        form.addRow("", self.notifications_check)
        self.costs = CostSettings(self)
        form.addRow("&Theme:", self.theme_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.costs)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

    def _label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setWordWrap(True)
        label.setVisible(False)
        return label

    def _load(self) -> None:
        context = self._context
        settings = context.settings
        self.base_url_edit.setText(settings.base_url)
        self.download_dir_edit.setText(settings.download_dir)
        self.download_dir_edit.setPlaceholderText(str(context.paths.videos))
        self.auto_download_check.setChecked(settings.auto_download)
        self.notifications_check.setChecked(settings.notifications)
        self.sidecar_check.setChecked(settings.save_sidecar)
        self.costs.load(settings)
        self.theme_combo.setCurrentIndex(
            max(0, self.theme_combo.findData(ThemeChoice.parse(settings.theme).value))
        )
        self._refresh_key_labels()

    def _stored_key(self) -> str | None:
        try:
            return self._context.secrets.get()
        except Exception as exc:  # a locked keychain: behave as if nothing is stored
            logger.warning("Could not read the stored key: %s", type(exc).__name__)
            return None

    def _refresh_key_labels(self) -> None:
        secrets = self._context.secrets
        stored = self._stored_key() is not None
        self.key_edit.setPlaceholderText(
            "A key is stored: leave empty to keep it" if stored else "phaseo_v1_sk_…"
        )
        self.remove_key_button.setEnabled(stored)
        where = f"Stored in: {secrets.description}"
        if self._context.key_source and self._context.key_source != secrets.description:
            where += f". In use now: {self._context.key_source}"
        self._show(self.keychain_label, where)
        self._refresh_keychain_warning()

    def _refresh_keychain_warning(self) -> None:
        # With the key in PHASEO_API_KEY the keychain matters only once a key is typed here.
        quiet = key_in_environment() and not self.key_edit.text().strip()
        persistent = self._context.secrets.persistent
        self._show(self.keychain_warning, "" if persistent or quiet else NO_KEYCHAIN_TEXT)

    @staticmethod
    def _show(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    # -- behaviour -----------------------------------------------------------------------------

    @Slot(bool)
    def _on_show_key(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.key_edit.setEchoMode(mode)
        self.show_key_button.setText("Hide" if shown else "Show")

    @Slot()
    def _validate(self) -> bool:
        problem = check_base_url(self.base_url_edit.text())
        self._show(self.base_url_error, problem or "")
        self.ok_button.setEnabled(problem is None)
        self.test_button.setEnabled(problem is None)
        return problem is None

    @Slot()
    def _on_browse(self) -> None:
        start = self.download_dir_edit.text() or str(self._context.paths.videos)
        chosen = QFileDialog.getExistingDirectory(self, "Download folder", start)
        if chosen:
            self.download_dir_edit.setText(chosen)

    @Slot()
    def _on_remove_key(self) -> None:
        secrets = self._context.secrets
        answer = QMessageBox.question(
            self,
            "Remove API key",
            f"Remove the API key from {secrets.description}?\n"
            "Reelgate will not be able to reach the gateway until a new key is entered.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            secrets.delete()
        except Exception as exc:
            self._show(
                self.error_label, f"Could not remove the key from {secrets.description}: {exc}"
            )
            return
        self._key_removed = True
        self.key_edit.clear()
        self._show(self.error_label, "")
        self._refresh_key_labels()

    def _key_to_test(self) -> str | None:
        return self.key_edit.text().strip() or (None if self._key_removed else self._stored_key())

    @Slot()
    def test_connection(self) -> None:
        """Start a connection test in a worker thread; the result appears in the dialog."""
        if not self._validate():
            return
        base_url = self.base_url_edit.text().strip() or DEFAULT_BASE_URL
        key = self._key_to_test()
        if key is None:
            self._show(self.test_result, "Enter an API key to test the connection.")
            return
        self._probe_generation += 1
        generation = self._probe_generation
        self.test_button.setEnabled(False)
        self._show(self.test_result, f"Testing {base_url} …")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="settings-connection-test")
        run_task(
            self._pool.submit,
            probe_gateway,
            base_url,
            key,
            on_result=lambda outcome: self._on_probe_finished(generation, *outcome),
            receiver=self,
        )

    def _on_probe_finished(self, generation: int, ok: bool, message: str) -> None:
        if generation != self._probe_generation:
            return
        self.test_button.setEnabled(check_base_url(self.base_url_edit.text()) is None)
        set_tone(self.test_result, "ok" if ok else "problem")
        self._show(self.test_result, message)

    @property
    def test_message(self) -> str:
        """The last connection-test message shown (empty before the first test)."""
        return self.test_result.text() if self.test_result.isVisibleTo(self) else ""

    # -- closing -------------------------------------------------------------------------------

    def accept(self) -> None:
        """Store the key, save the settings, and close; on any failure stay open and say why."""
        if not self._validate():
            return
        secrets = self._context.secrets
        new_key = self.key_edit.text().strip() or None
        changed = self._key_removed
        if new_key is not None and new_key != self._stored_key():
            try:
                secrets.set(new_key)
            except Exception as exc:
                logger.warning("Storing the key failed: %s", type(exc).__name__)
                self._show(
                    self.error_label,
                    f"The API key could not be stored in {secrets.description}: {exc}. "
                    "Nothing was saved.",
                )
                return
            REDACTION.add_secret(new_key)
            changed = True
        preferences = self._preferences
        preferences.base_url = self.base_url_edit.text().strip().rstrip("/")
        preferences.download_dir = self.download_dir_edit.text().strip()
        preferences.auto_download = self.auto_download_check.isChecked()
        preferences.notifications = self.notifications_check.isChecked()
        preferences.save_sidecar = self.sidecar_check.isChecked()
        self.costs.store(preferences)
        preferences.theme = str(self.theme_combo.currentData())
        try:
            preferences.save_now()  # the dialog stays open and says why if this fails
        except OSError as exc:
            self._show(self.error_label, f"The settings could not be saved: {exc}")
            return
        self._result = self._make_result(changed, new_key if changed else None)
        super().accept()

    def _make_result(self, key_changed: bool, key: str | None) -> SettingsResult:
        settings = self._context.settings
        return SettingsResult(
            api_key_changed=key_changed,
            api_key=key,
            base_url=settings.base_url,
            download_dir=settings.download_dir,
            auto_download=settings.auto_download,
            notifications=settings.notifications,
        )

    @property
    def settings_result(self) -> SettingsResult | None:
        """The outcome: set on OK, or (after "Remove key") also on Cancel, else ``None``."""
        if self._result is None and self._key_removed:
            return self._make_result(True, None)
        return self._result

    def done(self, code: int) -> None:
        """Close, invalidate any running test, and announce the outcome for ``open()`` users."""
        self._probe_generation += 1
        if self._pool is not None:  # a test still running finishes on its own, unseen
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        super().done(code)
        self.settings_chosen.emit(self.settings_result)

    @classmethod
    def ask(
        cls, parent: QWidget | None, context: AppContext, preferences: Preferences | None = None
    ) -> SettingsResult | None:
        """Run the dialog modally (from plain slots only, never inside a coroutine)."""
        dialog = cls(parent, context, preferences)
        try:
            dialog.exec()
            return dialog.settings_result
        finally:
            dialog.deleteLater()
