"""The plain words for each kind of failure: a heading, the cause and the next step to take."""

from __future__ import annotations

from typing import NamedTuple


class Words(NamedTuple):
    """What the review panel, the CLI, tooltips and diagnostics say about one failure kind."""

    heading: str
    cause: str
    next_step: str


#: Keyed by the classifier's variant (each belongs to one class, see core.failure_class).
_WORDS: dict[str, Words] = {
    "policy": Words(
        "Blocked by a safety or content policy",
        "A safety or content policy blocked this prompt (or the video made from it).",
        "Rephrase the prompt; resubmitting it unchanged will be blocked again.",
    ),
    "invalid": Words(
        "The request was invalid",
        "The gateway or the provider refused a parameter of the request.",
        "Change the parameter named in the provider's words below, then resubmit.",
    ),
    "access": Words(
        "Provider access missing",
        "The provider refused access: the gateway's account cannot use this model or "
        "provider right now.",
        "Pick another model or provider, or contact the gateway's support with the request id.",
    ),
    "key": Words(
        "API key refused",
        "The gateway did not accept the API key.",
        "Check or replace the key in Settings, then resubmit.",
    ),
    "feature": Words(
        "Video API not enabled",
        "The video API is not enabled for this account.",
        "Ask the gateway to enable video generation for this account; changing the "
        "request will not help.",
    ),
    "paused": Words(
        "Video API paused",
        "The gateway has paused its video API for the moment.",
        "Try again later; changing the request will not help.",
    ),
    "credit": Words(
        "Out of credit",
        "The account is out of credit.",
        "Top up the account, then resubmit.",
    ),
    "rate": Words(
        "Rate limited",
        "A rate limit or quota of the gateway or the provider was reached.",
        "Wait a while, then resubmit as is.",
    ),
    "fault": Words(
        "Provider fault",
        "The video provider failed to generate this video.",
        "Resubmit as is; if it keeps failing, try another model.",
    ),
    "timeout": Words(
        "Provider timeout",
        "The video provider timed out before the video was made.",
        "Resubmit as is; if it keeps failing, try another model.",
    ),
    "expired": Words(
        "Expired",
        "The job expired before a video was delivered.",
        "Resubmit to make the video again.",
    ),
    "cancelled": Words(
        "Cancelled",
        "The job was cancelled.",
        "Resubmit if you still want this video.",
    ),
    "gone": Words(
        "Gone on the server",
        "The gateway no longer knows this job (deleted or purged).",
        "Nothing can be fetched any more; resubmit to make the video again.",
    ),
    "unknown": Words(
        "Outcome unknown",
        "The submission's outcome is unknown: it may or may not have been created.",
        "Reelgate looks for it on the gateway and never sends it twice; resubmit only if "
        "you want a second video.",
    ),
    "not_sent": Words(
        "Not sent",
        "The gateway could not be reached, so nothing was sent or charged.",
        "Resubmit when the connection is back.",
    ),
    "network": Words(
        "Cannot reach the gateway",
        "The gateway could not be reached; the job may still be running.",
        "Nothing to do: Reelgate keeps checking and picks up the result.",
    ),
}

#: While the job still runs, the trouble is with its status checks, not with the job: the
#: gateway answered each of them with an error. Never "cannot reach the gateway".
_WHILE_RUNNING: dict[str, Words] = {
    "access": Words(
        "Provider access missing",
        "The gateway answers, but the provider refuses its status checks for this job "
        "(access missing). The job is kept and may still finish.",
        "Reelgate keeps checking with growing pauses. If this persists, contact the "
        "gateway's support with the request id; for new videos pick another model or "
        "provider.",
    ),
    "rate": Words(
        "Rate limited",
        "The gateway answers, but its status checks for this job are rate limited.",
        "Nothing to do: Reelgate waits as asked and checks again.",
    ),
    "feature": Words(
        "Video API not enabled",
        "The gateway answers that the video API is not enabled for this account.",
        "Ask the gateway to enable video generation; Reelgate keeps checking.",
    ),
    "paused": Words(
        "Video API paused",
        "The gateway answers that its video API is paused for the moment.",
        "Nothing to do: Reelgate keeps checking and picks up the result.",
    ),
}
_RUNNING_FALLBACK = (
    "The gateway answers, but its status checks for this job keep failing ({what}). "
    "The job is kept and may still finish."
)


def words_for(variant: str, while_running: bool = False) -> Words:
    """The words for a classifier variant (a provider fault for anything unknown)."""
    words = _WORDS.get(variant, _WORDS["fault"])
    if not while_running or variant in ("network", "unknown", "key"):
        return words
    if variant in _WHILE_RUNNING:
        return _WHILE_RUNNING[variant]
    return Words(
        words.heading,
        _RUNNING_FALLBACK.format(what=words.heading.lower()),
        "Reelgate keeps checking with growing pauses and picks up the result.",
    )
