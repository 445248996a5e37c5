"""Desktop start-up: QApplication, crash hook, first-run choice, context, window, event loop."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QLoggingCategory,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.paths import AppPaths, resolve_paths
from core.settings import load_settings
from core.version import APP_NAME, __version__
from resources.paths import APP_ID, icon_path, stylesheet_path
from ui.startup_frame import StartupFrame

# Everything else (the core, logging handlers, the crash dialog, qasync, the main window) is
# imported where it is used, after the start-up frame shows: a bare PySide6 window shows in
# about 110 ms and these imports took about 400 ms more (tests/bench/bench_startup.py).
if TYPE_CHECKING:
    from core.context import AppContext
    from core.secrets import SecretStore
    from ui.crash import CrashHandler

logger = logging.getLogger(__name__)

#: Harmless messages of headless or minimal systems: kept in the log at debug level only.
_QT_BENIGN = (
    "does not support propagateSizeHints",
    "does not support raise",
    "No RHI backend",
)
#: Library chatter kept out of the log unless QT_LOGGING_RULES asks for it (the media data
#: holder's info level also makes FFmpeg print each file's stream layout to stderr).
_QUIET_RULES = "\n".join(
    (
        "qt.multimedia.symbolsresolver=false",
        "qt.multimedia.ffmpeg.info=false",
        "qt.multimedia.ffmpeg.mediadataholder.info=false",
    )
)
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Route Qt's own messages into the (rotating, redacted) log."""
    level = _QT_LEVELS.get(kind, logging.WARNING)
    if any(benign in message for benign in _QT_BENIGN):
        level = logging.DEBUG
    category = context.category or "default"
    name = category if category.startswith("qt") else f"qt.{category}"
    logging.getLogger(name).log(level, "%s", message)


def install_qt_logging() -> None:
    """Send Qt messages to Python logging and quiet known library chatter."""
    QLoggingCategory.setFilterRules(_QUIET_RULES)
    qInstallMessageHandler(_qt_message)


def make_application() -> QApplication:
    """The QApplication with Reelgate's names, icon and stylesheet."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("Phaseo")
    app.setOrganizationDomain("phaseo.app")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(icon_path())))
    try:
        app.setStyleSheet(stylesheet_path().read_text(encoding="utf-8"))
    except OSError as exc:
        logger.warning("No stylesheet: %s", exc)
    # The window decides when the app ends (after saving state), not the last-window rule.
    app.setQuitOnLastWindowClosed(False)
    return app


def _open(args: argparse.Namespace, *, demo: bool | None, secrets: SecretStore) -> AppContext:
    from core.context import open_context

    return open_context(data_dir=args.data_dir, base_url=args.base_url, demo=demo, secrets=secrets)


def open_for_window(args: argparse.Namespace, paths: AppPaths) -> AppContext | None:
    """Open the context, asking a newcomer (no key, first run) whether to try the demo.

    Returns ``None`` when the newcomer closed the welcome dialog.
    """
    from core.secrets import key_in_environment, open_secret_store, resolve_api_key
    from ui.preferences import Preferences

    secrets, keyring_warning = open_secret_store()
    settings, _message = load_settings(paths.settings)
    key, _source = resolve_api_key(secrets)
    demo: bool | None = None
    remember_demo = False
    if args.demo:
        demo = True
    elif not args.base_url and not key and not settings.base_url:
        if settings.demo_mode:
            demo = True
        else:  # the first run, or a key that is gone (e.g. kept for one session only)
            from ui.dialogs.first_run import FirstRunDialog

            choice = FirstRunDialog.ask(None)
            if choice is None:
                return None
            if choice == "key":
                demo = _ask_for_key(args, secrets)
            else:
                demo, remember_demo = True, True
    context = _open(args, demo=demo, secrets=secrets)
    if keyring_warning and not context.runs_demo_gateway and not key_in_environment():
        # The note matters only to a key typed into Settings; one from PHASEO_API_KEY is safe.
        context.messages.append(keyring_warning)
    if remember_demo:
        preferences = Preferences(context.settings, context.paths.settings)
        preferences.demo_mode = True
        preferences.flush()
    return context


def _ask_for_key(args: argparse.Namespace, secrets: SecretStore) -> bool:
    """Show Settings for a first key; True (demo) when the user gave none."""
    from core.secrets import resolve_api_key
    from ui.dialogs.settings_dialog import SettingsDialog
    from ui.preferences import Preferences

    context = _open(args, demo=False, secrets=secrets)
    try:
        SettingsDialog.ask(None, context)
        key, _source = resolve_api_key(secrets)
        if key or context.settings.base_url:
            preferences = Preferences(context.settings, context.paths.settings)
            preferences.demo_mode = False
            preferences.flush()
            return False
        return True
    finally:
        context.close()


async def run_window(
    context: AppContext, crash: CrashHandler | None = None, frame: StartupFrame | None = None
) -> int:
    """Show the window over ``context`` (replacing the start-up ``frame``); wait for its close."""
    import asyncio

    from ui.controller import Controller
    from ui.main_window import MainWindow  # after install_qt_logging: loads Qt Multimedia

    loop = asyncio.get_running_loop()
    controller = Controller(context, loop=loop)
    if crash is not None:
        crash.redacted = controller.redacted_values
    window = MainWindow(controller)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    _close_on_signals(window)
    window.show()
    if frame is not None:
        frame.hand_over()
    window.start()
    await closed.wait()
    window.deleteLater()
    return 0


def _close_on_signals(window: QWidget) -> None:
    """Ctrl+C and SIGTERM close the window properly (state saved, jobs resume next time)."""

    def handler(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, getattr(window, "close_without_asking", window.close))

    for name in ("SIGINT", "SIGTERM"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, handler)
    # Python runs signal handlers between bytecodes; this timer gives it regular chances.
    wake = QTimer(window)
    wake.setInterval(500)
    wake.timeout.connect(lambda: None)
    wake.start()


def run_app(args: argparse.Namespace) -> int:
    """Run the desktop app; returns the process exit code."""
    paths = resolve_paths(args.data_dir).ensure()
    install_qt_logging()
    app = make_application()
    frame = StartupFrame.show_now(paths)  # first, so the app shows at once
    from core.errors import GatewayError
    from core.logsetup import setup_logging
    from ui.crash import CrashHandler

    setup_logging(paths.logs, verbose=bool(getattr(args, "verbose", False)))
    crash = CrashHandler(paths.crash_reports)
    crash.install()
    try:
        context = open_for_window(args, paths)
    except GatewayError as error:
        frame.hand_over()
        QMessageBox.critical(None, APP_NAME, f"Reelgate cannot start: {error.summary}")
        return 2
    if context is None:
        frame.hand_over()
        return 0
    import qasync

    try:
        result: int = qasync.run(run_window(context, crash, frame))
    finally:
        crash.uninstall()
        app.processEvents()
    return result
