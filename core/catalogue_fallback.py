"""The built-in model list, in the gateway's own catalogue shape, for when nothing else answers.

``core.catalogue`` parses :data:`FALLBACK_DOCUMENT` into ``FALLBACK_MODELS``, used only when
``GET /videos/models`` fails and no cached catalogue exists.
"""

from __future__ import annotations

from core.catalogue_model import MAX_SEED
from core.wire import JsonObject

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


FALLBACK_DOCUMENT: JsonObject = {
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
