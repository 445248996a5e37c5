"""Shared fixtures for end-to-end tests: a fast demo gateway and an engine wired to it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.demo_gateway import DEMO_API_KEY, DemoGateway
from core.engine import Engine
from core.gateway import GatewayClient
from core.journal import Journal
from core.poll_policy import PollPolicy, RequestBudget

#: Fast but realistic: the engine honours the server's poll_after_seconds (1 s here).
FAST_POLICY = PollPolicy(
    first_poll_after=0.2,
    default_poll_after=1.0,
    min_poll_after=0.2,
    jitter=0.05,
    backoff_base=0.2,
    backoff_cap=1.0,
)


@pytest.fixture
def gateway() -> Iterator[DemoGateway]:
    """A demo gateway with short job times and small frames."""
    with DemoGateway(
        queued_seconds=0.2, processing_seconds=0.5, poll_after_seconds=1, video_scale=0.25
    ) as gw:
        yield gw


def build_engine(
    data_dir: Path,
    base_url: str,
    key: str = DEMO_API_KEY,
    read_timeout: float = 5.0,
    budget: RequestBudget | None = None,
) -> Engine:
    """An engine over a real journal file and a real HTTP client."""
    journal = Journal.open(data_dir / "journal.db")
    client = GatewayClient(base_url, key, read_timeout=read_timeout)
    return Engine(
        journal,
        client,
        data_dir / "videos",
        policy=FAST_POLICY,
        budget=budget or RequestBudget(max_in_flight=8, per_second=50.0, burst=50),
        rng=random.Random(7),
    )


@pytest.fixture
def engine(tmp_path: Path, gateway: DemoGateway) -> Iterator[Engine]:
    """An engine talking to the fast demo gateway."""
    built = build_engine(tmp_path, gateway.base_url)
    yield built
    built.client.close()
    built.journal.close()
