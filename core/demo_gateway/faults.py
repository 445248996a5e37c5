"""Fault injection for the demo gateway: per-server random profiles and per-job prompt keywords.

Prompt keywords are case-insensitive, in square brackets, anywhere in the prompt. Several may be
combined; status faults then apply in prompt order (``[429][500]``: first status GET answers 429,
the second 500). ``=N`` after a status fault repeats it for the first N status GETs.

Job outcome
    ``[fail]``            job ends ``failed`` with ``error: {code: "provider_error", message}``
    ``[fail-string]``     job ends ``failed`` with ``error`` as a plain string
    ``[expire]``          job ends ``expired`` (content 409 ``not_ready``; billing void)
    ``[cancelled]``       job ends ``cancelled``
    ``[unsettled=S]``     once completed, the bill stays ``pending`` for S seconds (default 3)
                          before it is ``settled``, as a real gateway may report it; once
                          failed, cancelled or expired, it stays ``estimated`` for S seconds
                          before it is ``void``
    ``[unknown-status]``  status is ``rendering_frames`` while processing, then completes
    ``[no-status]``       job objects carry no ``status`` field, only ``lifecycle_status``
    ``[moderation]``      job ends ``failed``, ``error: {code: "moderation_blocked", message}``
                          (Sora); ``[moderation-string]``: the same as a plain string
    ``[rai]``             job ends ``failed`` with Veo's Responsible AI refusal as plain text
    ``[sensitive]``       job ends ``failed`` with MiniMax's ``{code: 1026, "input new_sensitive"}``
    ``[invalid-argument]`` job ends ``failed`` with ``INVALID_ARGUMENT``
    ``[exhausted]``       job ends ``failed`` with ``RESOURCE_EXHAUSTED`` (a quota message)
    ``[deadline]``        job ends ``failed`` with ``DEADLINE_EXCEEDED``

Create call
    ``[policy]``          403 ``guardrail_blocked`` (no job)
    ``[funds]``           402 ``insufficient_funds`` (no job)
    ``[disabled]``        501 ``not_implemented_yet``, reason ``video_api_feature_disabled``
    ``[paused]``          501 ``not_implemented_yet``, reason ``video_api_temporarily_disabled``
    ``[permission]``      403 whose ``error`` is an object ``{code: "PERMISSION_DENIED"}``, with
                          ``upstream_error`` and ``provider_failure_diagnostics``
                          (``provider_access_missing``); no job
    ``[drop-create]``     the job IS created, then the connection closes without an answer
    ``[slow-create=S]``   the job is created, the answer comes S seconds later
    ``[accepted]``        the create answers 202 Accepted instead of 200 (the API docs' code)
    ``[create-failed]``   the job fails at once: the create answer itself says ``failed``, with
                          the error (any failure keyword's, else the generic provider error)
                          and a ``void`` bill
    ``[create-429]``      the first create with this exact prompt (``=N``: first N) answers
                          429 ``key_limit_exceeded`` with ``Retry-After: 1`` (no job)

Status GETs (``GET /videos/{id}``)
    ``[upstream]``        first 2 (``[upstream=N]``: N) answer 502 ``upstream_error`` with
                          ``provider_failure_diagnostics.category = provider_access_missing``
    ``[429]``             first answers 429 ``key_limit_exceeded`` with ``Retry-After: 1``
    ``[429-noretry]``     first answers 429 without ``Retry-After``
    ``[429-date]``        first answers 429 whose ``Retry-After`` is an HTTP date 30 s ahead
                          (``reset_at`` left out, so the header alone says when)
    ``[500]``, ``[503]``  first answers 500 ``gateway_error`` / 503 ``service_unavailable``
    ``[malformed]``       first answers 200 with truncated JSON (``{"id": "G-...``)
    ``[html]``            first answers 502 with an HTML error page
    ``[slow-status=S]``   first status GET answers after S seconds
    ``[revoked]``         every later request about the job answers 401 ``unauthorised``,
                          reason ``key revoked``

Content
    ``[drop-content]``    first content fetch (``=N``: first N) sends half the bytes, then closes
    ``[close-delimited]`` content is sent close-delimited (no chunked encoding) for this job
    ``[chunked]``         content is sent with chunked transfer encoding for this job
    ``[no-outputs]``      ``outputs`` is ``[]`` (only the top-level URLs), also with several
                          samples: output n is still ``GET .../content?index=n``
    ``[size=NMiB]``       output padded to exactly N MiB (also ``KiB``, ``GiB``, bytes) with an
                          MP4 ``free`` box streamed from a zero buffer; above 512 MiB the content
                          endpoint answers 502 ``video_content_too_large`` like the real gateway

Per server (``FaultProfile``): ``fail_rate`` fails random jobs, with an ``error`` drawn from
``fail_kinds`` (the failure keywords above; the generic provider error when empty), and
``video_api`` ``"disabled"`` or ``"paused"`` answers 501 on every video route.

Unknown bracketed words are ignored (prompts may contain brackets); a known keyword with a bad
value is a 400 ``validation_error``.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field, fields

from core.demo_gateway.api_errors import ApiError

#: Keywords that end the job ``failed`` with a provider-shaped error (``fault_errors``).
FAILURE_KINDS = (
    "moderation",
    "moderation-string",
    "rai",
    "sensitive",
    "invalid-argument",
    "exhausted",
    "deadline",
)
CREATE_ERRORS = ("policy", "funds", "disabled", "paused", "permission")
VIDEO_API_STATES = ("enabled", "disabled", "paused")
STATUS_FAULTS = (
    "upstream",
    "429",
    "429-noretry",
    "429-date",
    "500",
    "503",
    "malformed",
    "html",
)
_KEYWORD = re.compile(r"\[([a-z0-9][a-z0-9-]*)(?:=([^\]\s]*))?\]", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(b|kib|mib|gib)?$", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
MAX_SLEEP_SECONDS = 300.0


@dataclass
class JobFaults:
    """The faults one job's prompt asked for."""

    terminal: str = "completed"
    error_as_string: bool | None = None
    #: One of FAILURE_KINDS: the provider-shaped ``error`` a failed job carries.
    failure_kind: str | None = None
    unknown_status: bool = False
    status_script: list[str] = field(default_factory=list)
    revoked: bool = False
    slow_status: float = 0.0
    slow_create: float = 0.0
    drop_create: bool = False
    create_429: int = 0
    drop_content: int = 0
    create_error: str | None = None
    size_bytes: int | None = None
    chunked: bool | None = None
    unsettled: float = 0.0
    no_outputs: bool = False
    no_status: bool = False
    accepted: bool = False
    create_failed: bool = False

    def status_fault(self, call_index: int) -> str | None:
        """The scripted fault for the job's status GET number `call_index` (0-based), if any."""
        if call_index < len(self.status_script):
            return self.status_script[call_index]
        return None


