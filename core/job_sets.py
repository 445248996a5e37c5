"""Linked sets of jobs: one prompt fitted to several models (compare), or many prompts (batch).

A set is planned here (pure: every job's request fitted to its model's own allowed values,
with what was changed said in words) and sent by :mod:`core.set_sender` through
``Engine.submit``, one create at a time. Each job keeps its set's id and kind in the journal.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

from core.catalogue import (
    MAX_DURATION,
    MAX_SEED,
    MIN_DURATION,
    ModelInfo,
    aspect_from_size,
    find_model,
)
from core.estimate import PriceQuery
from core.image_rules import image_support, with_images
from core.jobs import JobParams
from core.money import NANOS_PER_USD
from core.pricing_client import PriceSource
from core.validation import validate

#: How many videos one batch may ask for (a typo in a seed count must not order thousands).
MAX_SET_JOBS = 500
#: How many seeds one prompt may be varied with.
MAX_VARIATIONS = 20
#: Optional create fields that are dropped for a model that does not take them.
_OPTIONAL = ("negative_prompt", "seed", "generate_audio", "sample_count", "enhance_prompt")
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")

#: ``estimate(params, model)``: the expected price in dollars, or None for "price unknown".
Estimator = Callable[[JobParams, ModelInfo], Decimal | None]


def new_set_id() -> str:
    """A fresh id for a compare set or batch."""
    return uuid.uuid4().hex


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def nearest_duration(model: ModelInfo | None, wanted: int) -> int:
    """The model's allowed duration nearest to ``wanted`` (ties go to the shorter, cheaper one).

    A model that lists no durations gets ``wanted`` within the API's 1-120 s.
    """
    rule = model.durations if model is not None else None
    if rule is not None and rule.kind == "enum":
        allowed = sorted(
            int(number)
            for choice in rule.choices
            if (number := _as_number(choice)) is not None and number.is_integer()
        )
        if allowed:
            return min(allowed, key=lambda seconds: (abs(seconds - wanted), seconds))
    low, high = MIN_DURATION, MAX_DURATION
    if rule is not None and rule.kind == "range":
        low = max(low, math.ceil(rule.minimum)) if rule.minimum is not None else low
        high = min(high, math.floor(rule.maximum)) if rule.maximum is not None else high
    return max(low, min(high, wanted))


def _ratio_value(text: str) -> float | None:
    match = _RATIO.match(text)
    if match is None:
        return None
    across, down = float(match.group(1)), float(match.group(2))
    return across / down if across > 0 and down > 0 else None


def nearest_aspect(model: ModelInfo | None, wanted: str | None) -> str | None:
    """The model's aspect ratio nearest in shape to ``wanted``; None when it offers no choice."""
    rule = model.aspect_ratios if model is not None else None
    if rule is None or rule.kind != "enum" or not rule.choices:
        return None
    choices = [str(choice) for choice in rule.choices]
    if wanted in choices:
        return wanted
    target = _ratio_value(wanted) if wanted else None
    if target is None:
        default = rule.default
        return str(default) if default is not None and str(default) in choices else choices[0]

    def distance(choice: str) -> float:
        value = _ratio_value(choice)
        return abs(math.log(value / target)) if value else math.inf

    return min(choices, key=distance)


def nearest_size(model: ModelInfo, wanted_size: str | None, wanted_aspect: str | None) -> str:
    """For a size-only model (the Sora family): the listed size nearest in shape to the ask.

    A listed ``wanted_size`` is kept; otherwise the size whose shape is closest to the
    asked size's or aspect ratio's, else the model's default size.
    """
    rule = model.sizes
    assert rule is not None and rule.choices  # size_only says so
    choices = [str(choice) for choice in rule.choices]
    if wanted_size in choices:
        return wanted_size
    shape = aspect_from_size(wanted_size) if wanted_size else wanted_aspect
    target = _ratio_value(shape) if shape else None
    if target is None:
        return str(rule.default) if str(rule.default) in choices else choices[0]

    def distance(choice: str) -> float:
        ratio = aspect_from_size(choice)
        value = _ratio_value(ratio) if ratio else None
        return abs(math.log(value / target)) if value else math.inf

    return min(choices, key=distance)


