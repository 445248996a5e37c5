#!/usr/bin/env python3
"""Reelgate's developer entry point: bootstraps a local environment, then runs the app or the tests.

    python3 dev.py run [app arguments]   launch Reelgate (demo mode when no API key is configured)
    python3 dev.py test [pytest args]    lint, type-check and run the whole test suite

On first use it creates `.venv/`, installs the project with its test extras, and on
Debian/Ubuntu installs the few system libraries Qt Multimedia and Xvfb screenshots need.
Only the standard library is used here, so it works with a bare Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".reelgate-deps"
# libpulse0: QtMultimedia refuses to load without it, even offscreen.
# The rest: Qt's xcb platform plugin under Xvfb, used by the screenshot script.
SYSTEM_PACKAGES = {
    "libpulse0": "/usr/lib/*/libpulse.so.0",
    "libegl1": "/usr/lib/*/libEGL.so.1",
    "libgl1": "/usr/lib/*/libGL.so.1",
    "libfontconfig1": "/usr/lib/*/libfontconfig.so.1",
    "libxkbcommon0": "/usr/lib/*/libxkbcommon.so.0",
    "libdbus-1-3": "/usr/lib/*/libdbus-1.so.3",
    "libglib2.0-0": "/usr/lib/*/libglib-2.0.so.0",
    "xvfb": "/usr/bin/Xvfb",
    "xauth": "/usr/bin/xauth",
    "libxcb-icccm4": "/usr/lib/*/libxcb-icccm.so.4",
    "libxcb-keysyms1": "/usr/lib/*/libxcb-keysyms.so.1",
    "libxcb-cursor0": "/usr/lib/*/libxcb-cursor.so.0",
    "libxcb-image0": "/usr/lib/*/libxcb-image.so.0",
    "libxcb-render-util0": "/usr/lib/*/libxcb-render-util.so.0",
    "libxcb-shape0": "/usr/lib/*/libxcb-shape.so.0",
    "libxcb-xinerama0": "/usr/lib/*/libxcb-xinerama.so.0",
    "libxcb-randr0": "/usr/lib/*/libxcb-randr.so.0",
    "libxcb-xkb1": "/usr/lib/*/libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "/usr/lib/*/libxkbcommon-x11.so.0",
    # Validators for the .desktop and AppStream files (tests/test_packaging.py, packaging/).
    "desktop-file-utils": "/usr/bin/desktop-file-validate",
    "appstream": "/usr/bin/appstreamcli",
    # The download-speed benchmark's baseline (tests/bench/bench_download_speed.py).
    "curl": "/usr/bin/curl",
}


def say(message: str) -> None:
    """Print a bootstrap progress line."""
    print(f"[reelgate] {message}", file=sys.stderr, flush=True)


def missing_system_packages() -> list[str]:
    """Return the Debian packages whose marker file is absent."""
    import glob

    return [name for name, marker in SYSTEM_PACKAGES.items() if not glob.glob(marker)]


def ensure_system_packages() -> None:
    """Install missing system libraries on Debian/Ubuntu; explain what is needed elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    missing = missing_system_packages()
    if not missing:
        return
    if not shutil.which("apt-get"):
        say(
            "Qt Multimedia needs PulseAudio's client library and Xvfb for screenshots. "
            f"Install the equivalents of: {' '.join(missing)} with your package manager."
        )
        return
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            say(f"Please install as root: apt-get install {' '.join(missing)}")
            return
        prefix = ["sudo", "-n"]
    say(f"installing system packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=False, env=env)
    result = subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=False,
        env=env,
    )
    if result.returncode != 0:
        say(f"could not install {' '.join(missing)}; Qt Multimedia may fail to load.")


def venv_python() -> Path:
    """Path of the virtual environment's interpreter."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def deps_fingerprint() -> str:
    """Hash of the dependency declaration: a change triggers a reinstall."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> Path:
    """Create `.venv` and install the project into it when missing or out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must explain this on old Pythons
        sys.exit("Reelgate needs Python 3.11 or newer.")
    python = venv_python()
    if not python.exists():
        say("creating .venv (first run only)")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    fingerprint = deps_fingerprint()
    if not STAMP.exists() or STAMP.read_text() != fingerprint:
        say("installing dependencies into .venv (first run takes a few minutes)")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(fingerprint)
    return python


def run_app(python: Path, args: list[str]) -> int:
    """Launch Reelgate with the given arguments."""
    return subprocess.call([str(python), str(ROOT / "main.py"), *args], cwd=ROOT)


def run_tests(python: Path, args: list[str]) -> int:
    """Lint, type-check, then run pytest headless; return the first failing exit code."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    steps: list[tuple[str, list[str]]] = [
        ("ruff check", [str(python), "-m", "ruff", "check", "."]),
        ("ruff format --check", [str(python), "-m", "ruff", "format", "--check", "."]),
        ("mypy --strict core/ ui/ main.py", [str(python), "-m", "mypy"]),
        ("pytest", [str(python), "-m", "pytest", *args]),
    ]
    for title, command in steps:
        say(title)
        code = subprocess.call(command, cwd=ROOT, env=env)
        if code != 0:
            say(f"{title} failed (exit {code})")
            return code
    return 0


def main(argv: list[str]) -> int:
    """Dispatch `run` or `test` after making sure the environment exists."""
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_system_packages()
    python = ensure_venv()
    if command == "run":
        return run_app(python, rest)
    return run_tests(python, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