def parse_job_faults(prompt: str) -> JobFaults:
    """Read the fault keywords in `prompt`; raises ApiError(400) on a bad keyword value."""
    faults = JobFaults()
    for match in _KEYWORD.finditer(prompt):
        word = match.group(1).lower()
        value = match.group(2)
        _apply_keyword(faults, word, value)
    return faults


#: Keywords that switch one fault on or off: keyword -> (JobFaults field, value).
_SWITCHES: dict[str, tuple[str, bool]] = {
    "unknown-status": ("unknown_status", True),
    "drop-create": ("drop_create", True),
    "revoked": ("revoked", True),
    "create-failed": ("create_failed", True),
    "accepted": ("accepted", True),
    "no-status": ("no_status", True),
    "no-outputs": ("no_outputs", True),
    "close-delimited": ("chunked", False),
    "chunked": ("chunked", True),
}


def _apply_keyword(faults: JobFaults, word: str, value: str | None) -> None:
    if word in ("fail", "fail-string"):
        faults.terminal = "failed"
        faults.error_as_string = word == "fail-string"
    elif word in FAILURE_KINDS:
        faults.terminal = "failed"
        faults.failure_kind = word
    elif word == "expire":
        faults.terminal = "expired"
    elif word == "cancelled":
        faults.terminal = "cancelled"
    elif word in CREATE_ERRORS:
        faults.create_error = word
    elif word == "create-429":
        faults.create_429 = _count(word, value, 1)
    elif word == "slow-create":
        faults.slow_create = _seconds(word, value)
    elif word == "unsettled":
        faults.unsettled = 3.0 if value is None else _seconds(word, value)
    elif word == "slow-status":
        faults.slow_status = _seconds(word, value)
    elif word in STATUS_FAULTS:
        default = 2 if word == "upstream" else 1
        faults.status_script.extend([word] * _count(word, value, default))
    elif word == "drop-content":
        faults.drop_content = _count(word, value, 1)
    elif word in _SWITCHES:
        field, on = _SWITCHES[word]
        setattr(faults, field, on)
    elif word == "size":
        faults.size_bytes = _size(value)


