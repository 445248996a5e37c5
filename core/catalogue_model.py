"""The catalogue's model entries: each model's parameter rules and what a request may ask of it.

:class:`ModelInfo` and :class:`ParamRule` are what ``core.catalogue`` parses the gateway's
``GET /videos/models`` into; they answer which values a parameter accepts, how to word
them, and which aspect ratio a size has.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from core.wire import as_float

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
BUILTIN_ALIASES: dict[str, str] = {"seconds": "duration", "duration_seconds": "duration"}
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


def as_number(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def tidy_number(value: float) -> int | float:
    """An integral float as an int (``4.0`` -> ``4``); anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def format_number(value: float) -> str:
    """A number for people: ``4``, ``0.5``, ``4,294,967,295``."""
    tidy = tidy_number(value)
    if isinstance(tidy, int):
        return f"{tidy:,}"
    return f"{tidy:g}"


def _format_option(value: Option) -> str:
    """One allowed value as text."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return format_number(value)
    return value


def _join_words(items: list[str]) -> str:
    """``["4", "6", "8"]`` -> ``"4, 6 or 8"``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} or {items[-1]}"


def same_value(value: object, choice: Scalar) -> bool:
    """Whether ``value`` equals an allowed ``choice``; numbers compare by value, "4" == 4."""
    if isinstance(value, bool):
        return False
    if isinstance(choice, str):
        if isinstance(value, str):
            return value == choice
        return False
    number = as_float(value) if isinstance(value, str) else as_number(value)
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
            return any(same_value(value, choice) for choice in self.choices)
        if self.kind == "range":
            number = as_number(value)
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
                    return format_number(low)
                return f"between {format_number(low)} and {format_number(high)}"
            if low is not None:
                return f"at least {format_number(low)}"
            if high is not None:
                return f"at most {format_number(high)}"
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
        return BUILTIN_ALIASES.get(name, name)

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