def _fit_resolution(model: ModelInfo, wanted: str | None) -> str | None:
    rule = model.resolutions
    if wanted is None or rule is None or rule.allows(wanted):
        return wanted if rule is not None else None
    return str(rule.default) if rule.default is not None else None


@dataclass(frozen=True)
class PlannedJob:
    """One job of a set, ready to send: its request, where it came from, what was adjusted."""

    params: JobParams
    model_name: str
    #: Where the request came from ("line 4"), empty for a compare set.
    source: str = ""
    #: What was changed to fit the model, in words ("8 s → 6 s").
    adjusted: tuple[str, ...] = ()
    #: Where the video is copied once downloaded (command-line ``--output-dir``).
    output_path: str | None = None
    #: The price estimate in dollars; None means "price unknown".
    estimate: Decimal | None = None


def fit_to_model(
    params: JobParams, model: ModelInfo, *, keep: frozenset[str] = frozenset()
) -> PlannedJob:
    """``params`` sent to ``model`` instead: each value moved to the model's nearest allowed one.

    Optional fields the model does not take are dropped; every change is listed. Fields in
    ``keep`` (``duration``, ``aspect_ratio``) stay as given, to be validated instead.
    """
    changes: list[str] = []
    duration = params.duration
    if "duration" not in keep:
        duration = nearest_duration(model, params.duration)
    if duration != params.duration:
        changes.append(f"{params.duration} s → {duration} s")
    aspect, size = params.aspect_ratio, params.size
    if model.size_only and "aspect_ratio" not in keep:
        # Size-only models take a size and never an aspect ratio.
        aspect, size = None, nearest_size(model, params.size, params.aspect_ratio)
        asked = params.size or params.aspect_ratio
        if asked is not None and size != asked:
            changes.append(f"{asked} → {size}")
    elif "aspect_ratio" not in keep:
        aspect = nearest_aspect(model, params.aspect_ratio or aspect_from_size(size or ""))
        size = None  # a size goes only to size-only models (never with an aspect ratio)
    if not model.size_only and params.aspect_ratio is not None and aspect != params.aspect_ratio:
        changes.append(f"{params.aspect_ratio} → {aspect or 'model default'}")
    resolution = _fit_resolution(model, params.resolution)
    if params.resolution is not None and resolution != params.resolution:
        changes.append(f"{params.resolution} → {resolution or 'model default'}")
    dropped: dict[str, None] = {}
    for name in _OPTIONAL:
        if getattr(params, name) is not None and not model.supports(name):
            dropped[name] = None
            changes.append(f"no {name.replace('_', ' ')}")
    images = params.images
    if images and not image_support(model).accepts:
        images = ()
        changes.append("no images")
    fitted = replace(
        params,
        model=model.id,
        duration=duration,
        aspect_ratio=aspect,
        size=size,
        resolution=resolution,
        **dropped,  # type: ignore[arg-type]
    )
    # the images travel in the create field this model takes (input_reference for Sora)
    return PlannedJob(with_images(fitted, images, model), model.name, adjusted=tuple(changes))


def compare_plan(params: JobParams, models: Sequence[ModelInfo]) -> list[PlannedJob]:
    """The same prompt for each model, each with its own valid values nearest to ``params``."""
    return [fit_to_model(params, model) for model in models]


def takes_seed(model: ModelInfo | None) -> bool:
    """Whether a model accepts a fixed seed (so seed variations make sense)."""
    return model is not None and model.supports("seed")


def seeds_for(count: int, first_seed: int | None, rng: random.Random | None = None) -> list[int]:
    """``count`` seeds: ``first_seed``, ``first_seed + 1``... or random distinct ones."""
    if first_seed is not None:
        return [(first_seed + step) % (MAX_SEED + 1) for step in range(count)]
    chooser = rng or random.Random()
    return chooser.sample(range(MAX_SEED + 1), count)


