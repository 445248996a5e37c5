"""Checks on a video request before anything is sent, with messages a person can act on.

Every check here is local and instant: the gateway would reject the same requests with a
``400 validation_error``, but only after a round trip and in its own words. Lengths are
counted as Python ``str`` length, i.e. Unicode code points (an emoji built from several
code points counts as several), which is how the gateway's 32,000-character limit is
applied to the JSON string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.catalogue import (
    MAX_DURATION,
    MAX_SAMPLES,
    MAX_SEED,
    MIN_DURATION,
    MIN_SAMPLES,
    ModelInfo,
    ParamRule,
)
from core.image_rules import check_images
from core.jobs import MAX_PROMPT_CHARS, JobParams

#: Control characters a prompt may contain: line breaks and tabs.
_ALLOWED_CONTROLS = frozenset("\n\r\t")
#: Optional create fields that only some models accept, with how to name them in a message.
_OPTIONAL_LABELS: dict[str, str] = {
    "negative_prompt": "negative prompts",
    "seed": "a fixed seed",
    "generate_audio": "generating audio",
    "sample_count": "choosing the number of videos",
    "enhance_prompt": "prompt enhancement",
}
_DURATION_PATTERN = re.compile(r"^\+?([0-9]+)\s*(?:s|sec|secs|second|seconds)?$", re.IGNORECASE)
_DECIMAL_PATTERN = re.compile(
    r"^[+-]?[0-9]*[.,][0-9]+\s*(?:s|sec|secs|second|seconds)?$", re.IGNORECASE
)
_NEGATIVE_PATTERN = re.compile(r"^-\s*[0-9]+\s*(?:s|sec|secs|second|seconds)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the field it concerns and what to do about it."""

    field: str
    message: str


def _is_blank(text: str) -> bool:
    """Whether ``text`` has nothing visible: only whitespace and invisible format characters."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def _text_problem(text: str, what: str, limit: int) -> str | None:
    """Length and character checks shared by the prompt and the negative prompt."""
    if len(text) > limit:
        return f"{what} is {len(text):,} characters; the limit is {limit:,}."
    for position, ch in enumerate(text, start=1):
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in _ALLOWED_CONTROLS:
            return f"{what} contains a control character (U+{ord(ch):04X}) at position {position}."
        if category == "Cs":
            return (
                f"{what} contains an invalid character (U+{ord(ch):04X}, half of a broken "
                f"pair) at position {position}."
            )
    return None


def check_prompt(text: str) -> str | None:
    """The problem with a prompt, or ``None`` when it is fine.

    A prompt must contain something visible, be at most 32,000 characters and contain no
    control characters other than line breaks and tabs. Characters are counted as Python
    ``str`` length (Unicode code points). Positions in messages count from 1. Any script
    (right-to-left Arabic or Hebrew included) and emoji are fine.
    """
    if not isinstance(text, str) or _is_blank(text):
        return "Write a prompt describing the video."
    return _text_problem(text, "The prompt", MAX_PROMPT_CHARS)


def _int_within(value: object, low: int, high: int) -> bool:
    """Whether ``value`` is an int (not a bool) from ``low`` to ``high`` inclusive."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _unsupported(model: ModelInfo, name: str) -> Problem:
    """The problem for an optional field the model does not accept."""
    return Problem(name, f"{model.id} does not support {_OPTIONAL_LABELS[name]}.")


def _model_rule(model: ModelInfo | None, name: str) -> ParamRule | None:
    """The model's rule for ``name``, when it constrains values (enum or range)."""
    if model is None:
        return None
    rule = model.rule(name)
    return rule if rule is not None and rule.kind in ("enum", "range") else None


