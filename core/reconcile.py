"""Matching a create whose answer was lost against the gateway's job list.

A create that timed out after sending may have made (and reserved credit for) a job. It is
never resent: instead the list of the account's jobs is searched for one with the same
model and prompt, created around the same time, that the journal does not know yet.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from core.jobs import Job
from core.wire import RemoteJob, as_object, as_str

#: How many times the list is searched before the job is left for a person to review.
RECONCILE_ATTEMPTS = 5
#: A matching job must have been created this long before / after the local row was written.
EARLIEST_SKEW = 120.0
LATEST_SKEW = 900.0


def _remote_prompt(remote: RemoteJob) -> str | None:
    raw = remote.raw
    prompt = as_str(raw.get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("input")).get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("request")).get("prompt"))
    return prompt


def find_match(job: Job, remotes: Iterable[RemoteJob], known_ids: set[str]) -> RemoteJob | None:
    """The gateway job the lost create made, or ``None`` when no single candidate fits.

    Candidates need the same model, a creation time in the window around the local row, and
    an id the journal has not adopted yet. When the gateway reports prompts they must match
    exactly; without prompts, the candidate closest in time wins.
    """
    with_prompt: list[RemoteJob] = []
    without_prompt: list[RemoteJob] = []
    for remote in remotes:
        if remote.id is None or remote.id in known_ids:
            continue
        if remote.model is not None and remote.model != job.params.model:
            continue
        created = remote.created_at
        if created is None or not (
            job.created_at - EARLIEST_SKEW <= created <= job.created_at + LATEST_SKEW
        ):
            continue
        prompt = _remote_prompt(remote)
        if prompt is None:
            without_prompt.append(remote)
        elif prompt == job.params.prompt:
            with_prompt.append(remote)
    pool = with_prompt or without_prompt
    if not pool:
        return None
    return min(pool, key=lambda remote: abs((remote.created_at or 0.0) - job.created_at))


def next_reconcile_at(now: float, attempts: int, rng: random.Random) -> float:
    """When to search the list again: soon at first (the job may not be listed yet), then less."""
    base = min(5.0 * (2.0**attempts), 300.0)
    return now + base * (1.0 + 0.1 * rng.random())