def variations(jobs: Sequence[PlannedJob], seeds: Sequence[int]) -> list[PlannedJob]:
    """Each job once per seed (every job's model must take a seed: see :func:`takes_seed`)."""
    return [
        replace(
            job, params=replace(job.params, seed=seed), adjusted=(*job.adjusted, f"seed {seed}")
        )
        for job in jobs
        for seed in seeds
    ]


def with_estimates(
    jobs: Sequence[PlannedJob], models: Sequence[ModelInfo], estimate: Estimator | None
) -> list[PlannedJob]:
    """The jobs with their price estimates (None everywhere without an estimator)."""
    if estimate is None:
        return list(jobs)
    priced: list[PlannedJob] = []
    for job in jobs:
        model = find_model(models, job.params.model)
        try:
            price = estimate(job.params, model) if model is not None else None
        except Exception:  # an estimate is a convenience: "price unknown" rather than a crash
            price = None
        priced.append(replace(job, estimate=price))
    return priced


def price_query(params: JobParams, model: ModelInfo | None) -> PriceQuery | None:
    """What decides a request's price, with the model's defaults for what it leaves unset."""
    if not params.model or params.duration < 1:
        return None
    audio_default: bool | None = None
    resolution_default: str | None = None
    if model is not None:
        audio = model.rule("generate_audio")
        if audio is not None and isinstance(audio.default, bool):
            audio_default = audio.default
        elif not model.supports("generate_audio"):
            audio_default = False  # a model without the option makes no sound to pay for
        resolution = model.rule("resolution")
        if resolution is not None and isinstance(resolution.default, str):
            resolution_default = resolution.default
    return PriceQuery.of(params, audio_default=audio_default, resolution_default=resolution_default)


def gateway_estimator(source: PriceSource) -> Estimator:
    """An :data:`Estimator` asking the gateway's prices (blocking: call off the GUI thread)."""

    def estimate(params: JobParams, model: ModelInfo) -> Decimal | None:
        query = price_query(params, model)
        nanos = source.estimate(query).nanos if query is not None else None
        return None if nanos is None else Decimal(nanos) / NANOS_PER_USD

    return estimate


def total_estimate(jobs: Sequence[PlannedJob]) -> Decimal | None:
    """The sum of the estimates, or None if any job's price is unknown."""
    total = Decimal(0)
    for job in jobs:
        if job.estimate is None:
            return None
        total += job.estimate
    return total


def price_text(total: Decimal | None) -> str:
    """``"$1.20"``, or ``"price unknown"``."""
    return "price unknown" if total is None else f"${total.quantize(Decimal('0.01'))}"


def plan_problems(jobs: Sequence[PlannedJob], models: Sequence[ModelInfo]) -> list[str]:
    """What stops any planned job from being sent, one message per problem."""
    problems: list[str] = []
    for job in jobs:
        model = find_model(models, job.params.model)
        where = f"{job.source.capitalize()}, {job.params.model}" if job.source else job.model_name
        for problem in validate(job.params, model):
            problems.append(f"{where}: {problem.message}")
    return problems


T = TypeVar("T")
#: Clips the Compare view plays side by side; a bigger set is compared a window at a time.
MAX_COMPARED = 4


def compare_window(
    members: Sequence[T], selected: int | None, limit: int = MAX_COMPARED
) -> tuple[list[T], int]:
    """The members to compare side by side, and the index of the first one in ``members``.

    A set of up to ``limit`` members is compared whole. From a bigger one (a batch), the
    selected member (index ``selected``) and the ones after it are taken, moved back at the
    end of the set so the window stays full.
    """
    if len(members) <= limit:
        return list(members), 0
    start = min(max(selected or 0, 0), len(members) - limit)
    return list(members[start : start + limit]), start
