"""Pure polling policy: when each job is next due, backoff after failures, and a request budget.

Nothing here sleeps, starts a thread or does I/O. Every function takes the current time
(``now``, seconds on any monotonic-ish clock) and a :class:`random.Random` for jitter, and
returns an *absolute* time, so the Qt poller can set one timer for the earliest due time and
tests can drive a simulated clock with a seeded generator.

Jitter policy (why it only ever adds time): the gateway asks for a poll every
``poll_after_seconds`` (20 s today). Polling earlier than asked would be impolite, and the
point of jitter here is only to stop many jobs created together from polling in lockstep.
So a normal delay is ``base * (1 + u * jitter)`` with ``u`` uniform in ``[0, 1)``: never
sooner than the server asked, and on average ``1 + jitter / 2`` times the ideal interval
(1.05x with the default 0.1). The number of polls is therefore never above the ideal.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.errors import ErrorKind
from core.jobs import Job

logger = logging.getLogger(__name__)

#: The longest ``Retry-After`` honoured as given (a day); a longer one is read as a day.
MAX_RETRY_AFTER = 86_400.0


@dataclass(frozen=True)
class PollPolicy:
    """The numbers behind polling: first poll, server guidance clamps, jitter and backoff."""

    #: Delay before the first status poll after a create (its answer has no guidance). The
    #: gateway's cadence (20 s), not sooner: an early first look costs every job one extra
    #: request (7 instead of 6 for a two-minute job, 1.17x the ideal in the polling-economy
    #: benchmark) and only ever sees "queued". A gateway on this machine uses less (context).
    first_poll_after: float = 20.0
    #: Delay when a status answer carries no usable ``poll_after_seconds``.
    default_poll_after: float = 20.0
    #: Floor and ceiling applied to whatever the server says.
    min_poll_after: float = 1.0
    max_poll_after: float = 600.0
    #: Upward-only jitter, as a fraction of the delay (see the module docstring).
    jitter: float = 0.1
    #: Exponential backoff after consecutive failures: base * factor ** (failures - 1), capped.
    backoff_base: float = 2.0
    backoff_factor: float = 2.0
    backoff_cap: float = 300.0

    def __post_init__(self) -> None:
        """Reject settings that would poll in a tight loop or never at all."""
        if not 0 < self.min_poll_after <= self.max_poll_after:
            raise ValueError("need 0 < min_poll_after <= max_poll_after")
        for name in ("first_poll_after", "default_poll_after", "backoff_base", "backoff_cap"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.backoff_factor < 1:
            raise ValueError("backoff_factor must be at least 1")


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _jittered(delay: float, policy: PollPolicy, rng: random.Random) -> float:
    """``delay`` stretched by up to ``jitter`` (never shortened)."""
    return delay * (1.0 + rng.random() * policy.jitter)


def next_after_create(now: float, policy: PollPolicy, rng: random.Random) -> float:
    """When to poll a job for the first time, right after its create answered."""
    return now + _jittered(policy.first_poll_after, policy, rng)


def clamp_poll_after(poll_after: float | None, policy: PollPolicy) -> float:
    """The server's ``poll_after_seconds`` made safe: default when absent, clamped otherwise.

    ``None`` and NaN mean "no guidance" (the default applies); zero, negative and tiny
    values are raised to ``min_poll_after``; huge values and infinity are cut to
    ``max_poll_after``.
    """
    if poll_after is None or math.isnan(poll_after):
        return _clamp(policy.default_poll_after, policy.min_poll_after, policy.max_poll_after)
    return _clamp(poll_after, policy.min_poll_after, policy.max_poll_after)


def next_after_status(
    now: float, poll_after: float | None, policy: PollPolicy, rng: random.Random
) -> float:
    """When to poll again after a status answer; honours the server's guidance (clamped).

    The result lies in ``[now + base, now + base * (1 + jitter)]`` where ``base`` is
    :func:`clamp_poll_after` of the server's value.
    """
    return now + _jittered(clamp_poll_after(poll_after, policy), policy, rng)


def backoff_delay(failures: int, policy: PollPolicy, rng: random.Random) -> float:
    """Delay after ``failures`` consecutive failures: capped exponential with "equal jitter".

    The ceiling is ``min(cap, base * factor ** (failures - 1))`` and the delay is uniform in
    ``[ceiling / 2, ceiling]``. Half of it is fixed so a struggling gateway is never retried
    almost at once (full jitter can pick ~0), the other half spreads jobs that failed
    together. The result never drops below ``min_poll_after``.
    """
    exponent = max(0, failures - 1)
    try:
        ceiling = policy.backoff_base * policy.backoff_factor**exponent
    except OverflowError:
        ceiling = policy.backoff_cap
    ceiling = min(policy.backoff_cap, ceiling)
    delay = ceiling / 2 + rng.random() * ceiling / 2
    return max(policy.min_poll_after, delay)


def next_after_failure(
    now: float,
    failures: int,
    kind: ErrorKind,
    retry_after: float | None,
    policy: PollPolicy,
    rng: random.Random,
) -> float:
    """When to try again after a failed call; ``failures`` counts this one too.

    - 429 (``RATE_LIMITED``) with a ``Retry-After``: exactly that long (only raised to
      ``min_poll_after``; a wait longer than ``max_poll_after`` is honoured as given, up
      to ``MAX_RETRY_AFTER``) plus a little upward jitter (at most ``jitter`` x 10 s, so
      1 s by default), never sooner than the server asked.
    - Any other failure, and 429 without ``Retry-After``: :func:`backoff_delay`. When some
      other error (a 503, say) also carried ``Retry-After``, the later of the two wins.

    The caller decides separately whether to poll at all (an auth failure blocks polling).
    """
    usable = retry_after is not None and math.isfinite(retry_after) and retry_after >= 0
    if kind is ErrorKind.RATE_LIMITED and usable:
        assert retry_after is not None  # for mypy: ``usable`` checked it
        delay = _clamp(retry_after, policy.min_poll_after, MAX_RETRY_AFTER)
        return now + delay + rng.random() * policy.jitter * min(delay, 10.0)
    delay = backoff_delay(failures, policy, rng)
    if usable:
        assert retry_after is not None
        delay = max(delay, _clamp(retry_after, policy.min_poll_after, MAX_RETRY_AFTER))
    return now + delay


def _due_key(job: Job) -> tuple[float, float]:
    return (-math.inf if job.next_poll_at is None else job.next_poll_at, job.created_at)


def _pollable(job: Job) -> bool:
    return job.pollable


def due_jobs(
    jobs: Iterable[Job], now: float, wants: Callable[[Job], bool] = _pollable
) -> list[Job]:
    """Jobs ``wants`` reads whose ``next_poll_at`` has come (``None``: due), oldest-due first.

    By default the pollable jobs: terminal, unsent and auth-blocked jobs are never due
    (:attr:`Job.pollable`). Ties are broken by creation time so older jobs go first.
    """
    ready = [
        job for job in jobs if wants(job) and (job.next_poll_at is None or job.next_poll_at <= now)
    ]
    ready.sort(key=_due_key)
    return ready


def earliest_due(
    jobs: Iterable[Job], now: float, wants: Callable[[Job], bool] = _pollable
) -> float | None:
    """The earliest ``next_poll_at`` among the jobs ``wants`` reads, never before ``now``.

    ``None`` when there is no such job.
    """
    earliest: float | None = None
    for job in jobs:
        if not wants(job):
            continue
        when = now if job.next_poll_at is None else job.next_poll_at
        if earliest is None or when < earliest:
            earliest = when
    return None if earliest is None else max(now, earliest)


class RequestBudget:
    """Global politeness: a cap on requests in flight plus a token bucket on request starts.

    At most ``max_in_flight`` requests run at once, and starts are limited to ``per_second``
    on average with bursts of up to ``burst``. Thread-safe; the clock is injected for tests.
    """

    def __init__(
        self,
        max_in_flight: int = 6,
        per_second: float = 8.0,
        burst: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start with a full bucket of ``burst`` tokens that refills at ``per_second``."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if not (math.isfinite(per_second) and per_second > 0):
            raise ValueError("per_second must be a positive number")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._max_in_flight = max_in_flight
        self._per_second = float(per_second)
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
        self._in_flight = 0

    def _refill(self) -> None:
        """Add the tokens earned since the last look (caller holds the lock)."""
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._per_second)
        # A clock that steps backwards must not mint tokens later: restart from here.
        self._stamp = now

    def try_acquire(self) -> bool:
        """Take a slot and a token if both are free: True means send one request now.

        Every True must be matched by one :meth:`release` when the request finishes.
        """
        with self._lock:
            self._refill()
            if self._in_flight >= self._max_in_flight or self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            self._in_flight += 1
            return True

    def release(self) -> None:
        """Give back the in-flight slot taken by a successful :meth:`try_acquire`."""
        with self._lock:
            if self._in_flight == 0:
                raise RuntimeError("RequestBudget.release() without a matching try_acquire()")
            self._in_flight -= 1

    def wait_time(self) -> float:
        """Seconds until a rate token is available (0 if one is now).

        This says nothing about in-flight slots: those free up on :meth:`release`, which the
        caller should treat as a reason to look again.
        """
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                return 0.0
            return (1.0 - self._tokens) / self._per_second

    @property
    def in_flight(self) -> int:
        """Requests started and not yet released."""
        with self._lock:
            return self._in_flight
