"""The video model catalogue: which models exist and which parameter values each accepts.

The list comes from ``GET /videos/models``. The video API is beta, so parsing is tolerant:
a parameter's allowed values arrive in one of three shapes (``{type: "enum", values}``,
``{type: "string", enum, default}`` or ``{type: "number", min, max}``), numbers sometimes
arrive as strings, a parameter may be listed under an alias (``seconds`` for ``duration``)
and details may be missing entirely. :func:`parse_catalogue` never raises: malformed items
are skipped and missing detail falls back to the API's general limits.

The raw document is cached on disk with a time limit (:class:`CatalogueCache`), and a small
built-in list (:data:`FALLBACK_MODELS`) is used only when neither the live call nor the
cache can supply models.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.catalogue_fallback import FALLBACK_DOCUMENT
from core.catalogue_model import (
    BUILTIN_ALIASES,
    DEMO_MODEL_ID,
    MAX_DURATION,
    MAX_SAMPLES,
    MAX_SEED,
    MIN_DURATION,
    MIN_SAMPLES,
    ModelInfo,
    Option,
    ParamRule,
    RuleKind,
    Scalar,
    as_number,
    aspect_from_size,
    find_model,
    format_number,
    same_value,
    tidy_number,
)
from core.files import write_text_atomic
from core.wire import JsonObject, as_float, as_object, as_str

# The model entries live in core.catalogue_model; they are part of this module's interface.
__all__ = [
    "DEMO_MODEL_ID",
    "FALLBACK_MODELS",
    "MAX_DURATION",
    "MAX_SAMPLES",
    "MAX_SEED",
    "MIN_DURATION",
    "MIN_SAMPLES",
    "CatalogueCache",
    "ModelInfo",
    "Option",
    "ParamRule",
    "RuleKind",
    "Scalar",
    "aspect_from_size",
    "choose_models",
    "find_model",
    "parse_catalogue",
]

log = logging.getLogger(__name__)

#: Canonical parameters whose values are numbers (numeric strings are converted).
_NUMERIC_PARAMS = frozenset({"duration", "sample_count", "seed"})
#: Canonical parameters whose values are whole numbers.
_INTEGER_PARAMS = _NUMERIC_PARAMS
#: Canonical parameters whose values are text (numbers are rendered as text).
_STRING_PARAMS = frozenset({"aspect_ratio", "resolution", "size", "negative_prompt", "prompt"})
_BOOLEAN_PARAMS = frozenset({"generate_audio", "enhance_prompt"})
#: Bounds the API itself documents, used to complete a missing or partial range.
_API_BOUNDS: dict[str, tuple[float, float]] = {
    "duration": (MIN_DURATION, MAX_DURATION),
    "sample_count": (MIN_SAMPLES, MAX_SAMPLES),
    "seed": (0, MAX_SEED),
}


# --- parsing -------------------------------------------------------------------------------


def _string_list(value: object) -> tuple[str, ...]:
    """A list of non-empty strings from a list (or a single string); anything else -> ()."""
    items: list[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = list(value)
    else:
        return ()
    result: list[str] = []
    for item in items:
        if isinstance(item, str) and item.strip() and item.strip() not in result:
            result.append(item.strip())
    return tuple(result)


def _scalar_for(name: str, value: object) -> Scalar | None:
    """One allowed value converted for the parameter: numeric strings become numbers for
    numeric parameters, numbers become text for text parameters; junk gives ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if name in _NUMERIC_PARAMS:
        number = as_float(value)
        return None if number is None else tidy_number(number)
    if isinstance(value, str):
        return value if value.strip() else None
    number = as_number(value)
    if number is None:
        return None
    return format_number(number) if name in _STRING_PARAMS else tidy_number(number)


def _default_for(name: str, kind: RuleKind, value: object) -> Option | None:
    """The catalogue's default value, if it has a sensible type for the rule."""
    if isinstance(value, bool):
        return value if kind == "boolean" or name in _BOOLEAN_PARAMS else None
    if kind == "boolean":
        return None
    return _scalar_for(name, value)


def _inferred_rule(name: str, aliases: tuple[str, ...] = ()) -> ParamRule:
    """A rule from the parameter's name alone (listed in supported_params, no detail)."""
    if name in _BOOLEAN_PARAMS:
        return ParamRule(name=name, aliases=aliases, kind="boolean")
    if name in _API_BOUNDS:
        low, high = _API_BOUNDS[name]
        return ParamRule(
            name=name, minimum=low, maximum=high, aliases=aliases, kind="range", integer=True
        )
    return ParamRule(name=name, aliases=aliases, kind="free")


