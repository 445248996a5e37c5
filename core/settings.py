"""User settings as a dataclass saved to JSON in the config folder (never the API key)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.files import write_text_atomic

logger = logging.getLogger(__name__)


@dataclass
class Settings:
    """Everything a user can change, with defaults for a first run."""

    base_url: str = ""  # empty: the Phaseo gateway (or the demo gateway in demo mode)
    download_dir: str = ""  # empty: the app's own videos folder
    auto_download: bool = True
    save_sidecar: bool = False  # write name.json with the job's parameters beside saved videos
    notifications: bool = True
    demo_mode: bool | None = None  # None: not chosen yet (first run asks)
    #: Ask before a job (or batch) whose estimate is above this many dollars ("": never).
    confirm_cost_above: str = "2.00"
    #: Monthly budget in dollars; "" means no budget (the default).
    monthly_budget: str = ""
    last_save_dir: str = ""
    last_params: dict[str, Any] = field(default_factory=dict)
    window: dict[str, Any] = field(default_factory=dict)
    theme: str = "system"  # "system" (follow the OS), "light" or "dark"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build from JSON, ignoring unknown keys and values of the wrong type."""
        defaults = cls()
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            if item.name not in data:
                continue
            value = data[item.name]
            default = getattr(defaults, item.name)
            if default is None:
                if value is None or isinstance(value, bool):
                    values[item.name] = value
            elif isinstance(value, type(default)) and not (
                isinstance(default, bool) is not isinstance(value, bool)
            ):
                values[item.name] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return dataclasses.asdict(self)


def load_settings(path: Path) -> tuple[Settings, str | None]:
    """Read settings; a damaged file is kept aside and defaults are used, with a message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"Could not read settings from {path}: {exc.strerror}. Using defaults."
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError:
        aside = path.with_name(path.name + ".damaged")
        try:
            os.replace(path, aside)
        except OSError:
            aside = path
        return Settings(), f"The settings file was damaged and was kept as {aside}. Using defaults."
    return Settings.from_dict(data), None


def save_settings(path: Path, settings: Settings) -> None:
    """Write settings atomically (temporary file, fsync, rename)."""
    write_text_atomic(path, json.dumps(settings.to_dict(), indent=2, sort_keys=True))
