"""Fixtures shared by the demo gateway tests: a hand-moved clock, a gateway on it, a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from core.demo_gateway import DEMO_API_KEY, DemoGateway

AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}
T0 = 1_760_000_000.0


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fresh hand-moved clock at :data:`T0`."""
    return FakeClock()


@pytest.fixture
def gw(clock: FakeClock) -> Iterator[DemoGateway]:
    """A demo gateway on ``clock``: 1 s queued, 4 s processing, tiny frames."""
    with DemoGateway(
        queued_seconds=1.0, processing_seconds=4.0, video_scale=0.125, clock=clock
    ) as gateway:
        yield gateway


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session carrying the demo key."""
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session
