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
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from core.files import write_text_atomic
from core.wire import JsonObject, as_float, as_object, as_str

log = logging.getLogger(__name__)

RuleKind = Literal["enum", "range", "boolean", "free"]
Scalar = int | float | str
Option = int | float | str | bool

#: The model the demo gateway offers (duration 1-20 s; 16:9, 9:16 and 1:1).
DEMO_MODEL_ID = "demo/test-pattern"

#: The API's general limits, used when the catalogue gives no (or incomplete) detail.
MIN_DURATION = 1
MAX_DURATION = 120
MIN_SAMPLES = 1
MAX_SAMPLES = 4
MAX_SEED = 2**32 - 1

#: Parameter names the catalogue may use for a canonical create-request field.
_BUILTIN_ALIASES: dict[str, str] = {"seconds": "duration", "duration_seconds": "duration"}
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
#: A range with at most this many whole values is offered as a list of steps.
_MAX_STEPS = 121
#: Common aspect ratios that sizes are snapped to (1792x1024 is offered as 16:9).
_COMMON_RATIOS: tuple[tuple[int, int], ...] = (
    (16, 9),
    (9, 16),
    (1, 1),
    (4, 3),
    (3, 4),
    (3, 2),
    (2, 3),
    (21, 9),
    (9, 21),
)
_RATIO_TOLERANCE = 0.03
_SIZE_PATTERN = re.compile(r"^\s*(\d{1,6})\s*[xX×*]\s*(\d{1,6})\s*$")


