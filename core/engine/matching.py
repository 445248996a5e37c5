"""Matching a create whose answer was lost against the gateway's job list.

A create that timed out after sending may have made (and reserved credit for) a job. It is
never resent: instead the list of the account's jobs is searched for one the journal does not
know yet with the same model (canonicalised through the catalogue's aliases), the same
``seconds`` and ``size`` where the list shows them, the same prompt where it shows one (most
providers' listings do not), created in a window no wider than the create timeout plus the
clock skew allowance. Creation times are compared on this machine's clock: the gateway's
offset, read from its answers' ``Date`` headers (``core.clock_offset``), is taken off first,
so a computer whose clock is minutes wrong still finds its job.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.catalogue import aspect_from_size
from core.jobs import Job
from core.wire import RemoteJob, as_object, as_str

#: Fast searches of the list before the slow search takes over.
RECONCILE_ATTEMPTS = 5
#: The slow search: every 10 minutes, for a day after the create was sent.
SLOW_RECONCILE_EVERY = 600.0
SLOW_RECONCILE_FOR = 86_400.0
#: How far this machine's clock and the gateway's may still disagree once the offset read from
#: the gateway's answers is allowed for, in all (half each way).
CLOCK_SKEW = 60.0
#: Lost creates whose rows were written this close together may have reached the gateway in
#: either order (a create may take up to the client's connect + read timeouts to arrive).
CONTEST_WINDOW = 60.0


def _same_name(name: str | None) -> str | None:
    return name


@dataclass(frozen=True)
class Matcher:
    """How listed jobs are compared with a lost create: model aliases and the time window."""

    #: Maps a model id or alias to the catalogue's canonical id.
    canonical: Callable[[str | None], str | None] = field(default=_same_name)
    #: How long a create may take to reach the gateway (the client's connect + read timeouts).
    create_timeout: float = 35.0
    #: Seconds the gateway's clock is ahead of this machine's (``core.clock_offset``).
    clock_offset: float = 0.0

    def same_model(self, remote: RemoteJob, job: Job) -> bool:
        """Whether ``remote`` may be ``job``'s model (a listing without a model may be)."""
        if remote.model is None:
            return True
        return self.canonical(remote.model) == self.canonical(job.params.model)

    def local_time(self, remote: RemoteJob) -> float | None:
        """When the gateway made ``remote``, on this machine's clock.

        Many providers report whole unix seconds: such a stamp stands for the middle of its
        second, not its start. (Taken at face value, a create sent at 10.9 s and listed as
        "10" looks as close to a row written at 9.3 s as to its own.)
        """
        created = remote.created_at
        if created is None:
            return None
        middle = created + 0.5 if float(created).is_integer() else created
        return middle - self.clock_offset

    def in_window(self, created: float, job: Job) -> bool:
        """Whether a job made at ``created`` (local clock) can be the one ``job`` sent."""
        half = CLOCK_SKEW / 2
        sent = sent_at(job)
        return sent - half <= created <= sent + self.create_timeout + half


def sent_at(job: Job) -> float:
    """When the job's create left this machine (its row's time for older records)."""
    return job.submitted_at if job.submitted_at is not None else job.created_at


def _same_seconds(remote: RemoteJob, job: Job) -> bool | None:
    """Whether the listed ``seconds`` matches the duration asked for (None: not shown)."""
    if remote.seconds is None:
        return None
    return abs(remote.seconds - job.params.duration) < 0.5


def _same_size(remote: RemoteJob, job: Job) -> bool | None:
    """Whether the listed ``size`` fits the size (or aspect ratio) asked for (None: unknown)."""
    listed = remote.size.strip().lower() if remote.size else None
    if listed is None:
        return None
    if job.params.size:
        return listed == job.params.size.strip().lower()
    if job.params.aspect_ratio:
        ratio = aspect_from_size(listed)
        return None if ratio is None else ratio == job.params.aspect_ratio.strip()
    return None


def time_alone(job: Job, remote: RemoteJob) -> bool:
    """Whether a match rests on model and time alone: no prompt, seconds or size to compare."""
    return (
        _remote_prompt(remote) is None
        and _same_seconds(remote, job) is None
        and _same_size(remote, job) is None
    )