def _bad(word: str, value: str | None, expected: str) -> ApiError:
    return ApiError(
        400,
        "validation_error",
        f"Bad value for the [{word}] demo keyword",
        reason="invalid_demo_keyword",
        details=[{"field": "prompt", "keyword": word, "value": value, "message": expected}],
    )


def _seconds(word: str, value: str | None) -> float:
    try:
        seconds = float(value or "")
    except ValueError:
        raise _bad(word, value, "expected seconds, e.g. [slow-create=2]") from None
    if not 0.0 <= seconds <= MAX_SLEEP_SECONDS:
        raise _bad(word, value, f"seconds must be 0-{MAX_SLEEP_SECONDS:g}")
    return seconds


def _count(word: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise _bad(word, value, "expected a count 1-1000")
    return int(value)


def _size(value: str | None) -> int:
    match = _SIZE.match(value or "")
    if match is None:
        raise _bad("size", value, "expected a size like [size=64MiB]")
    unit = (match.group(2) or "b").lower()
    size = int(float(match.group(1)) * _UNITS[unit])
    if not 0 <= size <= 64 * 1024**3:
        raise _bad("size", value, "size must be at most 64GiB")
    return size


@dataclass(frozen=True)
class FaultProfile:
    """Per-server random faults: each field is a probability in [0, 1] unless noted."""

    status_429: float = 0.0
    status_5xx: float = 0.0
    status_502: float = 0.0
    status_malformed: float = 0.0
    status_html: float = 0.0
    content_drop: float = 0.0
    create_drop: float = 0.0
    fail_rate: float = 0.0
    retry_after_seconds: int | None = 1
    status_delay_seconds: float = 0.0
    seed: int = 0
    #: Which errors random failures carry (FAILURE_KINDS); empty: the generic provider error.
    fail_kinds: tuple[str, ...] = ()
    #: ``disabled`` or ``paused``: every video route answers 501 (see fault_errors).
    video_api: str = "enabled"

    def __post_init__(self) -> None:
        """Reject probabilities outside [0, 1] and unknown failure kinds or API states."""
        for item in fields(self):
            if item.name in _NOT_PROBABILITIES:
                continue
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultProfile.{item.name} must be within [0, 1], got {value}")
        if self.status_delay_seconds < 0:
            raise ValueError("FaultProfile.status_delay_seconds must not be negative")
        unknown = [kind for kind in self.fail_kinds if kind not in FAILURE_KINDS]
        if unknown:
            raise ValueError(f"FaultProfile.fail_kinds: unknown kinds {unknown}")
        if self.video_api not in VIDEO_API_STATES:
            raise ValueError(f"FaultProfile.video_api must be one of {VIDEO_API_STATES}")


_NOT_PROBABILITIES = (
    "retry_after_seconds",
    "status_delay_seconds",
    "seed",
    "fail_kinds",
    "video_api",
)


class FaultDice:
    """A thread-safe seeded dice that decides when a FaultProfile's random faults fire."""

    def __init__(self, profile: FaultProfile) -> None:
        """Seed the dice from the profile."""
        self.profile = profile
        self._random = random.Random(profile.seed)
        self._lock = threading.Lock()

    def _roll(self) -> float:
        with self._lock:
            return self._random.random()

    def chance(self, probability: float) -> bool:
        """True with `probability` (never rolls for 0, so zero profiles stay deterministic)."""
        return probability > 0.0 and self._roll() < probability

    def failure_kind(self) -> str | None:
        """The error kind of a random failure (None: the generic provider error)."""
        kinds = self.profile.fail_kinds
        if not kinds:
            return None
        return kinds[min(len(kinds) - 1, int(self._roll() * len(kinds)))]

    def status_fault(self) -> str | None:
        """A random status-GET fault kind from the profile, or None."""
        p = self.profile
        table = (
            (p.status_429, "429" if p.retry_after_seconds is not None else "429-noretry"),
            (p.status_5xx, "5xx"),
            (p.status_502, "upstream"),
            (p.status_malformed, "malformed"),
            (p.status_html, "html"),
        )
        if not any(prob > 0.0 for prob, _ in table):
            return None
        roll = self._roll()
        for probability, kind in table:
            if roll < probability:
                if kind == "5xx":
                    return "500" if self._roll() < 0.5 else "503"
                return kind
            roll -= probability
        return None
