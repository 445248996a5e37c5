"""Validation of `POST /videos` bodies, mirroring the gateway's strict create schema."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.demo_gateway.api_errors import ApiError, not_supported, validation_error
from core.demo_gateway.faults import JobFaults, parse_job_faults
from core.demo_gateway.images import ImageRef, Still, parse_images
from core.demo_gateway.models import ModelSpec, find_model, nominal_dimensions

ALLOWED_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "duration",
        "seconds",
        "aspect_ratio",
        "resolution",
        "size",
        "negative_prompt",
        "seed",
        "generate_audio",
        "sample_count",
        "enhance_prompt",
        "webhook",
        "input_references",
        "input_reference",
    }
)
MAX_PROMPT_CHARS = 32_000


@dataclass(frozen=True)
class CreateParams:
    """A validated create request, with defaults filled in from the model."""

    spec: ModelSpec
    prompt: str
    duration: int
    aspect_ratio: str | None
    resolution: str | None
    width: int
    height: int
    negative_prompt: str | None
    seed: int | None
    generate_audio: bool
    sample_count: int
    enhance_prompt: bool
    webhook: dict[str, Any] | None
    faults: JobFaults
    images: tuple[ImageRef, ...] = ()
    #: Decoded first- and last-frame images (filled in once the images are fetched).
    first_frame: Still | None = dataclasses.field(default=None, repr=False)
    last_frame: Still | None = dataclasses.field(default=None, repr=False)

    @property
    def size(self) -> str:
        """Nominal frame size as ``WIDTHxHEIGHT``."""
        return f"{self.width}x{self.height}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_supported(spec: ModelSpec, field: str) -> ApiError:
    return not_supported(spec.model, field, field)


def _check_unknown(body: dict[str, Any]) -> None:
    unknown = sorted(set(body) - ALLOWED_FIELDS)
    if not unknown:
        return
    details = []
    for name in unknown:
        message = "Unrecognized key"
        if name == "duration_seconds":
            message = "Unrecognized key: use duration (integer seconds)"
        details.append({"field": name, "path": [name], "message": message})
    raise ApiError(
        400,
        "validation_error",
        "Invalid request: unrecognized keys: " + ", ".join(unknown),
        reason="unrecognized_keys",
        details=details,
    )


def _model(body: dict[str, Any]) -> ModelSpec:
    name = body.get("model")
    if not isinstance(name, str) or not name.strip():
        raise validation_error("model", "Required: a model id string")
    spec = find_model(name)
    if spec is None:
        raise ApiError(
            400,
            "unsupported_model_or_endpoint",
            f"Model {name!r} is not available on the video endpoint",
            reason="model_not_found",
            details=[{"field": "model", "path": ["model"], "message": "unknown model"}],
        )
    return spec


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise validation_error("prompt", "Required: a non-empty string")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise validation_error("prompt", f"String must contain at most {MAX_PROMPT_CHARS} chars")
    return prompt


def _duration(body: dict[str, Any], spec: ModelSpec) -> int:
    duration = body.get("duration")
    seconds = body.get("seconds")
    if duration is not None and (not _is_int(duration) or not 1 <= duration <= 120):
        raise validation_error("duration", "Expected an integer number of seconds, 1-120")
    if seconds is not None:
        if not isinstance(seconds, str) or not seconds.isdigit():
            raise validation_error("seconds", 'Expected a string like "4", "8" or "12"')
        if duration is not None and int(seconds) != duration:
            raise validation_error("seconds", "Conflicts with duration")
        duration = int(seconds)
    field = "seconds" if body.get("duration") is None and seconds is not None else "duration"
    if duration is None:
        return spec.default_duration
    if not spec.allows_duration(duration):
        raise validation_error(
            field, f"{duration} s is not allowed for {spec.model}; allowed: {spec.duration_hint()}"
        )
    return int(duration)


def _choice(body: dict[str, Any], spec: ModelSpec, field: str, allowed: tuple[str, ...]) -> Any:
    value = body.get(field)
    if value is None:
        return None
    if not spec.supports(field):
        raise _not_supported(spec, field)
    if not isinstance(value, str) or value not in allowed:
        raise validation_error(field, "Expected one of: " + ", ".join(allowed))
    return value


def _optional(body: dict[str, Any], spec: ModelSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    checks: dict[str, tuple[Any, str]] = {
        "negative_prompt": (lambda v: isinstance(v, str) and len(v) <= 2000, "a string"),
        "seed": (lambda v: _is_int(v) and 0 <= v <= 4294967295, "an integer 0-4294967295"),
        "generate_audio": (lambda v: isinstance(v, bool), "a boolean"),
        "sample_count": (lambda v: _is_int(v) and 1 <= v <= 4, "an integer 1-4"),
        "enhance_prompt": (lambda v: isinstance(v, bool), "a boolean"),
    }
    for field, (check, expected) in checks.items():
        value = body.get(field)
        if value is None:
            continue
        if not spec.supports(field):
            raise _not_supported(spec, field)
        if not check(value):
            raise validation_error(field, f"Expected {expected}")
        values[field] = value
    return values


def _webhook(body: dict[str, Any]) -> dict[str, Any] | None:
    hook = body.get("webhook")
    if hook is None:
        return None
    if not isinstance(hook, dict) or not isinstance(hook.get("endpoint_id"), str):
        raise validation_error("webhook", "Expected {endpoint_id: string, events?: string[]}")
    events = hook.get("events")
    if events is not None and not (
        isinstance(events, list) and all(isinstance(e, str) for e in events)
    ):
        raise validation_error("webhook", "events must be a list of strings")
    extra = set(hook) - {"endpoint_id", "events"}
    if extra:
        raise validation_error("webhook", "Unrecognized keys: " + ", ".join(sorted(extra)))
    return dict(hook)


def _parse_size(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


def _dimensions(
    spec: ModelSpec, aspect: str | None, resolution: str | None, size: str | None
) -> tuple[int, int]:
    if size is not None:
        return _parse_size(size)
    if spec.sizes:
        if aspect is not None:
            across, down = (int(part) for part in aspect.split(":"))
            for candidate in spec.sizes:
                width, height = _parse_size(candidate)
                if (width >= height) == (across >= down):
                    return width, height
        return _parse_size(spec.default_size or spec.sizes[0])
    chosen_aspect = aspect or (spec.default_aspect if spec.aspect_ratios else "16:9")
    chosen_resolution = resolution or (spec.default_resolution if spec.resolutions else "720p")
    return nominal_dimensions(chosen_aspect, chosen_resolution)


def validate_create(body: Any) -> CreateParams:
    """Check a decoded create body; raise ApiError (400) exactly where the gateway would."""
    if not isinstance(body, dict):
        raise validation_error("body", "Expected a JSON object")
    _check_unknown(body)
    spec = _model(body)
    prompt = _prompt(body)
    if body.get("size") is not None and (
        body.get("aspect_ratio") is not None or body.get("resolution") is not None
    ):
        raise validation_error("size", "size cannot be combined with aspect_ratio or resolution")
    duration = _duration(body, spec)
    aspect = _choice(body, spec, "aspect_ratio", spec.aspect_ratios)
    resolution = _choice(body, spec, "resolution", spec.resolutions)
    size = _choice(body, spec, "size", spec.sizes)
    optional = _optional(body, spec)
    webhook = _webhook(body)
    images = parse_images(body, spec)
    faults = parse_job_faults(prompt)
    width, height = _dimensions(spec, aspect, resolution, size)
    if aspect is None and spec.aspect_ratios and size is None:
        aspect = spec.default_aspect
    if resolution is None and spec.resolutions and size is None:
        resolution = spec.default_resolution
    return CreateParams(
        spec=spec,
        prompt=prompt,
        duration=duration,
        aspect_ratio=aspect,
        resolution=resolution,
        width=width,
        height=height,
        negative_prompt=optional.get("negative_prompt"),
        seed=optional.get("seed"),
        generate_audio=bool(optional.get("generate_audio", False)),
        sample_count=int(optional.get("sample_count", 1)),
        enhance_prompt=bool(optional.get("enhance_prompt", False)),
        webhook=webhook,
        faults=faults,
        images=images,
    )