def _first_list(detail: JsonObject, keys: tuple[str, ...]) -> list[object] | None:
    """The first of ``keys`` whose value is a non-empty list."""
    for key in keys:
        value = detail.get(key)
        if isinstance(value, list) and value:
            return value
    return None


def _first_float(detail: JsonObject, keys: tuple[str, ...]) -> float | None:
    """The first of ``keys`` holding a number (or numeric string)."""
    for key in keys:
        number = as_float(detail.get(key))
        if number is not None:
            return number
    return None


def _parse_rule(name: str, detail_value: object) -> ParamRule:
    """A :class:`ParamRule` from one ``supported_params_detail`` entry (any shape)."""
    detail = as_object(detail_value)
    aliases = tuple(a for a in _string_list(detail.get("aliases")) if a != name)
    type_name = (as_str(detail.get("type")) or "").strip().lower()
    rule: ParamRule
    values = _first_list(detail, ("values", "enum", "choices", "options"))
    minimum = _first_float(detail, ("min", "minimum"))
    maximum = _first_float(detail, ("max", "maximum"))
    if values is not None and all(isinstance(v, bool) for v in values):
        rule = ParamRule(name=name, aliases=aliases, kind="boolean")
    elif values is not None and (choices := _choices(name, values)):
        rule = ParamRule(name=name, choices=choices, aliases=aliases, kind="enum")
    elif type_name in ("boolean", "bool"):
        rule = ParamRule(name=name, aliases=aliases, kind="boolean")
    elif (
        minimum is not None
        or maximum is not None
        or type_name in ("number", "integer", "int", "float")
    ):
        bounds = _API_BOUNDS.get(name)
        if bounds is not None:
            minimum = bounds[0] if minimum is None else minimum
            maximum = bounds[1] if maximum is None else maximum
        if minimum is not None and maximum is not None and minimum > maximum:
            minimum, maximum = maximum, minimum
        rule = ParamRule(
            name=name,
            minimum=minimum,
            maximum=maximum,
            aliases=aliases,
            kind="range",
            integer=name in _INTEGER_PARAMS or type_name in ("integer", "int"),
        )
    elif name in _BOOLEAN_PARAMS or name in _API_BOUNDS:
        rule = _inferred_rule(name, aliases)
    else:
        max_length = as_float(detail.get("max_length"))
        if max_length is None:
            max_length = as_float(detail.get("maxLength"))
        rule = ParamRule(
            name=name,
            aliases=aliases,
            kind="free",
            max_length=int(max_length) if max_length is not None and max_length >= 0 else None,
        )
    default = _default_for(name, rule.kind, detail.get("default"))
    return replace(rule, default=default) if default is not None else rule


def _choices(name: str, values: list[object]) -> tuple[Scalar, ...]:
    """The distinct usable values of an enum, in catalogue order."""
    result: list[Scalar] = []
    for value in values:
        scalar = _scalar_for(name, value)
        if scalar is not None and not any(same_value(scalar, seen) for seen in result):
            result.append(scalar)
    return tuple(result)


def _canonical_key(key: str, aliases: tuple[str, ...]) -> str:
    """Map a catalogue parameter key to the create-request name it stands for."""
    if key in BUILTIN_ALIASES:
        return BUILTIN_ALIASES[key]
    for alias in aliases:
        if alias in _NUMERIC_PARAMS | _STRING_PARAMS | _BOOLEAN_PARAMS:
            return alias
    return key


def _parse_model(item: JsonObject) -> ModelInfo | None:
    """One catalogue item, or ``None`` when it names no model."""
    model_id = item.get("model")
    if not isinstance(model_id, str) or not model_id.strip():
        model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        return None
    model_id = model_id.strip()
    details = as_object(item.get("supported_params_detail"))
    parsed: list[tuple[str, str, ParamRule]] = []
    for key, value in details.items():
        if isinstance(key, str) and key.strip():
            rule = _parse_rule(key, value)
            parsed.append((key, _canonical_key(key, rule.aliases), rule))
    # keys already canonical first, so "duration" wins over an alias such as "seconds"
    parsed.sort(key=lambda entry: entry[0] != entry[1])
    params: dict[str, ParamRule] = {}
    for key, canonical, rule in parsed:
        if canonical in params:
            continue
        if canonical != key:
            aliases = (key, *(a for a in rule.aliases if a not in (key, canonical)))
            rule = replace(_parse_rule(canonical, details[key]), aliases=aliases)
        params[canonical] = rule
    supported = set(params)
    for name in _string_list(item.get("supported_params")):
        canonical = BUILTIN_ALIASES.get(name, name)
        for rule in params.values():
            if name in rule.aliases:
                canonical = rule.name
        supported.add(canonical)
        if canonical not in params:
            params[canonical] = _inferred_rule(canonical)
    return ModelInfo(
        id=model_id,
        name=(as_str(item.get("name")) or model_id).strip() or model_id,
        status=as_str(item.get("status")),
        params=params,
        supported=frozenset(supported),
        aliases=tuple(a for a in _string_list(item.get("aliases")) if a != model_id),
        pricing=as_object(item.get("pricing")),
        raw=item,
    )


