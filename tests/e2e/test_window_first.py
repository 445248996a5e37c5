"""Start-up order: the full window paints before the HTTP client, the keychain and the demo
gateway load, then becomes usable (the demo gateway's model list arrives)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs ``main.main`` as ``main.py`` does, and notes what was loaded when the main window first
# painted; once the composer lists the demo gateway's models it prints what it saw and closes.
SCRIPT = """
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

seen = {}
LATER = ("requests", "keyring", "urllib3", "core.demo_gateway", "http.server")

def report(window):
    models = window.composer.models
    if not models:
        QTimer.singleShot(50, lambda: report(window))
        return
    seen["models"] = len(models)
    seen["title"] = window.windowTitle()
    print(json.dumps(seen), flush=True)
    window.close_without_asking()

class Watch(QObject):
    def eventFilter(self, watched, event):
        if (
            event.type() == QEvent.Type.Paint
            and watched.objectName() == "mainWindow"
            and "at_paint" not in seen
        ):
            seen["at_paint"] = {name: name in sys.modules for name in LATER}
            QTimer.singleShot(0, lambda: report(watched))
        return False

watch = Watch()
original = QMainWindow.__init__

def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    self.installEventFilter(watch)

QMainWindow.__init__ = init
import main

sys.exit(main.main(sys.argv[1:]))
"""


def test_the_demo_window_paints_before_the_gateway_and_http_client_load_then_works(
    tmp_path: Path,
) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "--demo", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # Nothing the window does not draw was loaded before it painted...
    assert not any(seen["at_paint"].values()), seen["at_paint"]
    assert set(seen["at_paint"]) == {
        "requests",
        "keyring",
        "urllib3",
        "core.demo_gateway",
        "http.server",
    }
    # ...and right after, it reached the demo gateway: the composer offers its models.
    assert seen["models"] > 0
    assert seen["title"].startswith("Demo mode")
