"""Light and dark themes: the palette, the stylesheet, and the colours painted by hand.

The theme follows the OS colour scheme (``QStyleHints.colorScheme()``, Qt 6.5+) unless the
person chose Light or Dark in Settings. Applying it sets the application palette (which every
widget and item view inherits) and the stylesheet: ``resources/styles/app.qss`` for both,
plus ``dark.qss`` on top for the dark theme.

Colours that QSS cannot reach (the Status cell of the job table, the gallery's painted cards)
come from the stylesheet too: :class:`ThemeColours` is a hidden widget whose colour properties
the stylesheet sets with ``qproperty-...`` rules, so every colour lives in a ``.qss`` file.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import shiboken6
from PySide6.QtCore import Property, QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from core.jobs import JobState
from resources.paths import stylesheet_path

logger = logging.getLogger(__name__)


class ThemeChoice(StrEnum):
    """What the person chose in Settings."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"

    @property
    def label(self) -> str:
        """Words for the Settings combo box."""
        return {"system": "Same as the system", "light": "Light", "dark": "Dark"}[self.value]

    @classmethod
    def parse(cls, value: object) -> ThemeChoice:
        """A stored choice; anything unknown follows the system."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.SYSTEM


_STATE_ROLE = {
    JobState.SUBMITTING: "active",
    JobState.QUEUED: "active",
    JobState.PROCESSING: "active",
    JobState.WAITING: "active",
    JobState.COMPLETED: "completed",
    JobState.FAILED: "failed",
    JobState.REJECTED: "failed",
    JobState.EXPIRED: "failed",
    JobState.SUBMIT_UNKNOWN: "unknown",
    JobState.CANCELLED: "muted",
    JobState.GONE: "muted",
}


def _colour_property(name: str) -> Property:
    """A QColor property stored in ``self._colours[name]`` (set from QSS ``qproperty-name``)."""

    def getter(self: ThemeColours) -> QColor:
        return QColor(self._colours[name])

    def setter(self: ThemeColours, value: QColor) -> None:
        self._colours[name] = QColor(value)

    return Property(QColor, getter, setter)


class ThemeColours(QWidget):
    """Never shown: the stylesheet sets these colours (``#themeColours { qproperty-... }``)."""

    active = _colour_property("active")
    completed = _colour_property("completed")
    failed = _colour_property("failed")
    unknown = _colour_property("unknown")
    muted = _colour_property("muted")
    # Qt property names, camelCase as QSS writes them (``qproperty-badgeText``).
    badgeText = _colour_property("badgeText")  # noqa: N815
    cardBorder = _colour_property("cardBorder")  # noqa: N815
    scrim = _colour_property("scrim")
    overlayText = _colour_property("overlayText")  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        # Neutral stand-ins until the stylesheet polishes the widget.
        """Start from neutral colours, then take the light theme's from the stylesheet."""
        self._colours: dict[str, QColor] = {
            name: QColor(Qt.GlobalColor.gray)
            for name in ("active", "completed", "failed", "unknown", "muted", "cardBorder", "scrim")
        }
        self._colours["badgeText"] = QColor(Qt.GlobalColor.white)
        self._colours["overlayText"] = QColor(Qt.GlobalColor.white)
        super().__init__(parent)
        self.setObjectName("themeColours")
        self.setVisible(False)
        self.load(stylesheet(dark=False))

    def load(self, sheet: str) -> None:
        """Take the colours from ``sheet``.

        The sheet is set on this widget alone, so it works before and without the
        application stylesheet (e.g. in a table model's tests).
        """
        self.setStyleSheet(sheet)
        self.ensurePolished()

    def named(self, name: str) -> QColor:
        """One colour by its property name."""
        return QColor(self._colours[name])

    def for_state(self, state: JobState) -> QColor:
        """The colour of a job state's words and badge."""
        return self.named(_STATE_ROLE.get(state, "active"))


class Theme(QObject):
    """Applies the chosen theme to the whole application and follows the OS when asked."""

    #: The palette and colours changed (views repaint their painted parts).
    changed = Signal()

    def __init__(self, app: QApplication, parent: QObject | None = None) -> None:
        """Start on the light theme and listen for the OS colour scheme changing."""
        super().__init__(parent if parent is not None else app)
        self._app = app
        self.choice = ThemeChoice.SYSTEM
        self.dark = False
        self.colours = ThemeColours()
        app.styleHints().colorSchemeChanged.connect(self._on_system_changed)

    def apply(self, choice: ThemeChoice) -> None:
        """Use ``choice`` now (System: whatever the OS says, and follow its changes)."""
        self.choice = choice
        hints = self._app.styleHints()
        if choice is ThemeChoice.SYSTEM:
            hints.unsetColorScheme()
            dark = hints.colorScheme() == Qt.ColorScheme.Dark
        else:
            dark = choice is ThemeChoice.DARK
            # Lets native styles (Windows 11, macOS) draw their own light or dark controls.
            hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        self._use(dark)

    def _on_system_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.choice is ThemeChoice.SYSTEM:
            self._use(scheme == Qt.ColorScheme.Dark)

    def _use(self, dark: bool) -> None:
        """Set the palette and the stylesheet of the light or dark theme.

        Nothing is redone when they are already in use: re-polishing every widget costs
        start-up time.
        """
        changed = dark != self.dark
        self.dark = dark
        if changed:
            palette = dark_palette() if dark else light_palette()
            self._app.setPalette(palette)
            QToolTip.setPalette(palette)
        sheet = stylesheet(dark)
        if self._app.styleSheet() != sheet:
            self._app.setStyleSheet(sheet)
            self.colours.load(sheet)
            changed = True
        if changed:
            self.changed.emit()


def stylesheet(dark: bool) -> str:
    """The application stylesheet for the light or the dark theme."""
    base = stylesheet_path()
    parts = [base]
    if dark:
        parts.append(base.with_name("dark.qss"))
    texts = []
    for path in parts:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except OSError as exc:
            logger.warning("No stylesheet %s: %s", path.name, exc)
    return "\n".join(texts)


def light_palette() -> QPalette:
    """The style's own light palette."""
    return QApplication.style().standardPalette()


def dark_palette() -> QPalette:
    """A dark palette with readable contrast in every colour group."""
    palette = QPalette()
    roles = QPalette.ColorRole
    window, base, text = QColor(0x2B2D30), QColor(0x1E1F22), QColor(0xDFE1E5)
    for role, colour in (
        (roles.Window, window),
        (roles.WindowText, text),
        (roles.Base, base),
        (roles.AlternateBase, QColor(0x26282B)),
        (roles.ToolTipBase, QColor(0x3C3F41)),
        (roles.ToolTipText, text),
        (roles.PlaceholderText, QColor(0x8C8F94)),
        (roles.Text, text),
        (roles.Button, QColor(0x393B40)),
        (roles.ButtonText, text),
        (roles.BrightText, QColor(0xFF6B6B)),
        (roles.Light, QColor(0x4E5157)),
        (roles.Midlight, QColor(0x43454A)),
        (roles.Mid, QColor(0x35373B)),
        (roles.Dark, QColor(0x1A1B1E)),
        (roles.Shadow, QColor(0x101113)),
        (roles.Highlight, QColor(0x3574F0)),
        (roles.HighlightedText, QColor(0xFFFFFF)),
        (roles.Link, QColor(0x6AA6FF)),
        (roles.LinkVisited, QColor(0xB58CFF)),
    ):
        palette.setColor(role, colour)
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor(0x6F737A))
    palette.setColor(disabled, roles.Highlight, QColor(0x3C3F41))
    return palette


def status_colour(state: JobState) -> QColor:
    """The colour of a job state's words and badges in the current theme."""
    return app_theme().colours.for_state(state)


def set_tone(widget: QWidget, tone: str | None) -> None:
    """Colour a message by meaning ("problem", "warning", "ok"; None: plain) via the stylesheet."""
    if widget.property("tone") == tone:
        return
    widget.setProperty("tone", tone)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def is_dark(palette: QPalette) -> bool:
    """Whether a palette draws light text on a dark window."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


_theme: Theme | None = None


def app_theme() -> Theme:
    """The application's theme object (made on first use)."""
    global _theme
    app = QGuiApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication")
    if _theme is None or not shiboken6.isValid(_theme) or _theme.parent() is not app:
        _theme = Theme(app)
    return _theme