def parse_catalogue(document: object) -> list[ModelInfo]:
    """Every usable model in a ``GET /videos/models`` document; never raises.

    Accepts ``{data: [...]}``, ``{models: [...]}`` or a bare list. Items that are not
    objects or name no model are skipped; a repeated model id keeps its first entry.
    """
    if isinstance(document, list):
        items: list[object] = list(document)
    else:
        doc = as_object(document)
        data = doc.get("data")
        if not isinstance(data, list):
            data = doc.get("models")
        items = list(data) if isinstance(data, list) else []
    models: list[ModelInfo] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            model = _parse_model(item)
        except Exception:  # pragma: no cover - a safety net: one odd item must not sink the list
            log.warning("skipping a catalogue item that could not be parsed", exc_info=True)
            continue
        if model is not None and model.id not in seen:
            seen.add(model.id)
            models.append(model)
    return models


#: Used only when ``GET /videos/models`` fails and no cached catalogue exists.
FALLBACK_MODELS: tuple[ModelInfo, ...] = tuple(
    replace(model, fallback=True) for model in parse_catalogue(FALLBACK_DOCUMENT)
)


# --- cache ------------------------------------------------------------------------------------

_CACHE_VERSION = 1


class CatalogueCache:
    """The catalogue cached on disk with a time limit."""

    def __init__(
        self,
        path: Path,
        ttl_seconds: float = 6 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Cache at ``path``; entries older than ``ttl_seconds`` (by ``clock``) are stale."""
        self.path = path
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def load(self) -> tuple[list[ModelInfo], float] | None:
        """``(models, fetched_at)`` whatever the age; ``None`` if missing, corrupt or empty."""
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        envelope = as_object(document)
        fetched_at = as_float(envelope.get("fetched_at"))
        if fetched_at is None:
            return None
        models = parse_catalogue(envelope.get("document"))
        if not models:
            return None
        return models, fetched_at

    def fresh(self) -> list[ModelInfo] | None:
        """The cached models if fetched within the time limit (a future time is not fresh)."""
        loaded = self.load()
        if loaded is None:
            return None
        models, fetched_at = loaded
        age = self._clock() - fetched_at
        return models if 0 <= age < self.ttl_seconds else None

    def store(self, document: object) -> list[ModelInfo]:
        """Keep the raw ``document`` (atomically) and return its parsed models.

        A document with no usable model is not stored, so a good cache is never replaced
        by an empty one. A failed write is logged, not raised: the cache is a convenience.
        """
        models = parse_catalogue(document)
        if not models:
            return models
        envelope = {"version": _CACHE_VERSION, "fetched_at": self._clock(), "document": document}
        try:
            write_text_atomic(self.path, json.dumps(envelope, ensure_ascii=False))
        except (OSError, TypeError, ValueError, RecursionError):
            log.warning("could not write the catalogue cache %s", self.path, exc_info=True)
        return models


def _age_text(seconds: float) -> str:
    """How long ago, in words: ``"just now"``, ``"5 minutes ago"``, ``"2 days ago"``."""
    if not math.isfinite(seconds) or seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # pragma: no cover - seconds >= 60 always matches a unit


def choose_models(
    fetched: list[ModelInfo] | None,
    cached: tuple[list[ModelInfo], float] | None,
    *,
    now: float | None = None,
) -> tuple[list[ModelInfo], str]:
    """The models to offer and where they came from.

    The live list wins; an empty or missing one falls back to the cache whatever its age
    (labelled ``"cached (3 hours ago)"``), then to the built-in list
    (``"built-in list (offline)"``).
    """
    if fetched:
        return list(fetched), "live"
    if cached is not None and cached[0]:
        models, fetched_at = cached
        age = (time.time() if now is None else now) - fetched_at
        return list(models), f"cached ({_age_text(age)})"
    return list(FALLBACK_MODELS), "built-in list (offline)"
