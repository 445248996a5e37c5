"""Tests for the pure polling policy: injected clock, seeded randomness, no waiting."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ErrorKind
from core.jobs import Job, JobParams, JobState
from core.poll_policy import (
    PollPolicy,
    RequestBudget,
    backoff_delay,
    clamp_poll_after,
    due_jobs,
    earliest_due,
    next_after_create,
    next_after_failure,
    next_after_status,
)

POLICY = PollPolicy()
PARAMS = JobParams(
    model="google/veo-3.1-lite-preview", prompt="a cat", duration=4, aspect_ratio="16:9"
)
SEEDS = range(25)


def make_job(
    local_id: str = "j1",
    *,
    state: JobState = JobState.QUEUED,
    next_poll_at: float | None = None,
    created_at: float = 0.0,
    remote_id: str | None = "G-1",
    auth_blocked: bool = False,
) -> Job:
    """A job in ``state`` with a remote id (so it is pollable unless terminal)."""
    return Job(
        local_id=local_id,
        params=PARAMS,
        state=state,
        created_at=created_at,
        updated_at=created_at,
        remote_id=remote_id,
        next_poll_at=next_poll_at,
        auth_blocked=auth_blocked,
    )


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- after create / after status ------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_first_poll_after_create_is_first_poll_after_plus_upward_jitter(seed: int) -> None:
    rng = random.Random(seed)
    when = next_after_create(100.0, POLICY, rng)
    first = POLICY.first_poll_after
    assert 100.0 + first <= when <= 100.0 + first * (1 + POLICY.jitter)


@pytest.mark.parametrize(
    ("poll_after", "base"),
    [
        (20.0, 20.0),  # today's value: honoured
        (7.5, 7.5),  # any other value is honoured too
        (None, POLICY.default_poll_after),  # absent -> default
        (math.nan, POLICY.default_poll_after),  # garbage -> default
        (0.0, POLICY.min_poll_after),  # zero would be a tight loop
        (0.01, POLICY.min_poll_after),  # tiny
        (-5.0, POLICY.min_poll_after),  # negative
        (1e9, POLICY.max_poll_after),  # huge
        (math.inf, POLICY.max_poll_after),
    ],
)
@pytest.mark.parametrize("seed", SEEDS)
def test_next_after_status_honours_server_value_clamped_with_upward_jitter(
    poll_after: float | None, base: float, seed: int
) -> None:
    assert clamp_poll_after(poll_after, POLICY) == base
    when = next_after_status(50.0, poll_after, POLICY, random.Random(seed))
    assert 50.0 + base <= when <= 50.0 + base * (1 + POLICY.jitter)


def test_jitter_actually_spreads_jobs() -> None:
    rng = random.Random(1)
    times = {next_after_status(0.0, 20.0, POLICY, rng) for _ in range(50)}
    assert len(times) == 50
    assert max(times) - min(times) > 1.0  # not in lockstep


def test_zero_jitter_is_exact() -> None:
    policy = PollPolicy(jitter=0.0, first_poll_after=5.0)
    assert next_after_status(10.0, 20.0, policy, random.Random(3)) == 30.0
    assert next_after_create(10.0, policy, random.Random(3)) == 15.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_poll_after": 0.0},
        {"min_poll_after": 10.0, "max_poll_after": 5.0},
        {"jitter": -0.1},
        {"jitter": 2.0},
        {"backoff_factor": 0.5},
        {"first_poll_after": 0.0},
        {"backoff_cap": math.inf},
    ],
)
def test_policy_rejects_settings_that_would_spin_or_stall(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PollPolicy(**kwargs)  # type: ignore[arg-type]


# --- after failure --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_429_with_retry_after_waits_that_long_plus_a_little(seed: int) -> None:
    when = next_after_failure(0.0, 1, ErrorKind.RATE_LIMITED, 7.0, POLICY, random.Random(seed))
    assert 7.0 <= when <= 7.0 + 0.1 * 7.0


@pytest.mark.parametrize("seed", SEEDS)
def test_429_retry_after_is_honoured_even_after_many_failures(seed: int) -> None:
    when = next_after_failure(0.0, 9, ErrorKind.RATE_LIMITED, 7.0, POLICY, random.Random(seed))
    assert 7.0 <= when <= 7.7  # Retry-After wins over the (longer) backoff


@pytest.mark.parametrize(
    ("retry_after", "low"), [(0.0, 1.0), (-3.0, None), (1800.0, 1800.0), (1e6, 86400.0)]
)
def test_429_retry_after_is_clamped(retry_after: float, low: float | None) -> None:
    rng = random.Random(0)
    when = next_after_failure(0.0, 1, ErrorKind.RATE_LIMITED, retry_after, POLICY, rng)
    if low is None:  # unusable value: falls back to backoff (first failure: 1..2 s)
        assert 1.0 <= when <= 2.0
    else:
        assert low <= when <= low + 1.0


def _ceilings(policy: PollPolicy, n: int) -> list[float]:
    return [
        min(policy.backoff_cap, policy.backoff_base * policy.backoff_factor**i) for i in range(n)
    ]


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.RATE_LIMITED,  # 429 without Retry-After
        ErrorKind.TRANSIENT,  # 5xx, 502 upstream_error
        ErrorKind.TIMEOUT,
        ErrorKind.NETWORK,
        ErrorKind.UNEXPECTED,
    ],
)
@pytest.mark.parametrize("seed", SEEDS)
def test_failures_back_off_exponentially_and_cap(kind: ErrorKind, seed: int) -> None:
    rng = random.Random(seed)
    delays = [next_after_failure(0.0, n, kind, None, POLICY, rng) for n in range(1, 13)]
    for delay, ceiling in zip(delays, _ceilings(POLICY, 12), strict=True):
        assert max(POLICY.min_poll_after, ceiling / 2) <= delay <= ceiling
    # The floor doubles until the cap: 1, 2, 4, ... 150 s; never beyond the cap.
    assert delays[0] <= 2.0
    assert delays[5] >= 32.0
    assert all(d <= POLICY.backoff_cap for d in delays)
    assert all(d >= POLICY.backoff_cap / 2 for d in delays[8:])


def test_backoff_grows_on_average() -> None:
    rng = random.Random(42)
    means = [sum(backoff_delay(n, POLICY, rng) for _ in range(200)) / 200 for n in range(1, 10)]
    assert all(later > earlier for earlier, later in itertools.pairwise(means))
    assert means[-1] <= POLICY.backoff_cap


def test_backoff_survives_absurd_failure_counts() -> None:
    delay = backoff_delay(100_000, POLICY, random.Random(0))
    assert POLICY.backoff_cap / 2 <= delay <= POLICY.backoff_cap
    assert 1.0 <= backoff_delay(0, POLICY, random.Random(0)) <= 2.0  # treated as the first


def test_retry_after_on_a_5xx_is_respected_as_a_minimum() -> None:
    when = next_after_failure(0.0, 1, ErrorKind.TRANSIENT, 30.0, POLICY, random.Random(0))
    assert when >= 30.0


# --- due_jobs / earliest_due ---------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
        JobState.GONE,
        JobState.REJECTED,
    ],
)
def test_terminal_jobs_are_never_due_nor_woken(state: JobState) -> None:
    jobs = [make_job(state=state, next_poll_at=None), make_job(state=state, next_poll_at=0.0)]
    assert due_jobs(jobs, 1e12) == []
    assert earliest_due(jobs, 0.0) is None


def test_unsent_and_auth_blocked_jobs_are_not_polled() -> None:
    jobs = [
        make_job("a", state=JobState.SUBMITTING, remote_id=None),
        make_job("b", remote_id=None),
        make_job("c", auth_blocked=True),
    ]
    assert due_jobs(jobs, 1e12) == []
    assert earliest_due(jobs, 0.0) is None


def test_the_caller_says_which_jobs_it_reads() -> None:
    """The engine also reads completed jobs for their bill: ``wants`` widens what is due."""
    jobs = [
        make_job("done", state=JobState.COMPLETED, next_poll_at=50.0),
        make_job("later", next_poll_at=80.0),
    ]
    assert [j.local_id for j in due_jobs(jobs, 100.0)] == ["later"]
    assert earliest_due(jobs, 0.0) == 80.0
    everything = due_jobs(jobs, 100.0, wants=lambda job: True)
    assert [j.local_id for j in everything] == ["done", "later"]
    assert earliest_due(jobs, 0.0, wants=lambda job: True) == 50.0


def test_submit_unknown_and_waiting_jobs_with_an_id_keep_polling() -> None:
    jobs = [make_job("u", state=JobState.SUBMIT_UNKNOWN), make_job("w", state=JobState.WAITING)]
    assert [j.local_id for j in due_jobs(jobs, 0.0)] == ["u", "w"]


def test_due_returns_only_due_jobs_oldest_due_first() -> None:
    jobs = [
        make_job("later", next_poll_at=150.0),
        make_job("b", next_poll_at=90.0, created_at=5.0),
        make_job("a", next_poll_at=90.0, created_at=1.0),
        make_job("never-scheduled", next_poll_at=None, created_at=50.0),
        make_job("exactly-now", next_poll_at=100.0),
        make_job("early", next_poll_at=10.0),
        make_job("done", state=JobState.COMPLETED, next_poll_at=1.0),
    ]
    assert [j.local_id for j in due_jobs(jobs, 100.0)] == [
        "never-scheduled",
        "early",
        "a",
        "b",
        "exactly-now",
    ]


@pytest.mark.parametrize(
    ("times", "now", "expected"),
    [
        ([150.0, 120.0, 300.0], 100.0, 120.0),
        ([50.0, 300.0], 100.0, 100.0),  # overdue: wake now, never in the past
        ([None, 300.0], 100.0, 100.0),  # never scheduled: due now
        ([], 100.0, None),
    ],
)
def test_earliest_due(times: list[float | None], now: float, expected: float | None) -> None:
    jobs = [make_job(str(i), next_poll_at=t) for i, t in enumerate(times)]
    jobs.append(make_job("done", state=JobState.FAILED, next_poll_at=101.0))
    assert earliest_due(jobs, now) == expected


# --- request budget -------------------------------------------------------------------------


def test_budget_limits_requests_in_flight() -> None:
    clock = FakeClock()
    budget = RequestBudget(max_in_flight=2, per_second=100.0, burst=10, clock=clock)
    assert budget.try_acquire()
    assert budget.try_acquire()
    assert not budget.try_acquire()
    assert budget.in_flight == 2
    clock.advance(10.0)
    assert not budget.try_acquire()  # time alone does not free a slot
    budget.release()
    assert budget.in_flight == 1
    assert budget.try_acquire()


def test_budget_limits_rate_with_a_burst_then_refills() -> None:
    clock = FakeClock()
    budget = RequestBudget(max_in_flight=100, per_second=4.0, burst=3, clock=clock)
    granted = 0
    for _ in range(10):
        if budget.try_acquire():
            granted += 1
            budget.release()
    assert granted == 3  # the burst
    assert budget.wait_time() == pytest.approx(0.25)
    clock.advance(0.1)
    assert not budget.try_acquire()
    assert budget.wait_time() == pytest.approx(0.15)
    clock.advance(0.15)
    assert budget.wait_time() == 0.0
    assert budget.try_acquire()
    budget.release()
    clock.advance(3600.0)  # a long idle refills only up to the burst
    assert sum(budget.try_acquire() for _ in range(10)) == 3


def test_budget_rate_over_a_simulated_minute() -> None:
    clock = FakeClock()
    budget = RequestBudget(max_in_flight=1000, per_second=8.0, burst=8, clock=clock)
    starts = 0
    for _ in range(6000):  # try every 10 ms for 60 s
        while budget.try_acquire():
            starts += 1
            budget.release()
        clock.advance(0.01)
    assert 8 * 60 <= starts <= 8 * 60 + 8 + 1


def test_budget_ignores_a_clock_that_steps_back() -> None:
    clock = FakeClock(100.0)
    budget = RequestBudget(max_in_flight=10, per_second=1.0, burst=1, clock=clock)
    assert budget.try_acquire()
    clock.now = 50.0
    assert not budget.try_acquire()
    clock.now = 50.5
    assert not budget.try_acquire()
    clock.now = 51.0
    assert budget.try_acquire()


def test_budget_release_without_acquire_is_a_bug() -> None:
    budget = RequestBudget(clock=FakeClock())
    with pytest.raises(RuntimeError):
        budget.release()


@pytest.mark.parametrize(
    "kwargs", [{"max_in_flight": 0}, {"per_second": 0.0}, {"per_second": math.nan}, {"burst": 0}]
)
def test_budget_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RequestBudget(clock=FakeClock(), **kwargs)  # type: ignore[arg-type]


def test_budget_is_thread_safe() -> None:
    import threading

    budget = RequestBudget(max_in_flight=5, per_second=1e9, burst=1_000_000, clock=FakeClock())
    peak = 0
    lock = threading.Lock()
    held = 0

    def worker() -> None:
        nonlocal peak, held
        for _ in range(2000):
            if budget.try_acquire():
                with lock:
                    held += 1
                    peak = max(peak, held)
                with lock:
                    held -= 1
                budget.release()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.in_flight == 0
    assert 1 <= peak <= 5


# --- simulation: polling economy ------------------------------------------------------------


def simulate(
    jobs: list[Job],
    *,
    horizon: float,
    poll_after: float | None,
    policy: PollPolicy,
    rng: random.Random,
    budget: RequestBudget | None = None,
    clock: FakeClock | None = None,
) -> dict[str, int]:
    """Drive the poll loop with the pure functions over simulated time; count polls per job."""
    polls = {job.local_id: 0 for job in jobs}
    by_id = {job.local_id: job for job in jobs}
    now = 0.0
    while True:
        wake = earliest_due(by_id.values(), now)
        if wake is None or wake >= horizon:
            break
        if budget is not None and clock is not None:
            wake = max(wake, now + budget.wait_time())
            clock.now = wake
        assert wake >= now  # time never runs backwards
        now = wake
        for job in due_jobs(by_id.values(), now):
            if budget is not None and not budget.try_acquire():
                break  # out of tokens: earliest_due says "now", wait_time says how long
            polls[job.local_id] += 1
            by_id[job.local_id] = replace(
                job, next_poll_at=next_after_status(now, poll_after, policy, rng)
            )
            if budget is not None:
                budget.release()
    return polls


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), jitter=st.floats(0.0, 0.1))
def test_200_jobs_polling_every_20s_stay_within_economy(seed: int, jitter: float) -> None:
    rng = random.Random(seed)
    policy = PollPolicy(jitter=jitter)
    # Fresh creates at random moments in the first 20 s, first poll after the create delay.
    jobs = [
        make_job(f"j{i}", next_poll_at=next_after_create(rng.uniform(0, 20), policy, rng))
        for i in range(200)
    ]
    polls = simulate(jobs, horizon=120.0, poll_after=20.0, policy=policy, rng=rng)
    ideal = 120 / 20
    assert max(polls.values()) <= 1.05 * ideal
    assert sum(polls.values()) <= 1.05 * ideal * len(jobs)
    assert min(polls.values()) >= 4  # and nobody starves: first poll + at least 3 more


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    poll_after=st.floats(1.0, 60.0),
    offsets=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=50),
)
def test_polls_never_exceed_what_the_server_asked(
    seed: int, poll_after: float, offsets: list[float]
) -> None:
    rng = random.Random(seed)
    jobs = [make_job(f"j{i}", next_poll_at=o) for i, o in enumerate(offsets)]
    polls = simulate(jobs, horizon=300.0, poll_after=poll_after, policy=POLICY, rng=rng)
    for job in jobs:
        assert job.next_poll_at is not None
        ideal = math.ceil((300.0 - job.next_poll_at) / poll_after)
        assert polls[job.local_id] <= ideal


def test_budget_spreads_a_burst_of_due_jobs_without_losing_any() -> None:
    rng = random.Random(7)
    clock = FakeClock(0.0)
    budget = RequestBudget(max_in_flight=6, per_second=8.0, burst=8, clock=clock)
    jobs = [make_job(f"j{i}", next_poll_at=0.0) for i in range(200)]  # all due at once
    polls = simulate(
        jobs, horizon=120.0, poll_after=20.0, policy=POLICY, rng=rng, budget=budget, clock=clock
    )
    assert min(polls.values()) >= 4  # everyone is served
    assert max(polls.values()) <= 6
    # 200 jobs at 8 starts/s need 24 s per round: the budget stretches the rounds out.
    assert sum(polls.values()) <= 8 * 120 + 8
