"""The demo gateway's video model catalogue and each provider family's response quirks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

OPTIONAL_PARAMS = ("negative_prompt", "seed", "generate_audio", "sample_count", "enhance_prompt")


@dataclass(frozen=True)
class ProviderStyle:
    """How one provider family shapes its job objects (the quirks clients must tolerate)."""

    provider: str
    provider_name: str
    processing_status: str
    progress_rises: bool
    iso_created_at: bool
    iso_other_times: bool
    seconds_as_string: bool
    error_as_string: bool
    empty_outputs: bool


GOOGLE = ProviderStyle(
    provider="google-vertex",
    provider_name="Google Vertex AI",
    processing_status="processing",
    progress_rises=False,
    iso_created_at=True,
    iso_other_times=True,
    seconds_as_string=False,
    error_as_string=False,
    empty_outputs=False,
)
OPENAI = ProviderStyle(
    provider="openai",
    provider_name="OpenAI",
    processing_status="in_progress",
    progress_rises=True,
    iso_created_at=False,
    iso_other_times=False,
    seconds_as_string=True,
    error_as_string=False,
    empty_outputs=False,
)
MINIMAX = ProviderStyle(
    provider="minimax",
    provider_name="MiniMax",
    processing_status="processing",
    progress_rises=False,
    iso_created_at=False,
    iso_other_times=True,
    seconds_as_string=False,
    error_as_string=True,
    empty_outputs=True,
)
DEMO = ProviderStyle(
    provider="reelgate-demo",
    provider_name="Reelgate demo renderer",
    processing_status="processing",
    progress_rises=True,
    iso_created_at=False,
    iso_other_times=False,
    seconds_as_string=False,
    error_as_string=False,
    empty_outputs=False,
)


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue model: the values it accepts and how its provider answers."""

    model: str
    name: str
    style: ProviderStyle
    aliases: tuple[str, ...] = ()
    duration_values: tuple[int, ...] = ()
    duration_range: tuple[int, int] | None = None
    default_duration: int = 8
    aspect_ratios: tuple[str, ...] = ()
    default_aspect: str = "16:9"
    resolutions: tuple[str, ...] = ()
    default_resolution: str = "720p"
    sizes: tuple[str, ...] = ()
    default_size: str | None = None
    optional: tuple[str, ...] = ()
    price_per_second: str = "0.05"
    #: How the catalogue names this model's image parameters (as inconsistently as the real
    #: one); empty: text only.
    image_params: tuple[str, ...] = ()
    #: Image-to-video only: a first-frame image is required.
    image_only: bool = False

    @property
    def takes_images(self) -> bool:
        """Whether the model accepts image inputs at all."""
        return bool(self.image_params)

    @property
    def takes_data_url(self) -> bool:
        """Whether the model takes ``input_reference`` (an https or data: URL)."""
        return "input_reference" in self.image_params

    def allows_duration(self, seconds: int) -> bool:
        """Whether `seconds` is one of this model's accepted durations."""
        if self.duration_range is not None:
            low, high = self.duration_range
            return low <= seconds <= high
        return seconds in self.duration_values

    def duration_hint(self) -> str:
        """Human-readable list of accepted durations, for error messages."""
        if self.duration_range is not None:
            return f"{self.duration_range[0]}-{self.duration_range[1]}"
        return ", ".join(str(v) for v in self.duration_values)

    def supports(self, param: str) -> bool:
        """Whether the model accepts `param` (a create-request field)."""
        if param == "aspect_ratio":
            return bool(self.aspect_ratios)
        if param == "resolution":
            return bool(self.resolutions)
        if param == "size":
            return bool(self.sizes)
        return param in self.optional

    def cost(self, seconds: int, samples: int) -> str:
        """The job's price as a decimal string, e.g. "0.40"."""
        total = Decimal(self.price_per_second) * seconds * samples
        return f"{total.quantize(Decimal('0.01'))}"

    def to_json(self) -> dict[str, Any]:
        """The catalogue entry as `GET /videos/models` lists it."""
        detail: dict[str, Any] = {}
        duration: dict[str, Any]
        if self.duration_range is not None:
            duration = {"type": "number", "min": self.duration_range[0]}
            duration["max"] = self.duration_range[1]
        else:
            duration = {"type": "enum", "values": list(self.duration_values)}
        duration["default"] = self.default_duration
        duration["aliases"] = ["seconds"]
        detail["duration"] = duration
        params = ["prompt", "duration"]
        if self.aspect_ratios:
            params.append("aspect_ratio")
            detail["aspect_ratio"] = {
                "type": "string",
                "enum": list(self.aspect_ratios),
                "default": self.default_aspect,
            }
        if self.resolutions:
            params.append("resolution")
            detail["resolution"] = {
                "type": "string",
                "enum": list(self.resolutions),
                "default": self.default_resolution,
            }
        if self.sizes:
            params.append("size")
            detail["size"] = {
                "type": "string",
                "enum": list(self.sizes),
                "default": self.default_size,
            }
        for param in self.optional:
            params.append(param)
            detail[param] = _OPTIONAL_DETAIL[param]
        params.extend(self.image_params)
        inputs = (
            ["image"] if self.image_only else ["text", "image"] if self.image_params else ["text"]
        )
        return {
            "model": self.model,
            "name": self.name,
            "status": "active",
            "aliases": list(self.aliases),
            "input_types": inputs,
            "output_types": ["video"],
            "supported_params": params,
            "supported_params_detail": detail,
            "providers": [
                {
                    "id": self.style.provider,
                    "name": self.style.provider_name,
                    "status": "active",
                    "endpoint": "video.generations",
                }
            ],
            # As on the real catalogue: the output meters are null for video models (the
            # tiers live in GET /pricing/models), only side meters survive.
            "pricing": {
                "pricing_plan": "standard",
                "meters": {
                    "output_video_seconds": None,
                    "input_image": {
                        "provider_id": self.style.provider,
                        "unit": "image",
                        "unit_size": 1,
                        "price_per_unit": "0.00",
                        "currency": "USD",
                    },
                },
            },
        }


