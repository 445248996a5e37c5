"""Where the API key lives: the OS keychain through ``keyring``, or memory for the session.

Reelgate never writes the key to a file of its own. When no keychain backend exists
(``keyring`` raises ``NoKeyringError`` or only offers the "fail"/plaintext backends), the key
is kept for the running session only and the user is told so plainly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Protocol

logger = logging.getLogger(__name__)

SERVICE = "reelgate"
ACCOUNT = "api-key"
ENV_VAR = "PHASEO_API_KEY"
#: keyring backends that would store the key in a plaintext file or not at all.
_UNSAFE_BACKENDS = ("PlaintextKeyring", "EncryptedKeyring", "fail.Keyring", "null.Keyring")


class SecretStore(Protocol):
    """A place to keep one API key."""

    @property
    def description(self) -> str:
        """Where keys go, in words a person understands (e.g. "Secret Service keychain")."""
        ...

    @property
    def persistent(self) -> bool:
        """Whether a stored key survives a restart."""
        ...

    def get(self) -> str | None:
        """The stored key, or ``None``."""
        ...

    def set(self, key: str) -> None:
        """Store ``key`` (replacing any previous one)."""
        ...

    def delete(self) -> None:
        """Forget the stored key (no error when none is stored)."""
        ...


class MemorySecretStore:
    """Keeps the key in memory only: for tests, and the session fallback without a keychain."""

    def __init__(self, key: str | None = None, description: str = "this session only") -> None:
        """Hold ``key`` (``None``: none yet); ``description`` says where it is kept."""
        self._key = key
        self._description = description

    @property
    def description(self) -> str:
        """See :class:`SecretStore`."""
        return self._description

    @property
    def persistent(self) -> bool:
        """Memory does not survive a restart."""
        return False

    def get(self) -> str | None:
        """See :class:`SecretStore`."""
        return self._key

    def set(self, key: str) -> None:
        """See :class:`SecretStore`."""
        self._key = key

    def delete(self) -> None:
        """See :class:`SecretStore`."""
        self._key = None

    def __repr__(self) -> str:
        """Whether a key is held, never the key."""
        return f"MemorySecretStore(has_key={self._key is not None})"


class KeyringSecretStore:
    """The OS keychain (Secret Service, macOS Keychain, Windows Credential Locker) via keyring."""

    def __init__(self, backend_name: str) -> None:
        """Use the keyring backend named ``backend_name``."""
        self._backend_name = backend_name

    @property
    def description(self) -> str:
        """See :class:`SecretStore`."""
        return f"OS keychain ({self._backend_name})"

    @property
    def persistent(self) -> bool:
        """Keychain entries survive restarts."""
        return True

    def get(self) -> str | None:
        """See :class:`SecretStore`."""
        import keyring

        value = keyring.get_password(SERVICE, ACCOUNT)
        return value or None

    def set(self, key: str) -> None:
        """See :class:`SecretStore`."""
        import keyring

        keyring.set_password(SERVICE, ACCOUNT, key)

    def delete(self) -> None:
        """See :class:`SecretStore`."""
        import keyring
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            keyring.delete_password(SERVICE, ACCOUNT)

    def __repr__(self) -> str:
        """The backend's name, never the key."""
        return f"KeyringSecretStore({self._backend_name!r})"


class DeferredSecretStore:
    """The store :func:`open_secret_store` picks, picked on first use (from any thread).

    Picking a keyring backend imports keyring and its backends, about 60 ms. A run that needs
    no key before its window shows (``--demo``) uses this store, so the choice is made later:
    on a worker thread, or when Settings first asks.
    """

    def __init__(self) -> None:
        """Nothing is opened yet."""
        self._lock = threading.Lock()
        self._store: SecretStore | None = None
        self._warning: str | None = None

    def _open(self) -> SecretStore:
        with self._lock:
            if self._store is None:
                self._store, self._warning = open_secret_store()
            return self._store

    @property
    def warning(self) -> str | None:
        """What :func:`open_secret_store` warned about (no keychain), once opened."""
        self._open()
        return self._warning

    @property
    def description(self) -> str:
        """See :class:`SecretStore`."""
        return self._open().description

    @property
    def persistent(self) -> bool:
        """See :class:`SecretStore`."""
        return self._open().persistent

    def get(self) -> str | None:
        """See :class:`SecretStore`."""
        return self._open().get()

    def set(self, key: str) -> None:
        """See :class:`SecretStore`."""
        self._open().set(key)

    def delete(self) -> None:
        """See :class:`SecretStore`."""
        self._open().delete()

    def __repr__(self) -> str:
        """The store once opened, never the key."""
        return f"DeferredSecretStore({self._store!r})"


def _backend_is_safe(backend: object) -> bool:
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if any(marker in name for marker in _UNSAFE_BACKENDS):
        return False
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) > 0
    except (TypeError, ValueError):
        return True


def open_secret_store() -> tuple[SecretStore, str | None]:
    """Pick the keychain when a real one exists; else memory, with a warning to show the user."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # keyring can fail in many platform-specific ways
        logger.info("No keychain available: %s", type(exc).__name__)
        backend = None
    if backend is not None and _backend_is_safe(backend):
        name = type(backend).__name__
        return KeyringSecretStore(name), None
    warning = (
        "No OS keychain is available on this system, so the API key is kept for this session "
        "only and must be entered again after a restart. Reelgate never stores it in a file."
    )
    logger.info("No usable keychain backend; the API key is kept in memory only")
    return MemorySecretStore(), warning


def key_in_environment() -> bool:
    """Whether the key comes from ``PHASEO_API_KEY`` (then a missing keychain does not matter)."""
    return bool(os.environ.get(ENV_VAR, "").strip())


def resolve_api_key(store: SecretStore) -> tuple[str | None, str]:
    """The key to use and where it came from: the environment overrides the keychain."""
    env_key = os.environ.get(ENV_VAR, "").strip()
    if env_key:
        return env_key, f"the {ENV_VAR} environment variable"
    try:
        key = store.get()
    except Exception as exc:  # a locked or broken keychain must not stop the app
        logger.warning("Could not read the keychain: %s", type(exc).__name__)
        return None, store.description
    return key, store.description
