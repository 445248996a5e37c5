"""One way to run work off the GUI thread and get its outcome back on the GUI thread.

Network calls, file copies, hashing, media probing, thumbnail decoding and building large
texts never run on the GUI thread. Hand them to a worker pool with one of these:

``run_task(submit, fn, *args, on_result=..., on_error=..., receiver=...)``
    From a plain slot or method. ``submit`` is the pool's submit function; in the app that is
    :meth:`ui.controller.Controller.run_background` (tests may pass ``ThreadPoolExecutor.submit``).
    ``fn(*args)`` runs on a worker thread; then ``on_result(value)`` or ``on_error(exception)``
    runs on the GUI thread, never both, and never if ``receiver`` (a QObject, usually ``self``)
    was deleted meanwhile. Without ``on_error`` an exception is a bug: it goes to
    ``sys.excepthook`` (the crash dialog). Returns the future, or ``None`` when the pool is
    already shut down (the window is closing): then neither callback runs. Example::

        run_task(
            controller.run_background,
            journal.jobs,
            on_result=self._show_jobs,
            on_error=self._say_why,
            receiver=self,
        )

``await run_async(submit, fn, *args, **kwargs)``
    Inside a coroutine on the qasync loop (the controller's ``async`` methods use it): the
    same pool, the value returned or the exception raised where you await it. Cancelling the
    awaiting task cancels the work if it has not started.

``when_done(future, on_result=..., on_error=..., receiver=...)``
    Like :func:`run_task` for a future you already have (e.g.
    ``controller.download_in_background(job)``).

``on_gui_thread(fn, receiver)``
    A function that any thread may call; each call runs ``fn(*args)`` later on the GUI thread
    (progress callbacks, reports from hooks). Calls arrive in order.

Every delivery is queued, even when the work finished at once, so a callback never runs in
the middle of the code that started the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: A pool's submit function: ``submit(fn, *args) -> Future`` (raises RuntimeError once shut).
Submit = Callable[..., Future[Any]]


class _Relay(QObject):
    """Lives on the GUI thread and runs the callables posted to it, in order."""

    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()


_relay: _Relay | None = None
_relay_lock = threading.Lock()


def _gui_relay() -> _Relay:
    """The relay, created on first use and moved to the application's thread."""
    global _relay
    with _relay_lock:
        if _relay is None or not shiboken6.isValid(_relay):
            app = QCoreApplication.instance()
            if app is None:
                raise RuntimeError("no QApplication: nothing can run on the GUI thread")
            relay = _Relay()
            if relay.thread() is not app.thread():
                relay.moveToThread(app.thread())
            _relay = relay
        return _relay


def _post(relay: _Relay, receiver: QObject, fn: Callable[..., Any], *args: Any) -> None:
    """Queue ``fn(*args)`` to the GUI thread, dropped if ``receiver`` is gone by then."""

    def call() -> None:
        if shiboken6.isValid(receiver):
            fn(*args)

    with contextlib.suppress(RuntimeError):  # the application is shutting down
        relay.posted.emit(call)


def _unexpected(error: BaseException) -> None:
    sys.excepthook(type(error), error, error.__traceback__)


def on_gui_thread(fn: Callable[..., Any], receiver: QObject) -> Callable[..., None]:
    """A thread-safe stand-in for ``fn``: each call runs ``fn(*args)`` on the GUI thread."""
    relay = _gui_relay()
    return functools.partial(_post, relay, receiver, fn)


def when_done(
    future: Future[T],
    *,
    on_result: Callable[[T], Any],
    on_error: Callable[[BaseException], Any] | None = None,
    receiver: QObject,
) -> None:
    """Deliver ``future``'s value or exception to the GUI thread (nothing if cancelled)."""
    relay = _gui_relay()

    def done(finished: Future[T]) -> None:  # on the worker thread (or here, if already done)
        if finished.cancelled():
            return
        error = finished.exception()
        if error is None:
            _post(relay, receiver, on_result, finished.result())
        else:
            _post(relay, receiver, on_error or _unexpected, error)

    future.add_done_callback(done)


def run_task(
    submit: Submit,
    fn: Callable[..., T],
    *args: Any,
    on_result: Callable[[T], Any],
    on_error: Callable[[BaseException], Any] | None = None,
    receiver: QObject,
) -> Future[T] | None:
    """Run ``fn(*args)`` on the pool; its outcome comes back on the GUI thread.

    See the module docstring. Returns ``None`` (and calls nothing) if the pool is shut down.
    """
    try:
        future: Future[T] = submit(fn, *args)
    except RuntimeError:  # the pool is shut down: the window is closing
        logger.debug("Dropped %s: the worker pool is shut down", getattr(fn, "__name__", fn))
        return None
    when_done(future, on_result=on_result, on_error=on_error, receiver=receiver)
    return future


async def run_async(submit: Submit, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Await ``fn(*args, **kwargs)`` run on the pool (raises what ``fn`` raised)."""
    future: Future[T] = submit(functools.partial(fn, *args, **kwargs))
    return await asyncio.wrap_future(future)