_OPTIONAL_DETAIL: dict[str, dict[str, Any]] = {
    "negative_prompt": {"type": "string", "max_length": 2000},
    "seed": {"type": "integer", "min": 0, "max": 4294967295},
    "generate_audio": {"type": "boolean", "default": False},
    "sample_count": {"type": "number", "min": 1, "max": 4, "default": 1},
    "enhance_prompt": {"type": "boolean", "default": False},
}

_VEO_OPTIONAL = OPTIONAL_PARAMS
_HAILUO_23 = ModelSpec(
    model="minimax/hailuo-2.3",
    name="Hailuo 2.3",
    style=MINIMAX,
    duration_values=(6, 10),
    default_duration=6,
    resolutions=("768P", "1080P"),
    default_resolution="768P",
    optional=("enhance_prompt",),
    price_per_second="0.05",
    image_params=("input_image",),
)
_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        model="demo/test-pattern",
        name="Demo test pattern (local, fast)",
        style=DEMO,
        aliases=("demo/latest",),
        duration_range=(1, 20),
        default_duration=4,
        aspect_ratios=("16:9", "9:16", "1:1"),
        resolutions=("360p", "720p", "1080p"),
        default_resolution="360p",
        optional=OPTIONAL_PARAMS,
        price_per_second="0.00",
        image_params=("input_references", "last_frame", "reference_images"),
    ),
    ModelSpec(
        model="google/veo-3.1-lite-preview",
        name="Veo 3.1 Lite (preview)",
        style=GOOGLE,
        aliases=("google/veo-lite-latest",),
        duration_values=(4, 6, 8),
        default_duration=8,
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p"),
        optional=_VEO_OPTIONAL,
        price_per_second="0.05",
        image_params=("input_image", "last_frame"),
    ),
    ModelSpec(
        model="google/veo-3.1-fast-preview",
        name="Veo 3.1 Fast (preview)",
        style=GOOGLE,
        aliases=("google/veo-fast-latest",),
        duration_values=(4, 6, 8),
        default_duration=8,
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p", "4k"),
        optional=_VEO_OPTIONAL,
        price_per_second="0.15",
        image_params=("input_image", "last_frame", "reference_images"),
    ),
    ModelSpec(
        model="google/veo-3.1-preview",
        name="Veo 3.1 (preview)",
        style=GOOGLE,
        aliases=("google/veo-latest",),
        duration_values=(4, 6, 8),
        default_duration=8,
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p", "4k"),
        optional=_VEO_OPTIONAL,
        price_per_second="0.40",
        image_params=("input_references", "input_image", "last_frame", "reference_images"),
    ),
    ModelSpec(
        model="openai/sora-2",
        name="Sora 2",
        style=OPENAI,
        duration_values=(4, 8, 12),
        default_duration=4,
        sizes=("1280x720", "720x1280"),
        default_size="1280x720",
        price_per_second="0.10",
        image_params=("input_reference",),
    ),
    ModelSpec(
        model="openai/sora-2-pro",
        name="Sora 2 Pro",
        style=OPENAI,
        duration_values=(4, 8, 12),
        default_duration=4,
        sizes=("1280x720", "720x1280", "1792x1024", "1024x1792"),
        default_size="1280x720",
        price_per_second="0.30",
        image_params=("input_reference",),
    ),
    replace(
        _HAILUO_23,
        model="minimax/hailuo-02",
        name="Hailuo 02",
        price_per_second="0.045",
        image_params=(),
    ),
    _HAILUO_23,
    replace(
        _HAILUO_23,
        model="minimax/hailuo-2.3-fast",
        name="Hailuo 2.3 Fast (image to video)",
        price_per_second="0.032",
        image_only=True,
    ),
)


def find_model(name: str) -> ModelSpec | None:
    """The model whose id or alias is `name` (case-insensitive), else None."""
    wanted = name.strip().lower()
    for spec in _MODELS:
        if wanted == spec.model or wanted in spec.aliases:
            return spec
    return None


def catalogue_json() -> dict[str, Any]:
    """The full `GET /videos/models` response body."""
    return {"object": "list", "data": [spec.to_json() for spec in _MODELS]}


def short_side(resolution: str) -> int:
    """Pixel height of the short side for a resolution label ("720p", "768P", "4k")."""
    label = resolution.strip().lower()
    if label == "4k":
        return 2160
    return int(label.rstrip("p"))


def nominal_dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Nominal (width, height) for an aspect ratio and resolution, both even."""
    across, down = (int(part) for part in aspect_ratio.split(":"))
    short = short_side(resolution)
    if across >= down:
        return _even(short * across / down), short
    return short, _even(short * down / across)


def scaled_dimensions(width: int, height: int, scale: float) -> tuple[int, int]:
    """(width, height) shrunk by `scale`: even sides (H.264 4:2:0), aspect ratio kept closely."""
    if scale >= 1.0:
        return width, height
    if width >= height:
        short = max(2, _even(height * scale))
        return max(2, _even(short * width / height)), short
    short = max(2, _even(width * scale))
    return short, max(2, _even(short * height / width))


def _even(value: float) -> int:
    return round(value / 2.0) * 2