def _check_duration(params: JobParams, model: ModelInfo | None) -> Problem | None:
    duration: object = params.duration
    if not isinstance(duration, int) or isinstance(duration, bool):
        return Problem("duration", "The duration must be a whole number of seconds.")
    if not _int_within(duration, MIN_DURATION, MAX_DURATION):
        return Problem(
            "duration",
            f"The duration must be between {MIN_DURATION} and {MAX_DURATION} seconds.",
        )
    if model is not None:
        rule = model.durations
        if rule is not None and rule.kind in ("enum", "range") and not rule.allows(duration):
            return Problem("duration", f"Choose {rule.describe()} seconds for {model.id}.")
    return None


def _check_size(params: JobParams, model: ModelInfo | None) -> Problem | None:
    """Size-only models (the Sora family) need a listed ``size``; other models take none."""
    size: object = params.size
    if model is not None and model.size_only:
        rule = model.sizes
        assert rule is not None  # size_only says the model lists sizes
        if params.aspect_ratio is not None:
            return Problem(
                "aspect_ratio",
                f"{model.id} takes a size, not an aspect ratio: choose {rule.describe()}.",
            )
        if not isinstance(size, str) or not size.strip():
            return Problem("size", f"Choose a size of {rule.describe()} for {model.id}.")
        if not rule.allows(size.strip()):
            return Problem("size", f"Choose a size of {rule.describe()} for {model.id}.")
        return None
    if size is None:
        return None
    if model is not None and not model.supports("size"):
        return Problem("size", f"{model.id} does not let you choose a size; leave it unset.")
    if params.aspect_ratio is not None or params.resolution is not None:
        return Problem("size", "A size cannot be combined with an aspect ratio or resolution.")
    rule = _model_rule(model, "size")
    if model is not None and rule is not None and not rule.allows(size):
        return Problem("size", f"Choose a size of {rule.describe()} for {model.id}.")
    return None


def _check_aspect_ratio(params: JobParams, model: ModelInfo | None) -> Problem | None:
    if model is not None and model.size_only:
        return None  # checked with the size
    aspect: object = params.aspect_ratio
    rule = model.aspect_ratios if model is not None else None
    if aspect is None:
        # Not sent: fine for a model that has no choice; otherwise the user must pick one.
        if rule is not None and rule.kind == "enum" and rule.choices:
            return Problem("aspect_ratio", "Choose an aspect ratio.")
        return None
    if not isinstance(aspect, str) or not aspect.strip():
        return Problem("aspect_ratio", "Choose an aspect ratio.")
    if model is not None and rule is not None and rule.kind == "enum" and not rule.allows(aspect):
        return Problem(
            "aspect_ratio", f"Choose an aspect ratio of {rule.describe()} for {model.id}."
        )
    return None


def _check_resolution(params: JobParams, model: ModelInfo | None) -> Problem | None:
    resolution: object = params.resolution
    if resolution is None:
        return None
    if not isinstance(resolution, str) or not resolution.strip():
        return Problem("resolution", "Choose a resolution, or leave it unset.")
    if model is not None:
        if not model.supports("resolution"):
            return Problem("resolution", f"{model.id} does not support choosing a resolution.")
        rule = model.resolutions
        if rule is not None and rule.kind == "enum" and not rule.allows(resolution):
            return Problem(
                "resolution", f"Choose a resolution of {rule.describe()} for {model.id}."
            )
    return None


def _check_negative_prompt(value: object, model: ModelInfo | None) -> Problem | None:
    if not isinstance(value, str):
        return Problem("negative_prompt", "The negative prompt must be text.")
    limit = MAX_PROMPT_CHARS
    rule = model.rule("negative_prompt") if model is not None else None
    if rule is not None and rule.max_length is not None:
        limit = min(limit, rule.max_length)
    message = _text_problem(value, "The negative prompt", limit)
    return Problem("negative_prompt", message) if message is not None else None


def _check_seed(value: object, model: ModelInfo | None) -> Problem | None:
    if not _int_within(value, 0, MAX_SEED):
        return Problem("seed", f"The seed must be a whole number from 0 to {MAX_SEED:,}.")
    rule = _model_rule(model, "seed")
    if model is not None and rule is not None and not rule.allows(value):
        return Problem("seed", f"Choose a seed {rule.describe()} for {model.id}.")
    return None


