"""Test-wide isolation: headless Qt, an in-memory keychain, a private data folder, no real key.

The environment variables are set at import time, before any test module loads Qt, so the
offscreen platform is used and FFmpeg's chatter stays out of the logs. Every test gets an
in-memory keyring (``keyring.set_keyring``) and subprocesses are pointed at the same class
through ``PYTHON_KEYRING_BACKEND``: no test can read or write the real OS keychain.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ROOT = Path(__file__).resolve().parents[1]
#: Fixtures shared beyond one folder: ``images`` (a local HTTPS image server).
pytest_plugins = ("tests.image_server",)
#: Importable from a subprocess started in (or with PYTHONPATH on) the project root.
MEMORY_BACKEND = "tests.conftest.MemoryKeyring"


class MemoryKeyring(KeyringBackend):
    """A keychain that lives in a dict: what tests store disappears with the test."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret, or None."""
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Forget a secret (PasswordDeleteError when there is none, as keyring expects)."""
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no secret for {service}/{username}") from None


@pytest.fixture(autouse=True)
def isolated_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keychain; subprocesses get one too."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    python_path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(ROOT) if not python_path else f"{ROOT}{os.pathsep}{python_path}"
    )
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A private data folder and no API key from the developer's environment."""
    monkeypatch.setenv("REELGATE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)


# -- qasync loop fixtures for widget and app tests --------------------------------------------
# Qt is imported inside the fixtures: core tests share this file and never load Qt.

Runner = Callable[..., Any]


@pytest.fixture
def qloop(qapp: Any) -> Iterator[Any]:
    """A fresh qasync loop for this test, closed (with its leftovers) afterwards.

    Async flows are driven with ``run(coro)``; the loop is never stopped by a test (that would
    quit the application and break every later ``waitSignal``).
    """
    import asyncio
    import gc

    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
    gc.collect()


@pytest.fixture
def run(qloop: Any) -> Runner:
    """``run(awaitable, timeout=20)``: drive the loop until the awaitable is done."""
    import asyncio

    def runner(awaitable: Awaitable[Any], timeout: float = 20.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    return runner


@pytest.fixture
def wait_for(run: Runner) -> Callable[..., None]:
    """``wait_for(predicate, timeout=20)``: run the loop until ``predicate()`` is true."""
    import asyncio

    async def until(predicate: Callable[[], object]) -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    def waiter(predicate: Callable[[], object], timeout: float = 20.0) -> None:
        run(until(predicate), timeout)

    return waiter
