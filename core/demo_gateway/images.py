"""The demo gateway's image inputs: the strict schema, the gateway's fetch rules, decoded stills.

``input_references[]`` items are ``{type: "image_url", role?, reference_type?,
image_url: {url}}`` with https URLs only; ``input_reference`` (models listing it, the
OpenAI-native ones) is ``{image_url: "https or data: URL"}`` of at most 28,000,000
characters. URLs are fetched like the real gateway does (about 25 MiB, ``image/*``, no
redirects, 10 s); first- and last-frame images are decoded (PyAV) into small stills that the
test pattern is drawn over.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.demo_gateway.catalogue import ModelSpec
from core.demo_gateway.errors import ApiError, not_supported, validation_error
from core.image_files import ImageError, data_url_bytes, fetch_image
from core.image_inputs import MAX_DATA_URL_CHARS
from core.image_rules import IMAGE_PARAMS

GATEWAY_ROLES = ("first_frame", "last_frame", "reference", "source", "mask")
_ITEM_KEYS = frozenset({"type", "role", "reference_type", "image_url", "media_url"})
_TYPES = ("image_url", "video_url", "audio_url")
#: Stills are kept this small (longest side) and scaled up when a clip is drawn.
STILL_SIDE = 192


@dataclass(frozen=True)
class ImageRef:
    """One image input as sent: its role (explicit or implied) and URL."""

    role: str
    url: str


@dataclass(frozen=True)
class Still:
    """A decoded image, shrunk to at most STILL_SIDE pixels a side, as packed RGB bytes."""

    width: int
    height: int
    rgb: bytes


def _not_supported(spec: ModelSpec, what: str, field: str) -> ApiError:
    return not_supported(spec.model, what, field)


def _roles(spec: ModelSpec) -> set[str]:
    return {role for name in spec.image_params for role in IMAGE_PARAMS.get(name, ())}


def _https(url: object, field: str, *, data_ok: bool = False) -> str:
    if not isinstance(url, str) or not url:
        raise validation_error(field, "Expected a URL string")
    if data_ok and url[:5].lower() == "data:":
        if len(url) > MAX_DATA_URL_CHARS:
            raise validation_error(
                field, f"String must contain at most {MAX_DATA_URL_CHARS} character(s)"
            )
        head = url.partition(",")[0].lower()
        if not head.startswith("data:image/") or ";base64" not in head:
            raise validation_error(field, "Expected a base64 data:image/... URL")
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise validation_error(field, "Invalid URL: must use https")
    return url


def _reference_items(value: object, spec: ModelSpec) -> list[ImageRef]:
    field = "input_references"
    if not isinstance(value, list):
        raise validation_error(field, "Expected an array")
    refs: list[ImageRef] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise validation_error(where, "Expected an object")
        unknown = sorted(set(item) - _ITEM_KEYS)
        if unknown:
            raise validation_error(where, "Unrecognized key(s): " + ", ".join(unknown))
        kind = item.get("type")
        if kind not in _TYPES:
            raise validation_error(f"{where}.type", "Expected image_url, video_url or audio_url")
        role = item.get("role")
        if role is not None and role not in GATEWAY_ROLES:
            raise validation_error(f"{where}.role", "Expected " + ", ".join(GATEWAY_ROLES))
        if kind != "image_url":
            raise _not_supported(spec, f"{kind} inputs", where)
        if item.get("reference_type") is not None and not isinstance(item["reference_type"], str):
            raise validation_error(f"{where}.reference_type", "Expected a string")
        image = item.get("image_url")
        if not isinstance(image, dict) or set(image) != {"url"}:
            raise validation_error(f"{where}.image_url", "Expected {url: string}")
        url = _https(image["url"], f"{where}.image_url.url")
        implied = role or ("first_frame" if index == 0 else "reference")
        if implied not in _roles(spec):
            raise _not_supported(spec, f"a {implied} image", f"{where}.role")
        refs.append(ImageRef(implied, url))
    return refs


def _reference_object(value: object, spec: ModelSpec) -> list[ImageRef]:
    field = "input_reference"
    if not spec.takes_data_url:
        raise _not_supported(spec, "input_reference (OpenAI-native models only)", field)
    if not isinstance(value, dict) or len(value) != 1 or not set(value) <= {"image_url", "file_id"}:
        raise validation_error(field, "Expected {image_url: string} or {file_id: string}")
    if "file_id" in value:
        raise _not_supported(spec, "file_id on the demo gateway", field)
    return [ImageRef("first_frame", _https(value["image_url"], f"{field}.image_url", data_ok=True))]


def parse_images(body: dict[str, Any], spec: ModelSpec) -> tuple[ImageRef, ...]:
    """The image inputs of a create body, checked like the gateway does (ApiError 400)."""
    many, one = body.get("input_references"), body.get("input_reference")
    if many is not None and one is not None:
        raise validation_error("input_reference", "Use input_reference or input_references")
    refs: list[ImageRef] = []
    if many is not None:
        if not spec.takes_images:
            raise _not_supported(spec, "input_references", "input_references")
        refs = _reference_items(many, spec)
    elif one is not None:
        refs = _reference_object(one, spec)
    roles = [ref.role for ref in refs]
    for role in ("first_frame", "last_frame"):
        if roles.count(role) > 1:
            raise validation_error("input_references", f"At most one {role} image")
    if spec.image_only and "first_frame" not in roles:
        raise validation_error(
            "input_references", f"{spec.model} is image-to-video only: give a first_frame image"
        )
    return tuple(refs)


def _bytes_of(ref: ImageRef, ca_bundle: str | None) -> bytes:
    if ref.url[:5].lower() == "data:":
        return data_url_bytes(ref.url)
    return fetch_image(ref.url, ca_bundle=ca_bundle).data


def decode_still(data: bytes) -> Still:
    """The image in ``data`` as a small RGB still; ValueError if it is not a decodable image."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            frame = next(container.decode(video=0))
    except (av.FFmpegError, StopIteration, ValueError, IndexError):
        raise ValueError("not a decodable image") from None
    scale = min(1.0, STILL_SIDE / max(frame.width, frame.height))
    width = max(1, round(frame.width * scale))
    height = max(1, round(frame.height * scale))
    pixels = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    return Still(width, height, pixels.tobytes())