def _number(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _tidy_number(value: float) -> int | float:
    """An integral float as an int (``4.0`` -> ``4``); anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _format_number(value: float) -> str:
    """A number for people: ``4``, ``0.5``, ``4,294,967,295``."""
    tidy = _tidy_number(value)
    if isinstance(tidy, int):
        return f"{tidy:,}"
    return f"{tidy:g}"


def _format_option(value: Option) -> str:
    """One allowed value as text."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return _format_number(value)
    return value


def _join_words(items: list[str]) -> str:
    """``["4", "6", "8"]`` -> ``"4, 6 or 8"``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _same_value(value: object, choice: Scalar) -> bool:
    """Whether ``value`` equals an allowed ``choice``; numbers compare by value, "4" == 4."""
    if isinstance(value, bool):
        return False
    if isinstance(choice, str):
        if isinstance(value, str):
            return value == choice
        return False
    number = as_float(value) if isinstance(value, str) else _number(value)
    return number is not None and number == float(choice)


@dataclass(frozen=True)
class ParamRule:
    """Allowed values of one parameter."""

    name: str
    choices: tuple[Scalar, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: Option | None = None
    aliases: tuple[str, ...] = ()
    kind: RuleKind = "free"
    #: Whole numbers only (for ranges of durations, counts and seeds).
    integer: bool = False
    #: For text parameters: the longest value the model accepts, when the catalogue says.
    max_length: int | None = None

    def allows(self, value: object) -> bool:
        """Whether ``value`` is acceptable for this parameter."""
        if self.kind == "enum":
            return any(_same_value(value, choice) for choice in self.choices)
        if self.kind == "range":
            number = _number(value)
            if number is None:
                return False
            if self.integer and not number.is_integer():
                return False
            if self.minimum is not None and number < self.minimum:
                return False
            return not (self.maximum is not None and number > self.maximum)
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.max_length is not None and isinstance(value, str):
            return len(value) <= self.max_length
        return True

    def describe(self) -> str:
        """The allowed values in words: ``"4, 6 or 8"``, ``"between 1 and 20"``, ``"16:9"``."""
        if self.kind == "enum":
            return _join_words([_format_option(choice) for choice in self.choices])
        if self.kind == "range":
            low, high = self.minimum, self.maximum
            if low is not None and high is not None:
                if low == high:
                    return _format_number(low)
                return f"between {_format_number(low)} and {_format_number(high)}"
            if low is not None:
                return f"at least {_format_number(low)}"
            if high is not None:
                return f"at most {_format_number(high)}"
            return "any number"
        if self.kind == "boolean":
            return "on or off"
        if self.max_length is not None:
            return f"up to {self.max_length:,} characters"
        return "any value"

    def options(self) -> list[Option]:
        """Values a UI can offer: the choices, or every whole step of a small range.

        A range too large (or unbounded, or not whole-numbered) to list gives ``[]``: the UI
        then offers free entry checked with :meth:`allows`.
        """
        if self.kind == "enum":
            return list(self.choices)
        if self.kind == "boolean":
            return [False, True]
        if self.kind == "range" and self.minimum is not None and self.maximum is not None:
            low, high = math.ceil(self.minimum), math.floor(self.maximum)
            if not self.integer and not (
                float(self.minimum).is_integer() and float(self.maximum).is_integer()
            ):
                return []
            if 0 < high - low + 1 <= _MAX_STEPS:
                return list(range(low, high + 1))
        return []


def aspect_from_size(size: str) -> str | None:
    """``"1280x720"`` -> ``"16:9"``; sizes close to a common ratio snap to it."""
    match = _SIZE_PATTERN.match(size)
    if match is None:
        return None
    width, height = int(match.group(1)), int(match.group(2))
    if width <= 0 or height <= 0:
        return None
    ratio = width / height
    for across, down in _COMMON_RATIOS:
        wanted = across / down
        if abs(ratio - wanted) / wanted <= _RATIO_TOLERANCE:
            return f"{across}:{down}"
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue model: its id, name, and the parameters and values it accepts."""

    id: str
    name: str
    status: str | None
    params: Mapping[str, ParamRule] = field(default_factory=dict, hash=False)
    supported: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()
    pricing: Mapping[str, object] = field(default_factory=dict, hash=False)
    raw: Mapping[str, object] = field(default_factory=dict, hash=False, repr=False)
    fallback: bool = False

    def canonical(self, name: str) -> str:
        """The canonical parameter name for ``name`` (``seconds`` -> ``duration``)."""
        if name in self.params:
            return name
        for rule in self.params.values():
            if name in rule.aliases:
                return rule.name
        return _BUILTIN_ALIASES.get(name, name)

    def rule(self, name: str) -> ParamRule | None:
        """The rule for a parameter (canonical name or alias), if the model lists it."""
        return self.params.get(self.canonical(name))

    def supports(self, name: str) -> bool:
        """Whether the model accepts the parameter (canonical name or alias)."""
        return self.canonical(name) in self.supported

    def matches(self, model_id: str) -> bool:
        """Whether ``model_id`` names this model (its id or an alias, case-insensitive)."""
        wanted = model_id.strip().lower()
        return wanted == self.id.lower() or any(wanted == a.lower() for a in self.aliases)

    @property
    def durations(self) -> ParamRule | None:
        """Allowed durations in seconds, if the model lists them."""
        return self.rule("duration")

    @property
    def resolutions(self) -> ParamRule | None:
        """Allowed resolutions (``720p``, ``1080p``, ...), if the model lists them."""
        return self.rule("resolution")

    @property
    def aspect_ratios(self) -> ParamRule | None:
        """Allowed aspect ratios, if the model lists them (size-only models do not)."""
        return self.rule("aspect_ratio")

    @property
    def sizes(self) -> ParamRule | None:
        """Allowed frame sizes (``1280x720``, ...), if the model lists them."""
        return self.rule("size")

    @property
    def size_only(self) -> bool:
        """Whether the model takes a ``size`` and no ``aspect_ratio`` (the Sora family).

        Such a model must be sent ``size`` and never ``aspect_ratio``: the gateway refuses
        the two together, and these models know no aspect ratio.
        """
        sizes = self.sizes
        return (
            sizes is not None
            and sizes.kind == "enum"
            and bool(sizes.choices)
            and self.rule("aspect_ratio") is None
            and not self.supports("aspect_ratio")
        )

    def size_label(self, size: str) -> str:
        """A size as a person reads it in a list: ``"1280x720 (16:9)"``."""
        ratio = aspect_from_size(size)
        return f"{size} ({ratio})" if ratio else size


def find_model(models: Iterable[ModelInfo], model_id: str) -> ModelInfo | None:
    """The model named ``model_id`` (id or alias, case-insensitive), else ``None``."""
    for model in models:
        if model.matches(model_id):
            return model
    return None


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
        return None if number is None else _tidy_number(number)
    if isinstance(value, str):
        return value if value.strip() else None
    number = _number(value)
    if number is None:
        return None
    return _format_number(number) if name in _STRING_PARAMS else _tidy_number(number)


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
        if scalar is not None and not any(_same_value(scalar, seen) for seen in result):
            result.append(scalar)
    return tuple(result)


def _canonical_key(key: str, aliases: tuple[str, ...]) -> str:
    """Map a catalogue parameter key to the create-request name it stands for."""
    if key in _BUILTIN_ALIASES:
        return _BUILTIN_ALIASES[key]
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
        canonical = _BUILTIN_ALIASES.get(name, name)
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


# --- built-in fallback ----------------------------------------------------------------------

_VEO_OPTIONAL: JsonObject = {
    "negative_prompt": {"type": "string"},
    "seed": {"type": "integer", "min": 0, "max": MAX_SEED},
    "generate_audio": {"type": "boolean", "default": False},
    "sample_count": {"type": "number", "min": 1, "max": 4, "default": 1},
}


def _fallback_item(
    model: str,
    name: str,
    durations: list[int],
    *,
    aspect_ratios: list[str] | None = None,
    resolutions: list[str] | None = None,
    sizes: list[str] | None = None,
    optional: JsonObject | None = None,
    aliases: list[str] | None = None,
    images: tuple[str, ...] = (),
) -> JsonObject:
    """A catalogue item in the gateway's own shape, for the built-in list.

    ``images`` are the model's image parameters as the catalogue names them (API.md).
    """
    detail: JsonObject = {
        "duration": {"type": "enum", "values": durations, "aliases": ["seconds"]},
    }
    if aspect_ratios:
        detail["aspect_ratio"] = {"type": "string", "enum": aspect_ratios}
    if resolutions:
        detail["resolution"] = {"type": "string", "enum": resolutions, "default": resolutions[0]}
    if sizes:
        detail["size"] = {"type": "string", "enum": sizes, "default": sizes[0]}
    detail.update(optional or {})
    return {
        "model": model,
        "name": name,
        "status": "active",
        "aliases": aliases or [],
        "input_types": ["text", "image"] if images else ["text"],
        "supported_params": ["prompt", *detail, *images],
        "supported_params_detail": detail,
    }


_VEO_IMAGES = ("input_image", "last_frame", "reference_images")


_FALLBACK_DOCUMENT: JsonObject = {
    "object": "list",
    "data": [
        _fallback_item(
            "google/veo-3.1-lite-preview",
            "Veo 3.1 Lite (preview)",
            [4, 6, 8],
            aspect_ratios=["16:9", "9:16"],
            resolutions=["720p", "1080p"],
            optional=_VEO_OPTIONAL,
            aliases=["google/veo-lite-latest"],
            images=("input_image", "last_frame"),
        ),
        _fallback_item(
            "google/veo-3.1-preview",
            "Veo 3.1 (preview)",
            [4, 6, 8],
            aspect_ratios=["16:9", "9:16"],
            resolutions=["720p", "1080p", "4k"],
            optional=_VEO_OPTIONAL,
            images=_VEO_IMAGES,
        ),
        _fallback_item(
            "google/veo-3.1-fast-preview",
            "Veo 3.1 Fast (preview)",
            [4, 6, 8],
            aspect_ratios=["16:9", "9:16"],
            resolutions=["720p", "1080p", "4k"],
            optional=_VEO_OPTIONAL,
            images=_VEO_IMAGES,
        ),
        _fallback_item(
            "openai/sora-2",
            "Sora 2",
            [4, 8, 12],
            sizes=["1280x720", "720x1280"],
            images=("input_reference",),
        ),
        _fallback_item(
            "openai/sora-2-pro",
            "Sora 2 Pro",
            [4, 8, 12],
            sizes=["1280x720", "720x1280", "1792x1024", "1024x1792"],
            images=("input_reference",),
        ),
        _fallback_item(
            "minimax/hailuo-02",
            "Hailuo 02",
            [6, 10],
            aspect_ratios=["16:9"],
            resolutions=["768P", "1080P"],
        ),
        _fallback_item(
            "minimax/hailuo-2.3",
            "Hailuo 2.3",
            [6, 10],
            aspect_ratios=["16:9"],
            resolutions=["768P", "1080P"],
        ),
    ],
}

#: Used only when ``GET /videos/models`` fails and no cached catalogue exists.
FALLBACK_MODELS: tuple[ModelInfo, ...] = tuple(
    replace(model, fallback=True) for model in parse_catalogue(_FALLBACK_DOCUMENT)
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
