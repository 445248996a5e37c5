"""The one owner of the user's settings on the Qt side: typed fields, one debounced save.

Every change to a setting goes through a :class:`Preferences` object, never through
``context.settings`` directly::

    preferences.auto_download = False      # typed: a wrong type raises TypeError
    preferences.changed.connect(on_change)  # gets the field name ("auto_download")

Each change schedules one save a moment later (changes in a burst share it); the file is
written atomically on the worker pool, never on the GUI thread, and a failed write is
reported through :attr:`Preferences.save_failed`. Two moments need the outcome at once and
write synchronously: the Settings dialog's OK (it stays open and says why) and closing the
window (:meth:`Preferences.flush`).

To add a setting: add the field (with its default) to :class:`core.settings.Settings`, then
one line here, ``name: Field[type] = Field()``.
"""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from PySide6.QtCore import QObject, QTimer, Signal

from core.settings import Settings, save_settings
from ui.offthread import Submit, run_task

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Changes within this time share one write.
SAVE_DELAY_MS = 400


def _checked(name: str, default: object, value: object) -> object:
    """``value`` as the setting stores it; TypeError unless it has the default's type."""
    if default is None:  # an undecided yes/no
        ok = value is None or isinstance(value, bool)
    elif isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise TypeError(f"the setting {name} cannot be {value!r}")
    if isinstance(default, float) and isinstance(value, int):
        return float(value)  # stored as a float, so it reads back after a restart
    return copy.deepcopy(value)  # the caller's dict stays theirs


class Field(Generic[T]):
    """A setting read from and written to the underlying :class:`Settings` by name."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        """Take the attribute's name as the setting's name."""
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Field[T]: ...

    @overload
    def __get__(self, obj: Preferences, owner: type) -> T: ...

    def __get__(self, obj: Preferences | None, owner: type) -> Field[T] | T:
        """The setting's current value (the field itself when read on the class)."""
        if obj is None:
            return self
        value: T = getattr(obj.settings, self.name)
        return value

    def __set__(self, obj: Preferences, value: T) -> None:
        """Change the setting (saved soon after, off the GUI thread)."""
        obj.set(self.name, value)


class Preferences(QObject):
    """The user's settings: typed fields, a change signal, one debounced save off the GUI thread."""

    #: A setting changed (its field name).
    changed = Signal(str)
    #: Saving failed; plain words for the status bar (the values stay in memory).
    save_failed = Signal(str)

    base_url: Field[str] = Field()
    download_dir: Field[str] = Field()
    auto_download: Field[bool] = Field()
    save_sidecar: Field[bool] = Field()
    notifications: Field[bool] = Field()
    demo_mode: Field[bool | None] = Field()
    confirm_cost_above: Field[str] = Field()
    monthly_budget: Field[str] = Field()
    last_save_dir: Field[str] = Field()
    last_params: Field[dict[str, Any]] = Field()
    window: Field[dict[str, Any]] = Field()
    theme: Field[str] = Field()

    def __init__(
        self,
        settings: Settings,
        path: Path,
        *,
        submit: Submit | None = None,
        delay_ms: int = SAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        """Own ``settings`` (saved to ``path``); without ``submit`` saves run in place."""
        super().__init__(parent)
        self._settings = settings
        self._path = path
        self._submit = submit
        self._lock = threading.Lock()
        self._changes = 0  # bumped by every change (GUI thread)
        self._written = 0  # the change count of the last write (under the lock)
        self._timer = QTimer(self)
        self._timer.setObjectName("preferencesSaveTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._save_in_background)

    @property
    def settings(self) -> Settings:
        """The settings as they stand (read them here; change them through the fields)."""
        return self._settings

    @property
    def path(self) -> Path:
        """Where the settings file lives."""
        return self._path

    @property
    def unsaved(self) -> bool:
        """Whether a change has not reached the file yet."""
        return self._changes > self._written

    # -- changing -----------------------------------------------------------------------------

    def set(self, name: str, value: object) -> None:
        """Change one setting by name (the typed fields call this); saves a moment later."""
        value = _checked(name, getattr(Settings(), name), value)  # AttributeError: no such one
        if getattr(self._settings, name) == value:
            return
        setattr(self._settings, name, value)
        self._changes += 1
        self.changed.emit(name)
        self._timer.start()

    # -- saving -------------------------------------------------------------------------------

    def save_now(self) -> None:
        """Write the settings at once, on this thread (raises OSError)."""
        self._timer.stop()
        self._write(copy.deepcopy(self._settings), self._changes, force=True)

    def flush(self) -> bool:
        """Write pending changes now (closing); False (and a log line) if that failed."""
        self._timer.stop()
        if not self.unsaved:
            return True
        try:
            self.save_now()
        except OSError as exc:
            logger.warning("Could not save the settings: %s", exc)
            return False
        return True

    def _save_in_background(self) -> None:
        snapshot = copy.deepcopy(self._settings)  # the worker never reads a changing object
        changes = self._changes
        if self._submit is None:
            self._save_here(snapshot, changes)
            return
        started = run_task(
            self._submit,
            self._write,
            snapshot,
            changes,
            on_result=lambda _none: None,
            on_error=self._on_save_error,
            receiver=self,
        )
        if started is None:  # the pool is shut down: the app is closing
            self._save_here(snapshot, changes)

    def _save_here(self, snapshot: Settings, changes: int) -> None:
        try:
            self._write(snapshot, changes)
        except OSError as exc:
            self._on_save_error(exc)

    def _write(self, snapshot: Settings, changes: int, *, force: bool = False) -> None:
        """Write ``snapshot`` unless a newer one is already on disk (any thread)."""
        with self._lock:
            if changes <= self._written and not force:
                return
            save_settings(self._path, snapshot)
            self._written = max(self._written, changes)

    def _on_save_error(self, error: BaseException) -> None:
        if not isinstance(error, OSError):
            raise error
        logger.warning("Could not save the settings: %s", error)
        self.save_failed.emit(f"Could not save the settings: {error}")
