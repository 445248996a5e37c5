#!/usr/bin/env python3
"""Smoke-test the packaged Reelgate the way a user gets it; changes nothing on the system.

    python3 packaging/smoke_test.py            test dist/reelgate_<version>_<arch>.deb
                                               (Linux) or the bundle in dist/ (macOS, Windows)
    python3 packaging/smoke_test.py --deb X    test that package
    python3 packaging/smoke_test.py --bundle D test a one-folder bundle directly

Linux: the .deb is unpacked into a scratch root (``dpkg-deb -x``, like ``dpkg -x``; no
``dpkg -i``, nothing is installed), its layout and metadata are checked, ``apt-get -s``
checks that its dependencies resolve here, and the app is run from
``<root>/opt/reelgate/reelgate``:

* ``--version`` must print ``Reelgate <version>`` (timed: process start-up);
* ``--self-test`` (offscreen, scratch data folder) must exit 0 (each step is timestamped);
* time to first window and to the main window: the app starts in demo mode on a private
  Xvfb display; the first viewable main-window-sized window named "Reelgate…" (the
  start-up frame) stops the first clock, the next such window (the main window) the second
  (needs Xvfb and xwininfo; otherwise reported as not measured).

It prints the bundle size, the .deb size and the installed size. Exit code 0 when every
check passed. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))

import bundle_rules as rules  # noqa: E402

MIB = 1024 * 1024
SELF_TEST_TIMEOUT = 240.0
WINDOW_TIMEOUT = 60.0
SETTLE_SECONDS = 5.0


class SmokeFailure(Exception):
    """A smoke-test check failed."""


def say(message: str) -> None:
    """Print a progress line (ASCII only: Windows consoles may not speak UTF-8)."""
    print(f"[smoke] {message}", flush=True)


def app_env(data_dir: Path) -> dict[str, str]:
    """Environment for a headless run that cannot touch the user's keychain or data."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QT_LOGGING_RULES="qt.multimedia.*=false",
        REELGATE_DATA_DIR=str(data_dir),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    env.pop("PHASEO_API_KEY", None)
    return env


def check_version(exe: Path, version: str, env: dict[str, str]) -> float:
    """Run ``--version``; return the wall time of the fastest of three runs."""
    times: list[float] = []
    for _ in range(3):
        started = time.monotonic()
        result = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, env=env, timeout=60
        )
        times.append(time.monotonic() - started)
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or output != f"{rules.APP_NAME} {version}":
            raise SmokeFailure(f"--version: exit {result.returncode}, output {output!r}")
    say(
        f"--version -> '{rules.APP_NAME} {version}' "
        f"(first run {times[0]:.2f} s, best {min(times):.2f} s)"
    )
    return min(times)


def check_self_test(exe: Path, data_dir: Path, env: dict[str, str]) -> float:
    """Run ``--self-test``, echoing each line with the seconds since start; return the total."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(exe), "--self-test", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip())
        say(f"  +{time.monotonic() - started:5.2f} s  {line.rstrip()}")
        if time.monotonic() - started > SELF_TEST_TIMEOUT:
            process.kill()
            raise SmokeFailure(f"--self-test did not finish within {SELF_TEST_TIMEOUT:.0f} s")
    code = process.wait(timeout=SELF_TEST_TIMEOUT)
    total = time.monotonic() - started
    if code != 0 or not any(line.startswith("self-test: passed") for line in lines):
        raise SmokeFailure(f"--self-test exited {code}")
    say(f"--self-test passed: exit 0 in {total:.2f} s (process start to exit)")
    return total


@contextlib.contextmanager
def xvfb_display() -> Iterator[str]:
    """Run a private Xvfb server; yields its DISPLAY value."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise FileNotFoundError("Xvfb")
    for number in range(93, 120):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            break
    else:
        raise RuntimeError("no free X display number")
    display = f":{number}"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


#: A main window, not Qt's 1x1 helper windows nor a message box titled "Reelgate".
MIN_WINDOW_SIZE = (640, 400)
_TREE_LINE = re.compile(r'^\s+(0x[0-9a-f]+) "([^"]*)":.*?\s(\d+)x(\d+)[+-]', re.M)