def _check_sample_count(value: object, model: ModelInfo | None) -> Problem | None:
    if not _int_within(value, MIN_SAMPLES, MAX_SAMPLES):
        return Problem(
            "sample_count",
            f"The number of videos must be between {MIN_SAMPLES} and {MAX_SAMPLES}.",
        )
    rule = _model_rule(model, "sample_count")
    if model is not None and rule is not None and not rule.allows(value):
        return Problem("sample_count", f"Choose {rule.describe()} videos for {model.id}.")
    return None


def _check_switch(name: str, value: object) -> Problem | None:
    if not isinstance(value, bool):
        label = "Audio generation" if name == "generate_audio" else "Prompt enhancement"
        return Problem(name, f"{label} must be either on or off.")
    return None


def validate(params: JobParams, model: ModelInfo | None) -> list[Problem]:
    """Every problem with ``params`` for ``model``, in form order; ``[]`` means send it.

    ``model`` is the catalogue entry for ``params.model``; ``None`` means the model is not
    in the catalogue, which is reported, and only the API's general limits are checked.
    """
    problems: list[Problem] = []
    prompt_problem = check_prompt(params.prompt)
    if prompt_problem is not None:
        problems.append(Problem("prompt", prompt_problem))
    if model is None:
        model_id = params.model.strip() if isinstance(params.model, str) else ""
        if model_id:
            message = f"The model {model_id} is not in the catalogue. Choose one from the list."
        else:
            message = "Choose a model."
        problems.append(Problem("model", message))
    for check in (_check_duration, _check_aspect_ratio, _check_size, _check_resolution):
        problem = check(params, model)
        if problem is not None:
            problems.append(problem)
    optional: dict[str, object] = {
        "negative_prompt": params.negative_prompt,
        "seed": params.seed,
        "generate_audio": params.generate_audio,
        "sample_count": params.sample_count,
        "enhance_prompt": params.enhance_prompt,
    }
    for name, value in optional.items():
        if value is None:
            continue
        if model is not None and not model.supports(name):
            problems.append(_unsupported(model, name))
            continue
        if name == "negative_prompt":
            problem = _check_negative_prompt(value, model)
        elif name == "seed":
            problem = _check_seed(value, model)
        elif name == "sample_count":
            problem = _check_sample_count(value, model)
        else:
            problem = _check_switch(name, value)
        if problem is not None:
            problems.append(problem)
    problems.extend(Problem("images", message) for message in check_images(params, model))
    return problems


def parse_duration(text: str) -> int | Problem:
    """A duration typed on the command line: ``"8"``, ``"8s"``, ``" 8 "``, ``"8 seconds"``.

    Returns whole seconds between 1 and 120, or a :class:`Problem` saying what is wrong.
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    example = "give whole seconds, for example 8"
    if not cleaned:
        return Problem("duration", f"The duration is missing; {example}.")
    shown = "".join(ch if ch.isprintable() else "?" for ch in cleaned[:20])
    if len(cleaned) > 20:
        shown += "…"
    match = _DURATION_PATTERN.match(cleaned)
    if match is None:
        if _DECIMAL_PATTERN.match(cleaned):
            return Problem("duration", f'"{shown}" is not a whole number of seconds; {example}.')
        if _NEGATIVE_PATTERN.match(cleaned):
            return Problem(
                "duration",
                f'"{shown}" is not a duration; it must be between '
                f"{MIN_DURATION} and {MAX_DURATION} seconds.",
            )
        return Problem("duration", f'"{shown}" is not a duration; {example}.')
    digits = match.group(1).lstrip("0")
    seconds = int(digits) if digits and len(digits) <= 6 else (0 if not digits else -1)
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        return Problem(
            "duration",
            f"{shown} is out of range; the duration must be between "
            f"{MIN_DURATION} and {MAX_DURATION} seconds.",
        )
    return seconds
