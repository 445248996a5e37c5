"""Which models take images, in which form, and the checks on a request's images.

The catalogue says a model takes images through ``input_types`` (``["text", "image"]``;
``["image"]`` for an image-to-video-only model) and ``supported_params``, whose image
parameters are named inconsistently: ``input_references``, ``input_image``,
``reference_images``, ``last_frame``, ``input_reference``. Only models listing
``input_reference`` (OpenAI-native ones) take a ``data:`` URL, so a local file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from core.catalogue import ModelInfo
from core.image_inputs import (
    FIELD_REFERENCE,
    FIELD_REFERENCES,
    MAX_BODY_BYTES,
    MAX_DATA_URL_CHARS,
    ROLE_LABELS,
    ROLES,
    ImageInput,
    is_data_url,
)
from core.jobs import JobParams

#: Catalogue parameter names that mean "takes images", and the roles each one offers.
IMAGE_PARAMS: dict[str, tuple[str, ...]] = {
    FIELD_REFERENCES: ROLES,
    "input_image": ("first_frame",),
    "first_frame": ("first_frame",),
    "image": ("first_frame",),
    "last_frame": ("last_frame",),
    "reference_images": ("reference",),
    FIELD_REFERENCE: ("first_frame",),
}
_MIB = 1024 * 1024


@dataclass(frozen=True)
class ImageSupport:
    """What one model accepts in the way of images."""

    accepts: bool = False
    #: Image-to-video only: the model needs a first-frame image.
    requires: bool = False
    #: The create field the images travel in.
    field: str = FIELD_REFERENCES
    #: Whether a local file (as a ``data:`` URL) is accepted.
    accepts_data_url: bool = False
    roles: tuple[str, ...] = ()
    #: The most images one request can carry (``None``: no known limit).
    max_images: int | None = None


NO_IMAGES = ImageSupport()


def image_support(model: ModelInfo | None) -> ImageSupport:
    """What ``model`` accepts, read from its catalogue item (``NO_IMAGES`` when unknown)."""
    if model is None:
        return NO_IMAGES
    raw_types = model.raw.get("input_types")
    types = (
        {str(item).strip().lower() for item in raw_types if isinstance(item, str)}
        if isinstance(raw_types, list)
        else set()
    )
    names = [name for name in IMAGE_PARAMS if name in model.supported]
    if "image" not in types and not names:
        return NO_IMAGES
    requires = bool(types) and "text" not in types
    if FIELD_REFERENCE in names and FIELD_REFERENCES not in names:
        return ImageSupport(True, requires, FIELD_REFERENCE, True, ("first_frame",), 1)
    if not names or FIELD_REFERENCES in names:
        roles: tuple[str, ...] = ROLES
    else:
        offered = {role for name in names for role in IMAGE_PARAMS[name]}
        roles = tuple(role for role in ROLES if role in offered)
    return ImageSupport(True, requires, FIELD_REFERENCES, False, roles)


def with_images(
    params: JobParams, images: tuple[ImageInput, ...], model: ModelInfo | None
) -> JobParams:
    """``params`` carrying ``images`` in the create field ``model`` takes."""
    if not images:
        return replace(params, images=(), image_field=None)
    return replace(params, images=images, image_field=image_support(model).field)


def check_image_url(url: str) -> str | None:
    """The problem with an image URL typed by a person, or ``None`` when it may be sent."""
    text = url.strip()
    if not text:
        return "Enter the image's URL (https://…)."
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return "The image URL contains spaces or invisible characters; copy it again."
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "The image URL is not a valid web address."
    scheme = parts.scheme.lower()
    if scheme != "https":
        if scheme == "http":
            return "The image URL starts with http://; the gateway fetches only https:// URLs."
        return "The image URL must start with https:// (the gateway fetches only https URLs)."
    if not parts.hostname:
        return "The image URL has no host name."
    return None


def data_url_type(url: str) -> str | None:
    """The media type of a base64 ``data:`` URL (``"image/png"``), else ``None``."""
    head, comma, _ = url.partition(",")
    if not comma or not is_data_url(head):
        return None
    bits = head[5:].split(";")
    if "base64" not in (bit.strip().lower() for bit in bits[1:]):
        return None
    return bits[0].strip().lower() or None


def body_bytes(params: JobParams) -> int:
    """The create body's size in bytes as sent (``json.dumps`` with ASCII escapes)."""
    inline = sum(len(image.url) for image in params.images if is_data_url(image.url))
    hollow = tuple(
        replace(image, url="") if is_data_url(image.url) else image for image in params.images
    )
    return len(json.dumps(replace(params, images=hollow).to_request())) + inline


def _size_text(count: int) -> str:
    return f"{count / _MIB:.1f} MiB"


def _local_problem(image: ImageInput, model: ModelInfo, support: ImageSupport) -> str | None:
    if not support.accepts_data_url:
        return (
            f"{model.id} needs an image on the web (an https:// URL); it cannot take a local file."
        )
    name = image.file or "The image"
    if not image.loaded:
        return f"The image file {name} is still being read, or could not be read."
    kind = data_url_type(image.url)
    if kind is None or not kind.startswith("image/"):
        return (
            f"{name} is not an image ({kind or 'unknown type'}); choose a PNG, JPEG or WebP file."
        )
    if len(image.url) > MAX_DATA_URL_CHARS:
        return (
            f"{name} is too large to send: {len(image.url):,} characters as a data: URL; "
            f"the gateway takes at most {MAX_DATA_URL_CHARS:,}. Use a smaller file or an "
            "https:// URL."
        )
    return None


def _image_problems(
    index: int, image: ImageInput, model: ModelInfo, support: ImageSupport
) -> list[str]:
    problems: list[str] = []
    if image.role is not None and image.role not in ROLES:
        problems.append(
            f'Image {index + 1}: the role "{image.role}" is not first frame, last frame '
            "or reference."
        )
    else:
        role = image.effective_role(index)
        if role not in support.roles:
            label = ROLE_LABELS[role].lower()
            problems.append(f"{model.id} does not take a {label} image.")
    problem = (
        _local_problem(image, model, support) if image.is_local else check_image_url(image.url)
    )
    if problem is not None:
        problems.append(problem)
    return problems


def check_images(params: JobParams, model: ModelInfo | None) -> list[str]:
    """Every problem with the images of ``params`` for ``model``, in words; ``[]``: fine."""
    images = params.images
    if model is None:
        return []
    support = image_support(model)
    if not images:
        if support.requires:
            return [f"{model.id} makes videos from an image only: add a first-frame image."]
        return []
    if not support.accepts:
        return [f"{model.id} does not take images; remove the image or choose a model that does."]
    problems: list[str] = []
    for index, image in enumerate(images):
        problems.extend(_image_problems(index, image, model, support))
    if support.max_images is not None and len(images) > support.max_images:
        problems.append(f"{model.id} takes {support.max_images} image; remove the others.")
    roles = [image.effective_role(index) for index, image in enumerate(images)]
    for role in ("first_frame", "last_frame"):
        if roles.count(role) > 1:
            problems.append(f"Give only one {ROLE_LABELS[role].lower()} image.")
    if support.requires and "first_frame" not in roles:
        problems.append(f"{model.id} makes videos from an image only: add a first-frame image.")
    if not problems and any(is_data_url(image.url) for image in images):
        size = body_bytes(params)
        if size > MAX_BODY_BYTES:
            problems.append(
                f"With this image the request would be {_size_text(size)}; the gateway "
                f"accepts at most {_size_text(MAX_BODY_BYTES)}. Use a smaller file or an "
                "https:// URL."
            )
    return problems
