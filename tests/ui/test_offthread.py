"""The off-thread helper: work on the pool, outcome on the GUI thread, nothing after teardown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from PySide6.QtCore import QObject

from ui.offthread import on_gui_thread, run_async, run_task, when_done


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-pool") as executor:
        yield executor


def _thread_name() -> str:
    return threading.current_thread().name


def test_the_result_comes_back_on_the_gui_thread(
    qapp: Any, qtbot: Any, pool: ThreadPoolExecutor
) -> None:
    receiver = QObject()
    seen: list[tuple[str, str]] = []
    future = run_task(
        pool.submit,
        _thread_name,
        on_result=lambda worker: seen.append((worker, _thread_name())),
        receiver=receiver,
    )
    assert future is not None
    qtbot.waitUntil(lambda: bool(seen), timeout=2_000)
    worker, delivered_on = seen[0]
    assert worker.startswith("test-pool")
    assert delivered_on == threading.main_thread().name


def test_an_error_reaches_on_error_on_the_gui_thread(
    qapp: Any, qtbot: Any, pool: ThreadPoolExecutor
) -> None:
    def fails() -> None:
        raise OSError("disk gone")

    receiver = QObject()
    results: list[object] = []
    errors: list[tuple[BaseException, str]] = []
    run_task(
        pool.submit,
        fails,
        on_result=results.append,
        on_error=lambda error: errors.append((error, _thread_name())),
        receiver=receiver,
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=2_000)
    error, thread = errors[0]
    assert isinstance(error, OSError) and str(error) == "disk gone"
    assert thread == threading.main_thread().name
    assert results == []


def test_an_unhandled_error_goes_to_the_crash_hook(
    qapp: Any, qtbot: Any, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooked: list[BaseException] = []
    monkeypatch.setattr("sys.excepthook", lambda kind, error, tb: hooked.append(error))

    def bug() -> None:
        raise ValueError("a bug")

    receiver = QObject()
    run_task(pool.submit, bug, on_result=lambda _value: None, receiver=receiver)
    qtbot.waitUntil(lambda: bool(hooked), timeout=2_000)
    assert isinstance(hooked[0], ValueError)


def test_nothing_is_delivered_to_a_deleted_receiver(
    qapp: Any, qtbot: Any, pool: ThreadPoolExecutor
) -> None:
    gate = threading.Event()
    receiver = QObject()
    delivered: list[object] = []
    witness = QObject()
    witnessed: list[object] = []
    future = run_task(pool.submit, gate.wait, 5, on_result=delivered.append, receiver=receiver)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive(receiver), timeout=2_000)
    gate.set()
    assert future is not None
    future.result(timeout=2)
    # A later delivery through the same queue proves the first one was processed (dropped).
    when_done(future, on_result=witnessed.append, receiver=witness)
    qtbot.waitUntil(lambda: bool(witnessed), timeout=2_000)
    assert delivered == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(obj))


def test_a_shut_pool_runs_nothing_and_says_so(qapp: Any) -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    executor.shutdown()
    called: list[object] = []
    receiver = QObject()
    future = run_task(executor.submit, _thread_name, on_result=called.append, receiver=receiver)
    assert future is None
    assert called == []


def test_delivery_is_queued_even_when_the_work_is_already_done(qapp: Any, qtbot: Any) -> None:
    def run_here(fn: Any, *args: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    receiver = QObject()
    got: list[int] = []
    run_task(run_here, lambda: 7, on_result=got.append, receiver=receiver)
    assert got == []  # not in the middle of the caller's code
    qtbot.waitUntil(lambda: got == [7], timeout=2_000)


def test_on_gui_thread_calls_arrive_in_order_on_the_gui_thread(
    qapp: Any, qtbot: Any, pool: ThreadPoolExecutor
) -> None:
    receiver = QObject()
    calls: list[tuple[int, str]] = []
    report = on_gui_thread(lambda n: calls.append((n, _thread_name())), receiver)
    pool.submit(lambda: [report(n) for n in range(50)]).result(timeout=2)
    qtbot.waitUntil(lambda: len(calls) == 50, timeout=2_000)
    assert [n for n, _ in calls] == list(range(50))
    assert {thread for _, thread in calls} == {threading.main_thread().name}


def test_run_async_returns_the_value_and_raises_the_error(
    run: Any, pool: ThreadPoolExecutor
) -> None:
    def add(a: int, b: int = 0) -> tuple[int, str]:
        return a + b, _thread_name()

    value, thread = run(run_async(pool.submit, add, 2, b=3))
    assert value == 5 and thread.startswith("test-pool")

    def fails() -> None:
        raise OSError("no network")

    with pytest.raises(OSError, match="no network"):
        run(run_async(pool.submit, fails))
