"""What a person asks the gateway for: the create request's fields (``JobParams``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

from core.image_inputs import ImageInput, images_from_value, images_to_request
from core.wire import JsonObject


@dataclass(frozen=True)
class JobParams:
    """What the user asked for: exactly the create request's fields."""

    model: str
    prompt: str
    duration: int
    #: ``None`` for models that do not let you choose (the field is then not sent).
    aspect_ratio: str | None = None
    resolution: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    generate_audio: bool | None = None
    sample_count: int | None = None
    enhance_prompt: bool | None = None
    #: ``WIDTHxHEIGHT`` for size-only models (the Sora family), which take no aspect ratio.
    size: str | None = None
    #: Images for the model (see :mod:`core.image_inputs`); ``image_field`` names the create
    #: field that carries them (``input_references`` or ``input_reference``).
    images: tuple[ImageInput, ...] = ()
    image_field: str | None = None

    def _scalars(self) -> JsonObject:
        """The set fields other than the images."""
        skip = ("images", "image_field")
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in skip and getattr(self, f.name) is not None
        }

    def to_request(self) -> JsonObject:
        """The JSON body for ``POST /videos``: only fields that are set (unknown ones are 400)."""
        return {**self._scalars(), **images_to_request(self.images, self.image_field)}

    def to_dict(self) -> JsonObject:
        """A JSON-safe dict: the request's fields, images as the journal keeps them."""
        data = self._scalars()
        if self.images:
            data["images"] = [image.to_dict() for image in self.images]
            if self.image_field is not None:
                data["image_field"] = self.image_field
        return data

    def stored(self) -> JobParams:
        """These parameters without in-memory ``data:`` URLs of local files (once sent)."""
        if not any(image.stored() is not image for image in self.images):
            return self
        return replace(self, images=tuple(image.stored() for image in self.images))

    @classmethod
    def from_dict(cls, data: JsonObject) -> JobParams:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "images" in values:
            values["images"] = images_from_value(values["images"])
        return cls(**values)
