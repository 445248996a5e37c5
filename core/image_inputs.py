"""Image inputs of a video request: what a job keeps, and how the create body carries them.

Two create fields carry images (see API.md "Image and video inputs"): ``input_references``
(a list of ``{type: "image_url", role?, image_url: {url}}``, https URLs only) and, for
OpenAI-native models, ``input_reference`` (one ``{image_url: "https or data: URL"}``). A
local file therefore reaches only models that take ``input_reference``, as a ``data:`` URL.

A job keeps its images with its parameters. The journal keeps a local file's path, not its
``data:`` URL (up to 28,000,000 characters): Resubmit reads the file again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.wire import JsonObject

#: The roles a person can give an image (the gateway also knows ``source`` and ``mask``).
ROLES = ("first_frame", "last_frame", "reference")
ROLE_LABELS = {"first_frame": "First frame", "last_frame": "Last frame", "reference": "Reference"}
#: The create field for a list of https image URLs (every image-taking model).
FIELD_REFERENCES = "input_references"
#: The create field for one image as an https or ``data:`` URL (OpenAI-native models).
FIELD_REFERENCE = "input_reference"
IMAGE_FIELDS = (FIELD_REFERENCES, FIELD_REFERENCE)
#: The longest ``data:`` URL the gateway takes in ``input_reference``.
MAX_DATA_URL_CHARS = 28_000_000
#: The gateway's cap on a JSON request body.
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ImageInput:
    """One image given to a model: an https URL, or a local file sent as a ``data:`` URL.

    ``url`` is the https URL, or the ``data:`` URL read from ``file``; it is ``""`` for a
    local file whose data is not in memory (a job read back from the journal).
    """

    url: str
    role: str | None = None
    file: str | None = None

    @property
    def is_local(self) -> bool:
        """Whether the image is a local file (sent inline as a ``data:`` URL)."""
        return self.file is not None or is_data_url(self.url)

    @property
    def loaded(self) -> bool:
        """Whether the image can be sent as it is (a local file's data has been read)."""
        return bool(self.url)

    def effective_role(self, index: int) -> str:
        """The role the gateway gives it: its own, else first frame when first, reference after."""
        if self.role:
            return self.role
        return "first_frame" if index == 0 else "reference"

    def stored(self) -> ImageInput:
        """The image as the journal keeps it: a local file without its ``data:`` URL."""
        return replace(self, url="") if is_data_url(self.url) and self.file else self

    def describe(self) -> str:
        """One line for people: ``"First frame: https://…"`` or ``"… local file x.png"``."""
        label = ROLE_LABELS.get(self.role or "", "Image")
        if self.file:
            return f"{label}: local file {self.file} (sent as a data: URL)"
        if is_data_url(self.url):
            return f"{label}: inline image ({len(self.url):,} characters)"
        return f"{label}: {self.url}"

    def to_dict(self) -> JsonObject:
        """The JSON-safe form the journal keeps (never a ``data:`` URL with a file behind it)."""
        stored = self.stored()
        data: JsonObject = {"url": stored.url}
        if stored.role is not None:
            data["role"] = stored.role
        if stored.file is not None:
            data["file"] = stored.file
        return data

    @classmethod
    def from_value(cls, value: object) -> ImageInput | None:
        """An image from :meth:`to_dict` output (or a bare URL string); odd values -> None."""
        if isinstance(value, str):
            return cls(url=value) if value else None
        if not isinstance(value, dict):
            return None
        url, role, file = value.get("url"), value.get("role"), value.get("file")
        url = url if isinstance(url, str) else ""
        file = file if isinstance(file, str) and file else None
        if not url and file is None:
            return None
        return cls(url=url, role=role if isinstance(role, str) and role else None, file=file)


def is_data_url(url: str) -> bool:
    """Whether ``url`` is a ``data:`` URL (case-insensitive scheme)."""
    return url[:5].lower() == "data:"


def images_from_value(value: object) -> tuple[ImageInput, ...]:
    """Images from a stored list (odd items dropped); anything else gives ``()``."""
    if not isinstance(value, list | tuple):
        return ()
    images = (ImageInput.from_value(item) for item in value)
    return tuple(image for image in images if image is not None)


def images_to_request(images: tuple[ImageInput, ...], field: str | None) -> JsonObject:
    """The create-body fields for ``images``, exactly as API.md describes them.

    ``field`` is :data:`FIELD_REFERENCE` for ``{input_reference: {image_url}}`` (one image),
    anything else for the ``input_references`` list.
    """
    if not images:
        return {}
    if field == FIELD_REFERENCE:
        return {FIELD_REFERENCE: {"image_url": images[0].url}}
    items: list[object] = []
    for image in images:
        item: JsonObject = {"type": "image_url"}
        if image.role:
            item["role"] = image.role
        item["image_url"] = {"url": image.url}
        items.append(item)
    return {FIELD_REFERENCES: items}
