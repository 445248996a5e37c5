"""`core/` must never load Qt: importing every core module leaves PySide6 out of sys.modules."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _core_modules() -> list[str]:
    names = ["core"]
    for info in pkgutil.walk_packages([str(ROOT / "core")], prefix="core."):
        names.append(info.name)
    return names


def test_core_package_has_the_expected_modules() -> None:
    names = set(_core_modules())
    for required in ("core.engine", "core.journal", "core.gateway", "core.poll_policy"):
        assert required in names


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = _core_modules()
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
        "print('QT:' + ','.join(qt))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "QT:\n" in result.stdout or result.stdout.strip() == "QT:", result.stdout
