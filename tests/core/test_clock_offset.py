"""The gateway's clock offset: read from Date headers, used when a lost create is searched for."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from core.clock_offset import MAX_OFFSET, ClockOffset, date_header_time
from core.engine.matching import Matcher, find_match
from core.jobs import Job, JobParams, JobState
from core.wire import parse_job

NOW = 1_800_000_000.0
PARAMS = JobParams(
    model="demo/test-pattern", prompt="A lighthouse", duration=4, aspect_ratio="16:9"
)


def test_a_date_header_states_the_middle_of_its_second() -> None:
    assert date_header_time(formatdate(NOW, usegmt=True)) == NOW + 0.5
    assert date_header_time("Sun, 06 Dec 2026 03:00:00 +0100") is not None


@pytest.mark.parametrize(
    "header", [None, "", "yesterday", "Sun, 99 Foo 2026 25:61:00 GMT", "Sun, 06 Dec 2026 03:00:00"]
)
def test_a_missing_or_unreadable_date_header_is_no_evidence(header: str | None) -> None:
    assert date_header_time(header) is None
    offset = ClockOffset()
    offset.note(header, NOW)
    assert offset.seconds == 0.0


def test_the_offset_is_the_median_of_recent_answers() -> None:
    offset = ClockOffset()
    for ahead in (600.0, 601.0, 599.0, 4000.0):  # one odd answer changes nothing
        offset.note(formatdate(NOW + ahead, usegmt=True), NOW + 0.5)
    assert offset.seconds == pytest.approx(600.5)
    offset.note(formatdate(NOW + MAX_OFFSET + 10, usegmt=True), NOW)  # not a clock: ignored
    assert offset.seconds == pytest.approx(600.5)


def lost_create(sent: float) -> Job:
    return Job(
        local_id="L-1",
        params=PARAMS,
        state=JobState.SUBMIT_UNKNOWN,
        created_at=sent,
        updated_at=sent,
        submitted_at=sent,
    )


def test_a_gateway_ten_minutes_ahead_still_finds_the_lost_create() -> None:
    """The gateway stamps the job on its own clock, 600 s ahead of this machine's."""
    job = lost_create(NOW)
    listed = parse_job(
        {"id": "G-1", "status": "queued", "model": PARAMS.model, "created_at": int(NOW + 602)}
    )
    assert find_match(job, [listed], set(), matcher=Matcher()) is None  # clocks taken as one
    found = find_match(job, [listed], set(), matcher=Matcher(clock_offset=600.2))
    assert found is not None and found.id == "G-1"
    behind = parse_job(
        {"id": "G-2", "status": "queued", "model": PARAMS.model, "created_at": int(NOW - 598)}
    )
    assert find_match(job, [behind], set(), matcher=Matcher(clock_offset=-600.0)) is not None
