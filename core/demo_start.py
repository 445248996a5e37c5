"""The demo gateway's address, reserved before the gateway itself is loaded and started.

Importing the demo gateway (its HTTP server, API and checks) and starting it takes about
50 ms, which the window's start-up need not wait for. :class:`PendingDemo` binds the
loopback port and listens at once, so the gateway client can be made with its final
address; the gateway starts later (:meth:`PendingDemo.start`, from any thread) and takes
over that socket. A request sent in between waits in the socket's queue and is answered
once the gateway serves. Nothing here imports the demo gateway.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

#: The demo gateway's API key (it accepts no other).
DEMO_API_KEY = "demo"
#: How many connections may wait for the gateway to start serving.
BACKLOG = 512


class Stoppable(Protocol):
    """What a started gateway must offer here (``DemoGateway`` does)."""

    def stop(self) -> None:
        """Stop serving."""


G = TypeVar("G", bound=Stoppable)


class PendingDemo(Generic[G]):
    """A listening loopback socket for a demo gateway that ``launch`` starts later."""

    def __init__(self, launch: Callable[[socket.socket], G]) -> None:
        """Bind a free loopback port and listen; ``launch(sock)`` starts the gateway on it."""
        self._launch = launch
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=BACKLOG)
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._gateway: G | None = None
        self._closed = False

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, as :attr:`DemoGateway.base_url` will be."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> G | None:
        """Start the gateway (once; ``None`` after :meth:`close`).

        If starting fails, the socket is closed, so waiting requests fail at once instead of
        waiting for an answer that will not come; the error is raised.
        """
        with self._lock:
            if self._gateway is None and not self._closed:
                try:
                    self._gateway = self._launch(self._socket)
                except BaseException:
                    self._closed = True
                    self._socket.close()
                    raise
            return self._gateway

    def close(self) -> None:
        """Stop the gateway if it started, else stop listening (idempotent)."""
        with self._lock:
            self._closed = True
            if self._gateway is not None:
                self._gateway.stop()
            else:
                self._socket.close()
