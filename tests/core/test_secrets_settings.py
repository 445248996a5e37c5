"""API key storage, settings persistence and log redaction."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from core.logsetup import REDACTED, RedactingFilter, redact, setup_logging
from core.paths import resolve_paths
from core.secrets import (
    ENV_VAR,
    KeyringSecretStore,
    MemorySecretStore,
    open_secret_store,
    resolve_api_key,
)
from core.settings import Settings, load_settings, save_settings

KEY = "phaseo_v1_sk_UNITTESTSECRET42"


class DictKeyring(KeyringBackend):
    """An in-memory keyring backend standing in for the OS keychain."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.store:
            raise PasswordDeleteError("missing")
        del self.store[(service, username)]


@pytest.fixture
def dict_keyring(monkeypatch: pytest.MonkeyPatch) -> DictKeyring:
    backend = DictKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv(ENV_VAR, raising=False)
    yield backend
    keyring.set_keyring(previous)


def test_keychain_store_round_trip(dict_keyring: DictKeyring) -> None:
    store, warning = open_secret_store()
    assert warning is None
    assert isinstance(store, KeyringSecretStore) and store.persistent
    assert "DictKeyring" in store.description
    store.set(KEY)
    assert dict_keyring.store[("reelgate", "api-key")] == KEY
    assert resolve_api_key(store) == (KEY, store.description)
    store.delete()
    store.delete()  # deleting twice is fine
    assert store.get() is None


def test_no_keychain_falls_back_to_memory_with_a_plain_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store, warning = open_secret_store()
    finally:
        keyring.set_keyring(previous)
    assert isinstance(store, MemorySecretStore) and not store.persistent
    assert warning is not None and "this session only" in warning and "never" in warning


def test_environment_overrides_keychain(
    dict_keyring: DictKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemorySecretStore(KEY)
    monkeypatch.setenv(ENV_VAR, "phaseo_v1_sk_FROMENV")
    key, source = resolve_api_key(store)
    assert key == "phaseo_v1_sk_FROMENV" and ENV_VAR in source


def test_memory_store_repr_hides_key() -> None:
    assert KEY not in repr(MemorySecretStore(KEY))


def test_settings_round_trip_and_no_key_field(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    settings = Settings(base_url="https://gw.example/v1", auto_download=False, last_save_dir="/x")
    save_settings(path, settings)
    loaded, message = load_settings(path)
    assert message is None and loaded == settings
    assert "key" not in json.loads(path.read_text()).keys() - {"last_params"}


def test_damaged_settings_are_kept_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    loaded, message = load_settings(path)
    assert loaded == Settings()
    assert message is not None and "damaged" in message
    assert (tmp_path / "settings.json.damaged").read_text() == "{not json"


def test_settings_ignore_wrong_types() -> None:
    loaded = Settings.from_dict({"auto_download": "yes", "base_url": 5, "notifications": False})
    assert loaded.auto_download is True and loaded.base_url == "" and loaded.notifications is False


def test_data_dir_override_relocates_everything(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "portable").ensure()
    assert paths.journal.parent == tmp_path / "portable"
    assert paths.settings.is_relative_to(tmp_path / "portable")
    assert paths.videos.is_dir() and paths.logs.is_dir()


def test_redaction_of_known_and_key_shaped_secrets() -> None:
    text = f"Authorization: Bearer {KEY} and again {KEY} and phaseo_v2_sk_other-123"
    cleaned = redact(text, (KEY,))
    assert KEY not in cleaned and "phaseo_v2_sk_other-123" not in cleaned
    assert REDACTED in cleaned


def test_log_files_never_contain_the_key(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    redaction: RedactingFilter = setup_logging(tmp_path / "logs")
    redaction.add_secret("plainsecretvalue")
    log = logging.getLogger("reelgate.test")
    try:
        log.warning("sending key %s", KEY)
        log.warning("headers %r", {"Authorization": "Bearer plainsecretvalue"})
        try:
            raise RuntimeError(f"failed with {KEY}")
        except RuntimeError:
            log.exception("boom")
    finally:
        for handler in root.handlers[len(before) :]:
            handler.flush()
            handler.close()
            root.removeHandler(handler)
    content = (tmp_path / "logs" / "reelgate.log").read_text()
    assert "sending key" in content and "boom" in content
    assert KEY not in content and "plainsecretvalue" not in content


#: Not shaped like a Phaseo key, so only knowing the stored key can redact it.
STORED = "plainkeychainsecret99"


class CountingKeyring(DictKeyring):
    """The stand-in keychain, counting reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def test_a_demo_run_reads_the_keychain_only_when_asked_and_still_redacts_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.context import open_context
    from core.secrets import DeferredSecretStore

    backend = CountingKeyring()
    backend.store[("reelgate", "api-key")] = STORED
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv(ENV_VAR, raising=False)
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging(tmp_path / "logs")
    context = open_context(data_dir=tmp_path / "data", demo=True)
    try:
        assert context.runs_demo_gateway and context.key_source == "demo mode"
        assert isinstance(context.secrets, DeferredSecretStore)
        assert backend.reads == 0  # the window can open before the keychain does
        context.redact_stored_key()  # what the window runs on a worker thread once shown
        assert backend.reads == 1
        logging.getLogger("reelgate.test").warning("pasted %s", STORED)
        # Settings still says where a key would be kept, and can store one.
        assert "CountingKeyring" in context.secrets.description and context.secrets.persistent
        context.secrets.set("phaseo_v1_sk_ANOTHERKEY")
        assert backend.store[("reelgate", "api-key")] == "phaseo_v1_sk_ANOTHERKEY"
    finally:
        context.close()
        keyring.set_keyring(previous)
        for handler in root.handlers[len(before) :]:
            handler.flush()
            handler.close()
            root.removeHandler(handler)
    content = (tmp_path / "logs" / "reelgate.log").read_text()
    assert "pasted" in content and STORED not in content


def test_a_deferred_store_without_a_keychain_keeps_the_key_for_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from keyring.backends import fail

    from core.secrets import DeferredSecretStore

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = DeferredSecretStore()
        store.set(KEY)
        assert store.get() == KEY and not store.persistent
        assert store.warning is not None and "session" in store.warning
        assert KEY not in repr(store)
    finally:
        keyring.set_keyring(previous)