def _remote_prompt(remote: RemoteJob) -> str | None:
    raw = remote.raw
    prompt = as_str(raw.get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("input")).get("prompt"))
    if prompt is None:
        prompt = as_str(as_object(raw.get("request")).get("prompt"))
    return prompt


def _closer_rival(job: Job, remote: RemoteJob, rivals: Iterable[Job], matcher: Matcher) -> bool:
    """Whether another unresolved local job is nearer in time to ``remote`` than ``job`` is.

    Without a prompt to compare, a job listed near several lost creates belongs to the one
    sent closest to its creation time; the others must not take it. On an exact tie the
    later local job wins: a create cannot reach the gateway before its row was written.
    """
    created = matcher.local_time(remote)
    if created is None:
        return False
    distance = abs(created - sent_at(job))
    for rival in rivals:
        if rival.local_id == job.local_id:
            continue
        if not _fits(remote, rival, matcher):
            continue
        rival_distance = abs(created - sent_at(rival))
        if rival_distance < distance or (
            rival_distance == distance and sent_at(rival) > sent_at(job)
        ):
            return True
    return False


def _fits(remote: RemoteJob, job: Job, matcher: Matcher) -> bool:
    """Whether ``remote`` could be ``job`` by everything but time and prompt."""
    return (
        matcher.same_model(remote, job)
        and _same_seconds(remote, job) is not False
        and _same_size(remote, job) is not False
    )


def contested(
    job: Job, remote: RemoteJob, rivals: Iterable[Job], matcher: Matcher | None = None
) -> bool:
    """Whether another unresolved local job could as well be the one that made ``remote``.

    True when a rival with the same model was written within ``CONTEST_WINDOW`` of ``job``:
    a create can reach the gateway seconds after its row was written (a slow connection,
    creates sent side by side), so lost creates that close together cannot be told apart
    without a prompt in the listing. The match is then kept (the paid video is saved) but
    marked for a person to check.
    """
    matcher = matcher or Matcher()
    return any(
        rival.local_id != job.local_id
        and _fits(remote, rival, matcher)
        and abs(sent_at(rival) - sent_at(job)) <= CONTEST_WINDOW
        for rival in rivals
    )


def find_match(
    job: Job,
    remotes: Iterable[RemoteJob],
    known_ids: set[str],
    rivals: Iterable[Job] = (),
    matcher: Matcher | None = None,
) -> RemoteJob | None:
    """The gateway job the lost create made, or ``None`` when no single candidate fits.

    Candidates need the same model (canonical ids), the same seconds and size where listed,
    a creation time in the matcher's window, and an id the journal has not adopted yet.
    When the gateway reports prompts they must match exactly; without prompts, the
    candidate closest in time wins, and only if no rival (a local job whose create outcome
    is unknown too: ``submitting`` or ``submit_unknown``) was sent closer to it: otherwise
    a create that never reached the gateway would adopt its neighbour's job, and the
    neighbour's paid video would be shown under the wrong prompt.
    """
    rivals = list(rivals)
    matcher = matcher or Matcher()
    with_prompt: list[RemoteJob] = []
    without_prompt: list[RemoteJob] = []
    for remote in remotes:
        if remote.id is None or remote.id in known_ids:
            continue
        if not _fits(remote, job, matcher):
            continue
        created = matcher.local_time(remote)
        if created is None or not matcher.in_window(created, job):
            continue
        prompt = _remote_prompt(remote)
        if prompt is None:
            if not _closer_rival(job, remote, rivals, matcher):
                without_prompt.append(remote)
        elif prompt == job.params.prompt:
            with_prompt.append(remote)
    pool = with_prompt or without_prompt
    if not pool:
        return None
    return min(pool, key=lambda remote: abs((matcher.local_time(remote) or 0.0) - sent_at(job)))


def next_reconcile_at(now: float, attempts: int, rng: random.Random) -> float:
    """When to search the list again: soon at first (the job may not be listed yet), then less."""
    base = min(5.0 * (2.0**attempts), 300.0)
    return now + base * (1.0 + 0.1 * rng.random())