def load_stills(
    refs: tuple[ImageRef, ...], ca_bundle: str | None
) -> tuple[Still | None, Still | None]:
    """Fetch or decode every image; the (first frame, last frame) stills. ApiError if unusable."""
    first: Still | None = None
    last: Still | None = None
    for index, ref in enumerate(refs):
        try:
            still = decode_still(_bytes_of(ref, ca_bundle))
        except (ImageError, ValueError) as error:
            raise ApiError(
                400,
                "validation_error",
                f"Image input {index + 1} could not be used: {error}",
                reason="input_fetch_failed",
                details=[{"field": "image_url", "path": ["image_url"], "message": str(error)}],
            ) from None
        if ref.role == "first_frame":
            first = still
        elif ref.role == "last_frame":
            last = still
    return first, last


def still_to_json(still: Still | None) -> dict[str, Any] | None:
    """A still as JSON (for the demo gateway's saved state)."""
    if still is None:
        return None
    return {
        "width": still.width,
        "height": still.height,
        "rgb": base64.b64encode(still.rgb).decode(),
    }


def still_from_json(value: object) -> Still | None:
    """A still from :func:`still_to_json`; ValueError if it does not fit together."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("a still must be an object")
    width, height, rgb = value.get("width"), value.get("height"), value.get("rgb")
    if not isinstance(width, int) or not isinstance(height, int) or not isinstance(rgb, str):
        raise ValueError("a still needs width, height and rgb")
    data = base64.b64decode(rgb, validate=True)
    if width < 1 or height < 1 or len(data) != width * height * 3:
        raise ValueError("a still's pixels do not match its size")
    return Still(width, height, data)
