"""Linked sets: fitting one request to each model's allowed values, seeds, prices, the journal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from core.catalogue import FALLBACK_MODELS, find_model, parse_catalogue
from core.demo_gateway.models import catalogue_json
from core.job_sets import (
    compare_plan,
    fit_to_model,
    nearest_aspect,
    nearest_duration,
    plan_problems,
    price_text,
    seeds_for,
    total_estimate,
    variations,
    with_estimates,
)
from core.jobs import Job, JobParams, JobState, SetKind
from core.journal import Journal
from core.journal_codec import job_from_dict, job_from_json, job_to_doc

MODELS = parse_catalogue(catalogue_json())


def model(model_id: str):  # type: ignore[no-untyped-def]
    found = find_model(MODELS, model_id) or find_model(FALLBACK_MODELS, model_id)
    assert found is not None, model_id
    return found


BASE = JobParams(
    model="demo/test-pattern", prompt="A kite over dunes", duration=5, aspect_ratio="16:9"
)


@pytest.mark.parametrize(
    ("model_id", "wanted", "expected"),
    [
        ("google/veo-3.1-lite-preview", 5, 4),  # 4 and 6 are as near: the shorter, cheaper one
        ("google/veo-3.1-lite-preview", 7, 6),
        ("google/veo-3.1-lite-preview", 30, 8),
        ("openai/sora-2", 10, 8),
        ("openai/sora-2", 11, 12),
        ("minimax/hailuo-02", 1, 6),
        ("demo/test-pattern", 5, 5),  # a range keeps what it allows
        ("demo/test-pattern", 60, 20),  # and clamps what it does not
    ],
)
def test_nearest_duration_is_one_the_model_accepts(
    model_id: str, wanted: int, expected: int
) -> None:
    chosen = nearest_duration(model(model_id), wanted)
    assert chosen == expected
    assert model(model_id).durations.allows(chosen)  # type: ignore[union-attr]


def test_nearest_aspect_keeps_an_allowed_shape_and_moves_others_to_the_closest() -> None:
    assert nearest_aspect(model("google/veo-3.1-lite-preview"), "9:16") == "9:16"
    assert nearest_aspect(model("google/veo-3.1-lite-preview"), "1:1") in ("16:9", "9:16")
    assert nearest_aspect(model("google/veo-3.1-lite-preview"), "3:4") == "9:16"
    # A model that offers no choice gets none sent.
    assert nearest_aspect(model("minimax/hailuo-02"), "9:16") is None
    assert nearest_aspect(model("google/veo-3.1-lite-preview"), None) in ("16:9", "9:16")


def test_compare_plan_gives_each_model_its_own_valid_request_and_says_what_changed() -> None:
    chosen = [
        model(m) for m in ("demo/test-pattern", "google/veo-3.1-lite-preview", "openai/sora-2")
    ]
    wanted = JobParams(
        model="demo/test-pattern", prompt="A kite", duration=10, aspect_ratio="1:1", seed=7
    )
    plan = compare_plan(wanted, chosen)
    assert [job.params.model for job in plan] == [m.id for m in chosen]
    assert [job.params.duration for job in plan] == [10, 8, 8]
    assert all(job.params.prompt == "A kite" for job in plan)
    assert plan[0].adjusted == ()
    assert "10 s → 8 s" in plan[1].adjusted and "1:1 → 16:9" in plan[1].adjusted
    assert plan_problems(plan, MODELS) == []
    sora = plan[2]
    assert sora.params.seed is None and "no seed" in sora.adjusted  # sora takes no seed
    # Sora takes a size, never an aspect ratio: the listed size nearest to 1:1.
    assert sora.params.aspect_ratio is None and sora.params.size == "1280x720"
    assert "1:1 → 1280x720" in sora.adjusted


def test_fit_keeps_named_values_for_validation_instead_of_changing_them() -> None:
    wanted = JobParams(model="x", prompt="p", duration=5, aspect_ratio="16:9")
    kept = fit_to_model(wanted, model("google/veo-3.1-lite-preview"), keep=frozenset({"duration"}))
    assert kept.params.duration == 5
    assert plan_problems([kept], MODELS) and "4, 6 or 8" in plan_problems([kept], MODELS)[0]


def test_seed_variations_and_seeds() -> None:
    assert seeds_for(3, 100) == [100, 101, 102]
    assert len(set(seeds_for(5, None))) == 5
    jobs = variations(compare_plan(BASE, [model("demo/test-pattern")]), [1, 2, 3])
    assert [job.params.seed for job in jobs] == [1, 2, 3]
    assert jobs[2].adjusted[-1] == "seed 3"


def test_total_estimate_is_unknown_when_any_price_is() -> None:
    plan = compare_plan(BASE, [model("demo/test-pattern"), model("google/veo-3.1-lite-preview")])
    assert price_text(total_estimate(plan)) == "price unknown"
    priced = with_estimates(plan, MODELS, lambda params, _model: Decimal("0.05") * params.duration)
    assert price_text(total_estimate(priced)) == "$0.45"
    broken = with_estimates(plan, MODELS, lambda params, _model: 1 / 0)  # type: ignore[arg-type,return-value]
    assert total_estimate(broken) is None


# -- the set kept with each job in the journal ------------------------------------------------


def _job(local_id: str, set_id: str | None, at: float) -> Job:
    return Job(
        local_id=local_id,
        params=BASE,
        state=JobState.QUEUED,
        created_at=at,
        updated_at=at,
        set_id=set_id,
        set_kind=SetKind.BATCH if set_id else None,
    )


def test_an_old_journal_record_has_no_set_and_a_new_one_keeps_it() -> None:
    old = {
        "local_id": "L",
        "params": {"model": "m", "prompt": "p", "duration": 4},
        "created_at": 1.0,
        "state": "completed",
    }
    assert job_from_dict(old).set_id is None and job_from_dict(old).set_kind is None
    job = _job("L2", "S1", 2.0)
    back = job_from_json(job_to_doc(job))
    assert (back.set_id, back.set_kind) == ("S1", SetKind.BATCH)
    assert back == job


def test_a_set_kind_from_newer_code_keeps_the_set_without_a_kind() -> None:
    doc = json.loads(job_to_doc(_job("L3", "S9", 3.0)))
    doc["set_kind"] = "storyboard"
    back = job_from_json(json.dumps(doc))
    assert back.set_id == "S9" and back.set_kind is None


def test_journal_lists_one_sets_members_oldest_first(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    try:
        for job in (
            _job("a", "S1", 3.0),
            _job("b", "S2", 1.0),
            _job("c", "S1", 2.0),
            _job("d", None, 4.0),
            _job("e", "S11", 5.0),
        ):
            journal.insert(job)
        journal.set_hidden("c", True)
        assert [job.local_id for job in journal.set_members("S1")] == ["c", "a"]
        assert [job.local_id for job in journal.set_members("S_")] == []  # no wildcard match
        assert journal.set_members("") == []
    finally:
        journal.close()


def test_a_big_set_is_compared_a_window_at_a_time_from_the_selected_job() -> None:
    from core.job_sets import MAX_COMPARED, compare_window

    members = list(range(10))
    assert compare_window(members[:3], 2) == ([0, 1, 2], 0)  # small sets whole
    assert compare_window(members, 3) == ([3, 4, 5, 6], 3)
    assert compare_window(members, 8) == ([6, 7, 8, 9], 6)  # kept full at the end
    assert compare_window(members, None) == ([0, 1, 2, 3], 0)
    assert len(compare_window(members, 0)[0]) == MAX_COMPARED
