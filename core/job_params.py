"""What a person asks the gateway for: the create request's fields (``JobParams``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

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

    def to_request(self) -> JsonObject:
        """The JSON body for ``POST /videos``: only fields that are set (unknown ones are 400)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def to_dict(self) -> JsonObject:
        """A JSON-safe dict (same as the request body)."""
        return self.to_request()

    @classmethod
    def from_dict(cls, data: JsonObject) -> JobParams:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
