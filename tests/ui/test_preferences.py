"""Preferences: typed changes, one debounced save on the worker pool, failures said in words."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import ui.preferences
from core.settings import Settings, load_settings
from ui.preferences import Preferences


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="prefs-pool") as executor:
        yield executor


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread of every settings write (the real write still happens)."""
    seen: list[str] = []
    real = ui.preferences.save_settings

    def recording(path: Path, settings: Settings) -> None:
        seen.append(threading.current_thread().name)
        real(path, settings)

    monkeypatch.setattr(ui.preferences, "save_settings", recording)
    return seen


def make(tmp_path: Path, pool: ThreadPoolExecutor, settings: Settings | None = None) -> Preferences:
    return Preferences(
        settings or Settings(), tmp_path / "settings.json", submit=pool.submit, delay_ms=20
    )


def test_a_burst_of_changes_is_saved_once_off_the_gui_thread(
    qapp: Any, qtbot: Any, tmp_path: Path, pool: ThreadPoolExecutor, writes: list[str]
) -> None:
    preferences = make(tmp_path, pool)
    preferences.auto_download = False
    preferences.last_save_dir = "/videos/out"
    preferences.window = {"geometry": "abc"}
    qtbot.waitUntil(lambda: not preferences.unsaved, timeout=2_000)
    assert len(writes) == 1 and writes[0].startswith("prefs-pool")
    reloaded, problem = load_settings(tmp_path / "settings.json")
    assert problem is None
    assert reloaded.auto_download is False
    assert reloaded.last_save_dir == "/videos/out"
    assert reloaded.window == {"geometry": "abc"}


def test_a_wrong_type_is_refused_and_changes_nothing(
    qapp: Any, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    preferences = make(tmp_path, pool)
    with pytest.raises(TypeError, match="auto_download"):
        preferences.auto_download = "yes"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="last_save_dir"):
        preferences.last_save_dir = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match="demo_mode"):
        preferences.demo_mode = 1  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        preferences.set("no_such_setting", 1)
    assert preferences.settings == Settings()
    assert not preferences.unsaved


def test_changes_are_announced_by_name_and_repeats_are_not(
    qapp: Any, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    preferences = make(tmp_path, pool)
    names: list[str] = []
    preferences.changed.connect(names.append)
    preferences.notifications = False
    preferences.notifications = False
    preferences.demo_mode = True
    assert names == ["notifications", "demo_mode"]


def test_a_dict_handed_in_stays_the_callers(
    qapp: Any, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    preferences = make(tmp_path, pool)
    params: dict[str, Any] = {"model": "m1"}
    preferences.last_params = params
    params["model"] = "changed later"
    assert preferences.last_params == {"model": "m1"}


def test_a_failed_save_says_why_and_keeps_the_values(
    qapp: Any, qtbot: Any, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the config folder should be", encoding="utf-8")
    preferences = Preferences(
        Settings(), blocker / "settings.json", submit=pool.submit, delay_ms=20
    )
    with qtbot.waitSignal(preferences.save_failed, timeout=2_000) as failed:
        preferences.save_sidecar = True
    assert failed.args[0].startswith("Could not save the settings:")
    assert preferences.save_sidecar is True
    assert preferences.unsaved
    assert preferences.flush() is False
    with pytest.raises(OSError):
        preferences.save_now()


def test_flush_writes_pending_changes_at_once(
    qapp: Any, tmp_path: Path, pool: ThreadPoolExecutor, writes: list[str]
) -> None:
    preferences = make(tmp_path, pool)
    assert preferences.flush() is True
    assert writes == []  # nothing changed, nothing written
    preferences.base_url = "https://gateway.example/v1"
    assert preferences.flush() is True
    assert writes == [threading.current_thread().name]
    reloaded, _problem = load_settings(tmp_path / "settings.json")
    assert reloaded.base_url == "https://gateway.example/v1"


def test_an_older_snapshot_never_overwrites_a_newer_one(
    qapp: Any, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    preferences = make(tmp_path, pool)
    preferences.last_save_dir = "/old"
    old = Settings(last_save_dir="/old")
    preferences.last_save_dir = "/new"
    preferences.flush()
    preferences._write(old, 1)  # a slow worker finishing late
    reloaded, _problem = load_settings(tmp_path / "settings.json")
    assert reloaded.last_save_dir == "/new"
