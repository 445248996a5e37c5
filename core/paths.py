"""Where Reelgate keeps its files: data (journal, videos, logs) and config (settings).

Everything can be relocated with ``--data-dir DIR`` or ``REELGATE_DATA_DIR``: then config,
data and logs all live below that one folder (portable use, tests).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "REELGATE_DATA_DIR"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files Reelgate reads and writes."""

    data_dir: Path
    config_dir: Path

    @property
    def journal(self) -> Path:
        """The SQLite job journal."""
        return self.data_dir / "journal.db"

    @property
    def videos(self) -> Path:
        """Downloaded videos (the app's own copies; "Save as" copies from here)."""
        return self.data_dir / "videos"

    @property
    def logs(self) -> Path:
        """Rotating log files."""
        return self.data_dir / "logs"

    @property
    def settings(self) -> Path:
        """The settings file (JSON; never holds the key)."""
        return self.config_dir / "settings.json"

    @property
    def catalogue_cache(self) -> Path:
        """The cached model catalogue."""
        return self.data_dir / "models-cache.json"

    @property
    def crash_reports(self) -> Path:
        """Crash reports written by the excepthook."""
        return self.data_dir / "crash-reports"

    def ensure(self) -> AppPaths:
        """Create the folders (idempotent) and return self."""
        for folder in (self.data_dir, self.config_dir, self.videos, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def _platform_dirs() -> tuple[Path, Path]:
    home = Path.home()
    if sys.platform == "win32":
        local = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        roaming = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
        return local / "Reelgate", roaming / "Reelgate"
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support" / "Reelgate"
        return support, support
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return data / "reelgate", config / "reelgate"


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Platform folders, unless ``data_dir`` (or ``REELGATE_DATA_DIR``) relocates everything."""
    override = data_dir or os.environ.get(DATA_DIR_ENV)
    if override:
        root = Path(override).expanduser().resolve()
        return AppPaths(data_dir=root, config_dir=root / "config")
    data, config = _platform_dirs()
    return AppPaths(data_dir=data, config_dir=config)