def viewable_app_windows(display: str) -> dict[str, str]:
    """X id → title of every viewable, main-window-sized window whose title names Reelgate."""
    env = dict(os.environ, DISPLAY=display)
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], capture_output=True, text=True, env=env, check=False
    ).stdout
    windows: dict[str, str] = {}
    for window_id, name, width, height in _TREE_LINE.findall(tree):
        too_small = int(width) < MIN_WINDOW_SIZE[0] or int(height) < MIN_WINDOW_SIZE[1]
        if too_small or rules.APP_NAME not in name:
            continue
        info = subprocess.run(
            ["xwininfo", "-id", window_id], capture_output=True, text=True, env=env, check=False
        ).stdout
        if "Map State: IsViewable" in info:
            windows[window_id] = name
    return windows


def time_to_windows(exe: Path, data_dir: Path, env: dict[str, str]) -> tuple[float, float] | None:
    """Seconds from launch (demo mode, Xvfb, xcb) to the first window and to the main window.

    Reelgate shows a light start-up frame at once and replaces it with the main window when
    that is built: the first viewable window is the first, the next window (another X id) is
    the main one. When no other window follows within ``SETTLE_SECONDS``, the first window
    was the main window.
    """
    if shutil.which("Xvfb") is None or shutil.which("xwininfo") is None:
        say("time to first window: not measured (needs Xvfb and xwininfo: x11-utils)")
        return None
    with xvfb_display() as display:
        window_env = dict(env, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        window_env.pop("WAYLAND_DISPLAY", None)
        started = time.monotonic()
        process = subprocess.Popen(
            [str(exe), "--demo", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=window_env,
        )
        first: tuple[float, dict[str, str]] | None = None
        try:
            while time.monotonic() - started < WINDOW_TIMEOUT:
                if process.poll() is not None:
                    output = (
                        process.stdout.read().decode(errors="replace") if process.stdout else ""
                    )
                    raise SmokeFailure(
                        f"the app exited ({process.returncode}) while starting:\n{output}"
                    )
                windows = viewable_app_windows(display)
                now = time.monotonic() - started
                if first is None and windows:
                    first = (now, windows)
                    say(f"time to first window: {now:.2f} s {sorted(windows.values())}")
                elif first is not None:
                    newer = {k: v for k, v in windows.items() if k not in first[1]}
                    if newer:
                        say(f"time to main window: {now:.2f} s {sorted(newer.values())}")
                        return first[0], now
                    if now - first[0] > SETTLE_SECONDS:
                        say("time to main window: the first window is the main window")
                        return first[0], first[0]
                time.sleep(0.03)
            raise SmokeFailure(f"no window within {WINDOW_TIMEOUT:.0f} s")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def check_layout(root: Path) -> None:
    """Every file the package promises is where Debian desktops look for it."""
    import deb

    expected = [
        f"{deb.INSTALL_DIR}/{rules.EXE_NAME}",
        deb.LAUNCHER,
        deb.DESKTOP_FILE,
        deb.METAINFO_FILE,
        deb.SCALABLE_ICON,
        *(f"usr/share/icons/hicolor/{n}x{n}/apps/{rules.APP_ID}.png" for n in deb.ICON_SIZES),
    ]
    missing = [path for path in expected if not (root / path).is_file()]
    if missing:
        raise SmokeFailure(f"missing from the package: {missing}")
    launcher = (root / deb.LAUNCHER).read_text(encoding="utf-8")
    if f"exec /{deb.INSTALL_DIR}/{rules.EXE_NAME} " not in launcher:
        raise SmokeFailure(f"{deb.LAUNCHER} does not start /{deb.INSTALL_DIR}/{rules.EXE_NAME}")
    if not os.access(root / deb.LAUNCHER, os.X_OK):
        raise SmokeFailure(f"{deb.LAUNCHER} is not executable")
    say(
        f"layout ok: /{deb.INSTALL_DIR}, {deb.LAUNCHER}, .desktop, metainfo, "
        f"{len(deb.ICON_SIZES)} PNG sizes + SVG"
    )
    for tool, args in (
        ("desktop-file-validate", [str(root / deb.DESKTOP_FILE)]),
        ("appstreamcli", ["validate", "--no-net", str(root / deb.METAINFO_FILE)]),
    ):
        if shutil.which(tool) is None:
            say(f"{tool}: not installed, skipped")
            continue
        result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SmokeFailure(f"{tool} failed:\n{result.stdout}{result.stderr}")
        say(f"{tool}: ok")


def check_dependencies_resolve(package: Path) -> None:
    """``apt-get -s install ./pkg.deb``: would apt find every Depends here? (simulation)"""
    if shutil.which("apt-get") is None:
        say("dependency check: apt-get not available, skipped")
        return
    result = subprocess.run(
        ["apt-get", "-s", "-q", "--no-install-recommends", "install", str(package)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, LC_ALL="C"),
    )
    if result.returncode != 0:
        raise SmokeFailure(
            f"apt-get -s install: dependencies do not resolve:\n{result.stdout}{result.stderr}"
        )
    extra = [
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("Inst ") and line.split()[1] != rules.PACKAGE_NAME
    ]
    detail = f"apt would also install: {' '.join(extra)}" if extra else "all already installed"
    say(f"dependencies resolve (apt-get -s): {detail}")


def find_deb(version: str) -> Path | None:
    """dist/reelgate_<version>_<arch>.deb, if it was built."""
    matches = sorted((ROOT / "dist").glob(f"{rules.PACKAGE_NAME}_{version}_*.deb"))
    return matches[-1] if matches else None


def bundle_executable(bundle: Path) -> Path:
    """The executable to test: the console one on Windows, the one inside the .app on macOS."""
    if sys.platform == "win32":
        return bundle / f"{rules.EXE_NAME}-cli.exe"
    app = bundle.parent / f"{rules.APP_NAME}.app"
    if sys.platform == "darwin" and app.is_dir():
        return app / "Contents" / "MacOS" / rules.EXE_NAME
    return bundle / rules.EXE_NAME


def run_checks(exe: Path, version: str, scratch: Path, *, window: bool) -> dict[str, float | None]:
    """The run-time checks shared by the .deb and bare-bundle modes."""
    timings: dict[str, float | None] = {}
    env = app_env(scratch / "env-data")
    timings["version"] = check_version(exe, version, env)
    timings["self_test"] = check_self_test(exe, scratch / "self-test-data", env)
    if window:
        windows = time_to_windows(exe, scratch / "window-data", env)
        timings["first_window"] = windows[0] if windows else None
        timings["main_window"] = windows[1] if windows else None
    return timings


def main(argv: list[str]) -> int:
    """Run the smoke test; 0 when every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deb", type=Path, help="the .deb to test (Linux)")
    parser.add_argument("--bundle", type=Path, help="test this one-folder bundle directly")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    version = rules.read_version(ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="reelgate-smoke-"))
    try:
        package = args.deb or (None if args.bundle else find_deb(version))
        if package is not None:
            bundle_dir = args.bundle or ROOT / "dist" / rules.EXE_NAME
            if bundle_dir.is_dir():
                say(f"bundle dist/{bundle_dir.name}: {rules.tree_size(bundle_dir) / MIB:.1f} MiB")
            say(f"package {package.name}: {package.stat().st_size / MIB:.1f} MiB")
            root = scratch / "root"
            subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True)
            field = subprocess.run(
                ["dpkg-deb", "-f", str(package), "Installed-Size"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            say(
                f"installed into scratch root {root}: {rules.tree_size(root) / MIB:.1f} MiB "
                f"(Installed-Size: {int(field) / 1024:.1f} MiB)"
            )
            check_layout(root)
            check_dependencies_resolve(package)
            exe = root / "opt" / rules.PACKAGE_NAME / rules.EXE_NAME
            run_checks(exe, version, scratch, window=True)
        else:
            bundle = args.bundle or ROOT / "dist" / rules.EXE_NAME
            exe = bundle_executable(bundle)
            if not exe.exists():
                raise SmokeFailure(f"{exe} not found: run python3 packaging/build.py first")
            say(f"bundle {bundle}: {rules.tree_size(bundle) / MIB:.1f} MiB; testing {exe}")
            run_checks(exe, version, scratch, window=sys.platform.startswith("linux"))
    except (SmokeFailure, subprocess.CalledProcessError, OSError) as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        if args.keep:
            say(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    say("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
