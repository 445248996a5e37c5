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
#: Lost creates whose rows were written this close together may have reached the gateway in
#: either order (a create may take up to the client's connect + read timeouts to arrive).
CONTEST_WINDOW = 60.0


def _remote_prompt(remote: RemoteJob) -> str | None:
    raw = remote.raw
    prompt = as_str(raw.get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("input")).get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("request")).get("prompt"))
    return prompt


def _server_time(remote: RemoteJob) -> float | None:
    """When the gateway made ``remote``, for comparing with local times.

    Many providers report whole unix seconds: such a stamp stands for the middle of its
    second, not its start. (Taken at face value, a create sent at 10.9 s and listed as
    "10" looks as close to a row written at 9.3 s as to its own.)
    """
    created = remote.created_at
    if created is None:
        return None
    return created + 0.5 if float(created).is_integer() else created


def _closer_rival(job: Job, remote: RemoteJob, rivals: Iterable[Job]) -> bool:
    """Whether another unresolved local job is nearer in time to ``remote`` than ``job`` is.

    Without a prompt to compare, a job listed near several lost creates belongs to the one
    sent closest to its creation time; the others must not take it. On an exact tie the
    later local job wins: a create cannot reach the gateway before its row was written.
    """
    created = _server_time(remote)
    if created is None:
        return False
    distance = abs(created - job.created_at)
    for rival in rivals:
        if rival.local_id == job.local_id:
            continue
        if remote.model is not None and remote.model != rival.params.model:
            continue
        rival_distance = abs(created - rival.created_at)
        if rival_distance < distance or (
            rival_distance == distance and rival.created_at > job.created_at
        ):
            return True
    return False


def contested(job: Job, remote: RemoteJob, rivals: Iterable[Job]) -> bool:
    """Whether another unresolved local job could as well be the one that made ``remote``.

    True when a rival with the same model was written within ``CONTEST_WINDOW`` of ``job``:
    a create can reach the gateway seconds after its row was written (a slow connection,
    creates sent side by side), so lost creates that close together cannot be told apart
    without a prompt in the listing. The match is then kept (the paid video is saved) but
    marked for a person to check.
    """
    return any(
        rival.local_id != job.local_id
        and (remote.model is None or remote.model == rival.params.model)
        and abs(rival.created_at - job.created_at) <= CONTEST_WINDOW
        for rival in rivals
    )


def find_match(
    job: Job,
    remotes: Iterable[RemoteJob],
    known_ids: set[str],
    rivals: Iterable[Job] = (),
) -> RemoteJob | None:
    """The gateway job the lost create made, or ``None`` when no single candidate fits.

    Candidates need the same model, a creation time in the window around the local row, and
    an id the journal has not adopted yet. When the gateway reports prompts they must match
    exactly; without prompts, the candidate closest in time wins, and only if no rival (a
    local job whose create outcome is unknown too: ``submitting`` or ``submit_unknown``) was
    sent closer to it: otherwise a create that never reached the gateway would adopt its
    neighbour's job, and the neighbour's paid video would be shown under the wrong prompt.
    """
    rivals = list(rivals)
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
            if not _closer_rival(job, remote, rivals):
                without_prompt.append(remote)
        elif prompt == job.params.prompt:
            with_prompt.append(remote)
    pool = with_prompt or without_prompt
    if not pool:
        return None
    return min(pool, key=lambda remote: abs((_server_time(remote) or 0.0) - job.created_at))


def next_reconcile_at(now: float, attempts: int, rng: random.Random) -> float:
    """When to search the list again: soon at first (the job may not be listed yet), then less."""
    base = min(5.0 * (2.0**attempts), 300.0)
    return now + base * (1.0 + 0.1 * rng.random())
