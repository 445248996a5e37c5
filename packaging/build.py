#!/usr/bin/env python3
"""Build Reelgate's one-folder bundle and its installer: the one packaging command.

    python3 packaging/build.py               bundle + installer for this platform
    python3 packaging/build.py --no-venv     use the running interpreter (CI, after
                                             ``pip install .[packaging]``) instead of .venv
    python3 packaging/build.py --untrimmed   also build an untrimmed bundle to compare sizes
    python3 packaging/build.py --bundle-only skip the installer

Outputs (``build/`` holds intermediate files; both folders are git-ignored):

    Linux    dist/reelgate/ and dist/reelgate_<version>_<arch>.deb (dpkg-deb, offline)
    macOS    dist/reelgate/, dist/Reelgate.app and dist/Reelgate-<version>.dmg
    Windows  dist/reelgate/ and dist/Reelgate-<version>-setup.exe (needs Inno Setup's iscc)

Without ``--no-venv`` the script bootstraps ``.venv`` through ``dev.py`` (which also installs
the system libraries and the desktop-file/AppStream validators on Debian/Ubuntu) and adds
the ``packaging`` extra (PyInstaller) to it. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))
sys.path.insert(1, str(ROOT))

import bundle_rules as rules  # noqa: E402

SPEC = PACKAGING / "reelgate.spec"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
RESOURCES = ROOT / "resources"
MIB = 1024 * 1024


def say(message: str) -> None:
    """Print a progress line (ASCII only: Windows consoles may not speak UTF-8)."""
    print(f"[package] {message}", flush=True)


class BuildError(RuntimeError):
    """A packaging step failed; the message says which and why."""


def pinned_pyinstaller() -> str:
    """The PyInstaller version pinned in pyproject's ``packaging`` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in project["project"]["optional-dependencies"]["packaging"]:
        name, _, version = requirement.partition("==")
        if name.strip().lower() == "pyinstaller":
            return version.strip()
    raise BuildError("pyproject.toml: the packaging extra does not pin pyinstaller==<version>")


