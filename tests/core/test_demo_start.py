"""A demo gateway whose address is reserved now and which starts later (the window's way)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from core.context import open_context
from core.demo_gateway import DemoGateway
from core.demo_start import DEMO_API_KEY, PendingDemo
from core.errors import ErrorKind, GatewayError
from core.gateway import GatewayClient


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_request_sent_before_the_demo_gateway_starts_is_answered_once_it_does(
    tmp_path: Path,
) -> None:
    context = open_context(data_dir=tmp_path / "data", demo=True, defer_demo=True)
    port = context.pending_demo.port if context.pending_demo is not None else 0
    try:
        assert context.runs_demo_gateway and context.demo is None
        assert context.client.base_url == f"http://127.0.0.1:{port}/v1"
        answers: list[object] = []
        asking = threading.Thread(target=lambda: answers.append(context.client.models()))
        asking.start()
        time.sleep(0.3)
        assert asking.is_alive() and answers == []  # waiting, not refused
        context.start_pending_demo()
        asking.join(timeout=10)
        assert answers and answers[0]  # the demo catalogue
        assert context.demo is not None and context.demo.base_url == context.client.base_url
        context.start_pending_demo()  # a second call changes nothing
    finally:
        context.close()
    assert _refused(port)


def test_a_deferred_demo_gateway_never_started_stops_listening_on_close(tmp_path: Path) -> None:
    context = open_context(data_dir=tmp_path / "data", demo=True, defer_demo=True)
    assert context.pending_demo is not None
    port = context.pending_demo.port
    context.close()
    assert _refused(port)
    context.start_pending_demo()  # after close: nothing starts
    assert context.demo is None


def test_a_demo_gateway_that_cannot_start_makes_requests_fail_at_once() -> None:
    def broken(_sock: socket.socket) -> DemoGateway:
        raise OSError("the state file is unreadable")

    pending = PendingDemo(broken)
    client = GatewayClient(pending.base_url, DEMO_API_KEY, connect_timeout=2, read_timeout=2)
    with pytest.raises(OSError, match="unreadable"):
        pending.start()
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        client.models()
    assert caught.value.kind is ErrorKind.NETWORK
    assert time.monotonic() - started < 2  # refused, not left waiting for an answer
    client.close()
