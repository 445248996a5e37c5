"""Themes: Settings' choice and the OS colour scheme reach every view; colours come from QSS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from core.jobs import JobState
from ui.dialogs.settings_dialog import SettingsDialog
from ui.jobs_model import Column
from ui.main_window import MainWindow
from ui.theme import ThemeChoice, app_theme, is_dark, stylesheet

PARAMS_PROMPT = "A lantern festival over a river"


@pytest.fixture(autouse=True)
def light_again() -> Iterator[None]:
    """The theme belongs to the whole application: give the next test the light one back."""
    yield
    app_theme().apply(ThemeChoice.LIGHT)
    app_theme().apply(ThemeChoice.SYSTEM)


def views(window: MainWindow) -> dict[str, QWidget]:
    """Every view a person looks at, the lazily built panes included."""
    jobs = window.jobs_view
    return {
        "table": jobs.table,
        "gallery": jobs.gallery,
        "filter": jobs.filter_combo,
        "search": jobs.search_edit,
        "composer": window.composer,
        "prompt": window.composer.prompt_edit,
        "preview": window.preview,
        "review": window.review,
        "placeholder": window.placeholder,
        "toolbar": window.toolbar,
        "status bar": window.statusBar(),
    }


def dark_views(window: MainWindow) -> dict[str, bool]:
    """Whether each view draws with a dark window and dark input backgrounds."""
    result = {}
    for name, widget in views(window).items():
        palette = widget.palette()
        base = palette.color(QPalette.ColorRole.Base)
        result[name] = is_dark(palette) and base.lightness() < 128
    return result


def test_the_settings_choice_switches_every_view_and_the_painted_colours(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not any(dark_views(window).values())
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    completed_light = app_theme().colours.for_state(JobState.COMPLETED)

    # The person picks Dark in Settings and presses OK.
    def ask(cls: type, parent: QWidget, context: Any, preferences: Any = None) -> Any:
        dialog = SettingsDialog(parent, context, preferences)
        qtbot.addWidget(dialog)
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        dialog.accept()
        return dialog.settings_result

    monkeypatch.setattr(SettingsDialog, "ask", classmethod(ask))
    window.open_settings()
    assert window.preferences.theme == "dark"
    assert all(dark_views(window).values()), dark_views(window)
    completed_dark = app_theme().colours.for_state(JobState.COMPLETED)
    assert completed_dark != completed_light
    # The colours drawn by hand are the stylesheet's, not the code's.
    assert completed_dark.name() in stylesheet(dark=True)
    assert completed_light.name() in stylesheet(dark=False)

    # Light again from Settings: every view follows.
    window.preferences.theme = "light"
    assert not any(dark_views(window).values())


def test_the_system_choice_follows_the_os_colour_scheme(window: MainWindow) -> None:
    theme = app_theme()
    theme.apply(ThemeChoice.SYSTEM)
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the OS turned dark
    assert theme.dark and all(dark_views(window).values())
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not theme.dark and not any(dark_views(window).values())
    # A manual choice wins over the OS.
    theme.apply(ThemeChoice.LIGHT)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not theme.dark


def test_the_status_column_is_painted_in_the_theme_colours(
    window: MainWindow, run: Any, wait_for: Any
) -> None:
    from core.jobs import JobParams

    params = JobParams(model="demo/test-pattern", prompt=PARAMS_PROMPT, duration=2)
    job = run(window.job_actions.submit_job(params, None))
    wait_for(lambda: window.model.job(job.local_id).state is JobState.COMPLETED)
    row = window.model.row_of(job.local_id) or 0
    cell = window.model.index(row, Column.STATUS)
    light = cell.data(Qt.ItemDataRole.ForegroundRole).color()
    window.preferences.theme = "dark"
    dark = cell.data(Qt.ItemDataRole.ForegroundRole).color()
    assert light != dark and dark.lightness() > light.lightness()


def test_a_kept_clip_and_the_image_notes_follow_the_theme(qtbot: Any) -> None:
    from core.jobs import Job, JobParams
    from ui.compare_view import ClipPane
    from ui.image_input import ImageInputs

    job = Job(
        local_id="k",
        params=JobParams(model="demo/test-pattern", prompt=PARAMS_PROMPT, duration=2),
        state=JobState.COMPLETED,
        created_at=100.0,
        updated_at=100.0,
        kept=True,
    )
    pane = ClipPane(job, 0)
    images = ImageInputs()
    for widget in (pane, images):
        qtbot.addWidget(widget)
        widget.show()
    theme = app_theme()
    kept: dict[ThemeChoice, QColor] = {}
    for choice in (ThemeChoice.LIGHT, ThemeChoice.DARK):
        theme.apply(choice)
        # "Kept ✓" is written in the theme's colour for finished, good things, in bold.
        kept[choice] = pane.keep_button.palette().color(QPalette.ColorRole.ButtonText)
        assert kept[choice] == theme.colours.for_state(JobState.COMPLETED)
        assert pane.keep_button.font().bold()
        # The image inputs' note is secondary text, as the theme's palette draws it.
        note = images.note.palette().color(QPalette.ColorRole.WindowText)
        assert note == images.palette().color(QPalette.ColorRole.PlaceholderText)
    assert kept[ThemeChoice.DARK].lightness() > kept[ThemeChoice.LIGHT].lightness()
    pane.keep_button.click()  # not kept any more: plain button text
    assert pane.keep_button.text() == "Keep"
    assert pane.keep_button.palette().color(QPalette.ColorRole.ButtonText) != kept[ThemeChoice.DARK]