def installed_pyinstaller(python: Path) -> str | None:
    """PyInstaller's version in that interpreter, or None when missing."""
    result = subprocess.run(
        [str(python), "-c", "import PyInstaller; print(PyInstaller.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def prepare_python(use_venv: bool) -> Path:
    """The interpreter to build with, with PyInstaller installed."""
    if use_venv:
        import dev

        dev.ensure_system_packages()
        python = dev.ensure_venv()
    else:
        python = Path(sys.executable)
    wanted = pinned_pyinstaller()
    if installed_pyinstaller(python) != wanted:
        if not use_venv:
            raise BuildError(
                f"PyInstaller {wanted} is not installed in {python}: pip install '.[packaging]'"
            )
        say(f"installing the packaging extra (PyInstaller {wanted}) into .venv")
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[packaging]"], check=True
        )
    return python


def check_linux_tools() -> None:
    """PyInstaller and the .deb step need binutils and dpkg-deb."""
    missing = [tool for tool in ("objdump", "readelf", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        raise BuildError(
            f"missing {', '.join(missing)}: apt-get install binutils dpkg "
            "(this script builds Debian packages on Debian/Ubuntu only)"
        )


def run_pyinstaller(python: Path, dist: Path, work: Path, *, trimmed: bool) -> Path:
    """Run PyInstaller with the spec; return the one-folder bundle's path."""
    env = dict(os.environ)
    env.pop("REELGATE_UNTRIMMED", None)
    if not trimmed:
        env["REELGATE_UNTRIMMED"] = "1"
    command = [
        str(python),
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit {result.returncode})")
    bundle = dist / rules.EXE_NAME
    say(
        f"PyInstaller ({'trimmed' if trimmed else 'untrimmed'}) took "
        f"{time.monotonic() - started:.0f} s: {bundle} is {rules.tree_size(bundle) / MIB:.1f} MiB"
    )
    return bundle


def metainfo_release_version(path: Path) -> str | None:
    """Version of the newest ``<release>`` in an AppStream metainfo file."""
    release = ET.parse(path).getroot().find("releases/release")
    return None if release is None else release.get("version")


def validate_linux_metadata(desktop: Path, metainfo: Path, version: str) -> None:
    """desktop-file-validate, appstreamcli validate --no-net, and the release version."""
    found = metainfo_release_version(metainfo)
    if found != version:
        raise BuildError(
            f"{metainfo.name}: newest <release> is {found!r}, the app is {version!r}; "
            "add a <release> entry for this version"
        )
    checks = [
        ("desktop-file-validate", [str(desktop)]),
        ("appstreamcli", ["validate", "--no-net", str(metainfo)]),
    ]
    for tool, args in checks:
        if shutil.which(tool) is None:
            say(f"WARNING: {tool} not found, {desktop.parent.name} metadata not validated")
            continue
        result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BuildError(f"{tool} rejected the file:\n{result.stdout}{result.stderr}")
        say(f"{tool}: ok")


def build_linux_package(bundle: Path, version: str, compression: str) -> Path:
    """Check the bundle, stage the package tree and run dpkg-deb; return the .deb path."""
    import deb

    dangling = deb.dangling_symlinks(bundle)
    if dangling:
        raise BuildError(f"dangling symlinks in the bundle: {[str(p) for p in dangling]}")
    arch = deb.debian_architecture()
    started = time.monotonic()
    dependencies = deb.compute_dependencies(bundle, arch)
    if dependencies.unresolved:
        details = "\n".join(
            f"  {soname} (needed by {', '.join(users[:3])})"
            for soname, users in sorted(dependencies.unresolved.items())
        )
        raise BuildError(
            "these libraries are neither in the bundle nor installed here, so the package "
            f"cannot declare them; install them or add them to deb.FALLBACK_PACKAGES:\n{details}"
        )
    staging = BUILD / "deb" / f"{rules.PACKAGE_NAME}_{version}_{arch}"
    deb.stage(bundle, RESOURCES, staging)
    validate_linux_metadata(staging / deb.DESKTOP_FILE, staging / deb.METAINFO_FILE, version)
    installed = deb.installed_size_kib(staging)
    control = deb.control_text(
        version=version,
        arch=arch,
        installed_size=installed,
        depends=dependencies.depends,
        recommends=dependencies.recommends,
    )
    deb.write_debian_dir(staging, control)
    output = DIST / deb.deb_filename(version, arch)
    deb.build_deb(staging, output, compression)
    say(f"DEBIAN/control:\n{control.rstrip()}")
    say(
        f"{output.name}: {output.stat().st_size / MIB:.1f} MiB ({compression}), installed "
        f"{installed / 1024:.1f} MiB, assembled in {time.monotonic() - started:.1f} s"
    )
    return output


def build_macos_dmg(version: str) -> Path:
    """Wrap dist/Reelgate.app into a compressed disk image with make_dmg.sh."""
    app = DIST / f"{rules.APP_NAME}.app"
    output = DIST / f"{rules.APP_NAME}-{version}.dmg"
    subprocess.run(
        ["bash", str(PACKAGING / "macos" / "make_dmg.sh"), str(app), str(output)], check=True
    )
    say(f"{output.name}: {output.stat().st_size / MIB:.1f} MiB")
    return output


def find_iscc() -> str | None:
    """Inno Setup's command-line compiler, on PATH or in its default install folders."""
    found = shutil.which("iscc")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").exists():
            return str(Path(base) / "Inno Setup 6" / "ISCC.exe")
    return None


def build_windows_installer(bundle: Path, version: str) -> Path | None:
    """Compile packaging/windows/reelgate.iss with Inno Setup (skipped when not installed)."""
    iscc = find_iscc()
    if iscc is None:
        say("WARNING: Inno Setup (iscc) not found: installer skipped (choco install innosetup)")
        return None
    subprocess.run(
        [
            iscc,
            "/Q",
            f"/DAppVersion={version}",
            f"/DSourceDir={bundle}",
            f"/DOutputDir={DIST}",
            str(PACKAGING / "windows" / "reelgate.iss"),
        ],
        check=True,
    )
    output = DIST / f"{rules.APP_NAME}-{version}-setup.exe"
    say(f"{output.name}: {output.stat().st_size / MIB:.1f} MiB")
    return output


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-venv", action="store_true", help="build with the running interpreter")
    parser.add_argument("--bundle-only", action="store_true", help="skip the installer")
    parser.add_argument(
        "--untrimmed",
        action="store_true",
        help="also build an untrimmed bundle into build/untrimmed/ and compare sizes",
    )
    parser.add_argument(
        "--compression",
        default="zstd",
        choices=["zstd", "xz", "gzip"],
        help=".deb compression (zstd needs dpkg >= 1.21.18 on the installing system)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Build everything for this platform; return the exit code."""
    args = parse_args(argv)
    started = time.monotonic()
    version = rules.read_version(ROOT)
    linux = sys.platform.startswith("linux")
    try:
        python = prepare_python(use_venv=not args.no_venv)
        if linux:
            check_linux_tools()
        say(f"building {rules.APP_NAME} {version} with {python}")
        untrimmed_size = None
        if args.untrimmed:
            untrimmed = run_pyinstaller(
                python, BUILD / "untrimmed" / "dist", BUILD / "untrimmed" / "work", trimmed=False
            )
            untrimmed_size = rules.tree_size(untrimmed)
        bundle = run_pyinstaller(python, DIST, BUILD / "pyinstaller", trimmed=True)
        bundle_size = rules.tree_size(bundle)
        if untrimmed_size is not None:
            say(
                f"trimming: {untrimmed_size / MIB:.1f} MiB -> {bundle_size / MIB:.1f} MiB "
                f"({(untrimmed_size - bundle_size) / MIB:.1f} MiB saved)"
            )
        if not args.bundle_only:
            if linux:
                build_linux_package(bundle, version, args.compression)
            elif sys.platform == "darwin":
                build_macos_dmg(version)
            elif sys.platform == "win32":
                build_windows_installer(bundle, version)
    except (BuildError, subprocess.CalledProcessError, RuntimeError) as exc:
        say(f"FAILED: {exc}")
        return 1
    say(f"bundle {bundle_size / MIB:.1f} MiB; done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
