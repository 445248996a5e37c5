"""Fixtures for widget tests: a fresh qasync loop per test, a fast demo gateway, real windows.

The qasync loop fixtures (``qloop``, ``run``, ``wait_for``) live in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync

from core.context import AppContext, open_context
from core.demo_gateway import DemoGateway
from core.poll_policy import PollPolicy, RequestBudget
from core.secrets import MemorySecretStore
from ui.controller import Controller
from ui.main_window import CloseNotice, MainWindow

T = TypeVar("T")
TEST_KEY = "phaseo_v1_sk_TESTSECRET123"
#: Poll soon after a create, then as the (fast) server asks.
FAST_POLICY = PollPolicy(
    first_poll_after=0.2,
    default_poll_after=1.0,
    min_poll_after=0.2,
    jitter=0.05,
    backoff_base=0.2,
    backoff_cap=1.0,
)
#: Benign messages of the offscreen platform and a machine without a sound server.
QT_NOISE = (
    "does not support propagateSizeHints",
    "does not support raise",
    "PulseAudioService",
    "No RHI backend",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Widget tests ignore the offscreen platform's benign warnings."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))


@pytest.fixture
def gateway() -> Iterator[DemoGateway]:
    """A fast demo gateway that only accepts :data:`TEST_KEY`."""
    with DemoGateway(
        queued_seconds=0.3,
        processing_seconds=0.8,
        poll_after_seconds=1,
        video_scale=0.25,
        api_key=TEST_KEY,
    ) as gw:
        yield gw


def open_test_context(
    data_dir: Path, gw: DemoGateway, key: str = TEST_KEY, budget: RequestBudget | None = None
) -> AppContext:
    """A real context (journal, HTTP client, engine) against ``gw`` with fast polling."""
    return open_context(
        data_dir=data_dir,
        base_url=gw.base_url,
        demo=False,
        secrets=MemorySecretStore(key),
        policy=FAST_POLICY,
        budget=budget or RequestBudget(max_in_flight=8, per_second=50.0, burst=50),
    )


ContextFactory = Callable[..., AppContext]


@pytest.fixture
def make_context(gateway: DemoGateway) -> ContextFactory:
    """``make_context(data_dir, key=TEST_KEY)``: a context against the test gateway."""

    def factory(data_dir: Path, key: str = TEST_KEY) -> AppContext:
        return open_test_context(data_dir, gateway, key)

    return factory


WindowFactory = Callable[[AppContext], MainWindow]


@pytest.fixture
def make_window(
    qtbot: Any, qloop: qasync.QEventLoop, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WindowFactory]:
    """Build shown main windows; they are closed (and their contexts with them) afterwards."""
    monkeypatch.setattr(CloseNotice, "ask", classmethod(lambda cls, parent, count: True))
    windows: list[MainWindow] = []

    def factory(context: AppContext) -> MainWindow:
        window = MainWindow(Controller(context, loop=qloop))
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        window.start()
        return window

    yield factory
    for window in windows:
        window.close()
        window.controller.close()
        window.deleteLater()


@pytest.fixture
def window(
    tmp_path: Path, gateway: DemoGateway, make_window: WindowFactory, qtbot: Any
) -> MainWindow:
    """A window over a fresh data folder, with the live catalogue loaded."""
    shown = make_window(open_test_context(tmp_path / "data", gateway))
    qtbot.waitUntil(lambda: shown.composer.model_combo.count() > 0, timeout=5_000)
    return shown
