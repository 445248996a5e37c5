"""Ratings and the keep flag: the pure events, the engine calls, the journal and old records."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.engine import Engine
from core.jobs import (
    Job,
    JobParams,
    JobState,
    KeepChanged,
    Rated,
    StatusSeen,
    apply,
)
from core.journal import Journal
from core.journal_codec import CODEC, CODEC_KEY, job_from_dict, job_from_json, job_to_dict
from core.poll_policy import PollPolicy, RequestBudget
from core.wire import parse_job

REPO = Path(__file__).resolve().parents[2]
V1_FIXTURE = REPO / "tests" / "fixtures" / "journal_v1.db"
PARAMS = JobParams(model="demo/test-pattern", prompt="a lake", duration=2, aspect_ratio="16:9")


def finished_job(state: JobState = JobState.COMPLETED) -> Job:
    """A job the server side is done with."""
    return Job(local_id="L-1", params=PARAMS, state=state, created_at=1.0, updated_at=1.0)


class ScriptedClient:
    """Answers creates and status reads from lists (enough for the engine's marks)."""

    def __init__(self) -> None:
        self.create_answers = [parse_job({"id": "G-1", "status": "queued"})]
        self.get_answers = [parse_job({"id": "G-1", "status": "in_progress", "progress": 40})]
        self.on_get: list[object] = []

    def create(self, params: JobParams) -> object:
        return self.create_answers.pop(0)

    def get(self, job_id: str) -> object:
        for hook in self.on_get:
            hook()  # type: ignore[operator]
        return self.get_answers.pop(0)

    def set_api_key(self, key: str | None) -> None:
        pass


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def make_engine(path: Path, client: ScriptedClient, clock: Clock) -> Engine:
    return Engine(
        Journal.open(path),
        client,  # type: ignore[arg-type]
        path.parent / "videos",
        policy=PollPolicy(first_poll_after=5.0),
        budget=RequestBudget(max_in_flight=1, per_second=100.0, burst=100, clock=clock),
        clock=clock,
        rng=random.Random(1),
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(tmp_path / "journal.db", ScriptedClient(), Clock())
    yield made
    made.journal.close()


# -- the pure step ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(JobState))
def test_rating_and_keep_apply_in_every_state(state: JobState) -> None:
    job = apply(finished_job(state), Rated(4, 5.0))
    job = apply(job, KeepChanged(True, 6.0))
    assert (job.rating, job.kept, job.updated_at) == (4, True, 6.0)
    cleared = apply(apply(job, Rated(0, 7.0)), KeepChanged(False, 8.0))
    assert (cleared.rating, cleared.kept) == (0, False)


def test_an_out_of_range_rating_is_clamped_by_apply() -> None:
    assert apply(finished_job(), Rated(9, 2.0)).rating == 5
    assert apply(finished_job(), Rated(-2, 2.0)).rating == 0


# -- the engine calls ----------------------------------------------------------------------


def test_rating_and_keep_are_journaled_as_events_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    clock = Clock()
    first = make_engine(path, ScriptedClient(), clock)
    job = first.submit(PARAMS)
    rated = first.set_rating(job.local_id, 4)
    kept = first.set_kept(job.local_id, True)
    assert (rated.rating, kept.rating, kept.kept) == (4, 4, True)
    kinds = [(event.kind, event.note) for event in first.journal.events(job.local_id)]
    assert ("rate", "4") in kinds and ("keep", "kept") in kinds
    first.journal.close()

    second = make_engine(path, ScriptedClient(), clock)
    try:
        again = second.journal.get(job.local_id)
        assert again is not None and (again.rating, again.kept) == (4, True)
        assert second.set_kept(job.local_id, False).kept is False
        assert second.set_rating(job.local_id, 0).rating == 0
    finally:
        second.journal.close()
    with Journal.open(path) as journal:
        final = journal.get(job.local_id)
        assert final is not None and (final.rating, final.kept) == (0, False)


def test_a_rating_given_while_a_poll_is_in_flight_is_not_lost(engine: Engine) -> None:
    clock = engine.clock
    assert isinstance(clock, Clock)
    job = engine.submit(PARAMS)
    clock.now += 60
    (claimed,) = engine.claim_due()
    assert claimed.rating == 0
    client = engine.client
    assert isinstance(client, ScriptedClient)
    # The person rates and keeps the clip while the status read is on the wire.
    client.on_get.append(lambda: engine.set_rating(job.local_id, 5))
    client.on_get.append(lambda: engine.set_kept(job.local_id, True))
    polled = engine.poll(claimed)
    assert polled.state is JobState.PROCESSING and polled.progress == 40
    assert (polled.rating, polled.kept) == (5, True)
    stored = engine.journal.get(job.local_id)
    assert stored is not None and (stored.rating, stored.kept) == (5, True)


def test_bad_ratings_and_unknown_jobs_are_refused_clearly(engine: Engine) -> None:
    job = engine.submit(PARAMS)
    with pytest.raises(ValueError, match="0 \\(none\\) to 5 stars"):
        engine.set_rating(job.local_id, 6)
    with pytest.raises(KeyError):
        engine.set_kept("L-nobody", True)
    stored = engine.journal.get(job.local_id)
    assert stored is not None and stored.rating == 0
    assert [event.kind for event in engine.journal.events(job.local_id)].count("rate") == 0


def test_a_status_for_a_finished_job_keeps_its_marks(engine: Engine) -> None:
    """A late status for a rated job changes nothing (the transition table ignores it)."""
    job = engine.set_rating(engine.submit(PARAMS).local_id, 3)
    late = apply(job, StatusSeen(parse_job({"id": "G-1", "status": "completed"}), 9.0))
    assert late.rating == 3


# -- old and odd records -------------------------------------------------------------------


def test_records_written_before_ratings_existed_read_as_unrated() -> None:
    old = job_to_dict(finished_job())
    del old["rating"], old["kept"]
    old[CODEC_KEY] = CODEC  # written by the codec of the release before
    job = job_from_json(json.dumps(old))
    assert (job.rating, job.kept) == (0, False)
    assert job == finished_job()


@pytest.mark.parametrize(
    ("rating", "kept", "expected"),
    [(9, "yes", (0, False)), ("five", 2, (0, False)), (3.0, 1, (3, True)), (-1, 0, (0, False))],
)
def test_odd_stored_marks_degrade_to_unrated(
    rating: object, kept: object, expected: tuple[int, bool]
) -> None:
    data = {**job_to_dict(finished_job()), "rating": rating, "kept": kept}
    job = job_from_dict(data)
    assert (job.rating, job.kept) == expected


def test_a_version_1_journal_migrates_with_unrated_jobs_that_can_be_rated(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    shutil.copyfile(V1_FIXTURE, path)
    with Journal.open(path) as journal:
        jobs = journal.jobs(include_hidden=True)
        assert jobs and all((job.rating, job.kept) == (0, False) for job in jobs)
        engine = Engine(journal, ScriptedClient(), tmp_path / "videos")  # type: ignore[arg-type]
        target = jobs[0].local_id
        engine.set_rating(target, 2)
        engine.set_kept(target, True)
    conn = sqlite3.connect(path)
    try:
        (doc,) = conn.execute("SELECT doc FROM jobs WHERE local_id = ?", (target,)).fetchone()
    finally:
        conn.close()
    stored = json.loads(doc)
    assert (stored["rating"], stored["kept"]) == (2, True)
