"""Assemble Reelgate's Debian package from the PyInstaller one-folder bundle, offline.

Layout of the package::

    /opt/reelgate/                                  the bundle (reelgate + _internal/)
    /usr/bin/reelgate                               launcher script (exec /opt/reelgate/reelgate)
    /usr/share/applications/app.phaseo.Reelgate.desktop
    /usr/share/icons/hicolor/<N>x<N>/apps/app.phaseo.Reelgate.png   (16 … 512)
    /usr/share/icons/hicolor/scalable/apps/app.phaseo.Reelgate.svg
    /usr/share/metainfo/app.phaseo.Reelgate.metainfo.xml
    /usr/share/doc/reelgate/copyright

``Depends:`` is computed from the bundle: every ``NEEDED`` entry of every ELF file that the
bundle does not ship itself is looked up with ``ldconfig -p`` and ``dpkg -S`` on the build
machine (so the names fit the distribution release that built the package, e.g.
``libglib2.0-0`` on Debian 12 and ``libglib2.0-0t64`` on Ubuntu 24.04). Libraries needed
only by optional plugins (Wayland, the GTK 3 theme) become ``Recommends:``. ``libc6`` gets the
highest ``GLIBC_x.y`` symbol version any file needs.

Standard library only; used by ``packaging/build.py``, ``packaging/smoke_test.py`` and the
tests.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import bundle_rules as rules

INSTALL_DIR = f"opt/{rules.PACKAGE_NAME}"
LAUNCHER = f"usr/bin/{rules.EXE_NAME}"
DESKTOP_FILE = f"usr/share/applications/{rules.APP_ID}.desktop"
METAINFO_FILE = f"usr/share/metainfo/{rules.APP_ID}.metainfo.xml"
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
SCALABLE_ICON = f"usr/share/icons/hicolor/scalable/apps/{rules.APP_ID}.svg"

SUMMARY = "generate videos from text prompts on the Phaseo AI gateway"
DESCRIPTION = """\
Reelgate turns a written description into a short video clip. It sends the
prompt to a video model on the Phaseo AI gateway, follows the job while it
renders, keeps every job in a local journal, previews finished clips in a
built-in player and saves them where you choose. The API key is kept in the
desktop keychain.
.
Without an API key Reelgate runs in demo mode against a built-in local gateway
that renders test-pattern videos, so the whole app can be tried offline."""

#: Bundle files (relative to the bundle root, fnmatch patterns) that Qt loads only when it
#: can: their system libraries are ``Recommends:``, not ``Depends:``. The xcb platform
#: (X11 and XWayland) is the one windowing system every installation gets.
OPTIONAL_FILES: tuple[str, ...] = (
    "_internal/PySide6/Qt/plugins/platforms/libqwayland*",
    "_internal/PySide6/Qt/plugins/wayland-*/*",
    "_internal/PySide6/Qt/lib/libQt6WaylandClient.so*",
    "_internal/PySide6/Qt/plugins/platformthemes/libqgtk3.so",
)

#: Libraries Qt Multimedia opens at run time with dlopen (so no ELF file lists them): VA-API
#: hardware video decoding and PipeWire audio device discovery. Both fall back gracefully.
DLOPEN_RECOMMENDS: tuple[str, ...] = (
    "libva2",
    "libva-drm2",
    "libva-x11-2",
    "libpipewire-0.3-0t64 | libpipewire-0.3-0",
)

#: Sonames never resolved to a package: the dynamic loader itself.
LOADER_SONAMES: frozenset[str] = frozenset(
    {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "linux-vdso.so.1"}
)

#: Debian package for a soname the build machine does not have installed (so ``dpkg -S``
#: cannot tell). ``a | b`` alternatives cover the Ubuntu 24.04 ``t64`` renames.
FALLBACK_PACKAGES: dict[str, str] = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libgtk-3.so.0": "libgtk-3-0t64 | libgtk-3-0",
    "libgdk-3.so.0": "libgtk-3-0t64 | libgtk-3-0",
    "libgdk_pixbuf-2.0.so.0": "libgdk-pixbuf-2.0-0",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libcairo.so.2": "libcairo2",
    "libcairo-gobject.so.2": "libcairo-gobject2",
    "libatk-1.0.so.0": "libatk1.0-0t64 | libatk1.0-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libpulse.so.0": "libpulse0",
}

POSTINST = """\
#!/bin/sh
# Refresh the desktop menu and icon caches. Never fails: a missing or broken cache tool
# must not leave Reelgate half-configured.
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q /usr/share/applications >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor >/dev/null 2>&1 || true
fi
exit 0
"""

POSTRM = """\
#!/bin/sh
# After removal: refresh the desktop menu and icon caches. Never fails.
case "$1" in
    remove|purge)
        if command -v update-desktop-database >/dev/null 2>&1; then
            update-desktop-database -q /usr/share/applications >/dev/null 2>&1 || true
        fi
        if command -v gtk-update-icon-cache >/dev/null 2>&1; then
            gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor >/dev/null 2>&1 || true
        fi
        ;;
esac
exit 0
"""

LAUNCHER_SCRIPT = f"""\
#!/bin/sh
# Reelgate launcher: the app lives in /{INSTALL_DIR} (a PyInstaller one-folder bundle).
exec /{INSTALL_DIR}/{rules.EXE_NAME} "$@"
"""

COPYRIGHT = f"""\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: {rules.APP_NAME}

Files: *
Copyright: Reelgate contributors
License: MIT

Files: opt/{rules.PACKAGE_NAME}/_internal/*
Comment: Third-party components bundled by PyInstaller (Python, Qt for Python, FFmpeg,
 PyAV, NumPy, requests, keyring, cryptography and their dependencies) keep their own
 licences; see the *.dist-info directories in that folder.
"""

_GLIBC_VERSION = re.compile(r"Name: GLIBC_(\d+(?:\.\d+)+)")
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_LDCONFIG_LINE = re.compile(r"^\s*(\S+) \(([^)]*)\) => (\S+)$")
_LDCONFIG_ARCH = {"amd64": "x86-64", "arm64": "AArch64"}


@dataclass
class ElfInfo:
    """What one ELF file needs from the dynamic loader."""

    needed: list[str] = field(default_factory=list)
    glibc: tuple[int, ...] = ()


@dataclass
class Dependencies:
    """The package relationships computed for a bundle."""

    depends: list[str]
    recommends: list[str]
    #: soname → files needing it, for sonames neither bundled nor mappable to a package.
    unresolved: dict[str, list[str]]
    min_glibc: tuple[int, ...]


def run(command: list[str], *, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its text output."""
    return subprocess.run(command, capture_output=True, text=True, check=check)


def debian_architecture() -> str:
    """``dpkg --print-architecture`` (``amd64`` on a usual PC)."""
    return run(["dpkg", "--print-architecture"], check=True).stdout.strip()


def is_elf(path: Path) -> bool:
    """True for a regular (non-symlink) file starting with the ELF magic."""
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"


def elf_files(root: Path) -> list[Path]:
    """Every ELF file under ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if is_elf(p))


def read_elf_info(files: list[Path]) -> dict[Path, ElfInfo]:
    """``NEEDED`` entries and highest GLIBC symbol version per file (``readelf -dV``)."""
    readelf = shutil.which("readelf")
    if readelf is None:
        raise RuntimeError("readelf not found: install binutils (apt-get install binutils)")
    info: dict[Path, ElfInfo] = {}
    for start in range(0, len(files), 100):
        chunk = files[start : start + 100]
        by_name = {str(p): p for p in chunk}
        output = run([readelf, "-dV", "--wide", *by_name], check=True).stdout
        current: ElfInfo | None = None
        if len(chunk) == 1:
            current = info.setdefault(chunk[0], ElfInfo())
        for line in output.splitlines():
            if line.startswith("File: ") and line[6:] in by_name:
                current = info.setdefault(by_name[line[6:]], ElfInfo())
                continue
            if current is None:
                continue
            needed = _NEEDED.search(line)
            if needed:
                current.needed.append(needed.group(1))
                continue
            glibc = _GLIBC_VERSION.search(line)
            if glibc:
                version = tuple(int(x) for x in glibc.group(1).split("."))
                current.glibc = max(current.glibc, version)
    return info


def bundled_names(root: Path) -> set[str]:
    """Base names of every file and symlink in the bundle (what the loader can find there)."""
    return {p.name for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def dangling_symlinks(root: Path) -> list[Path]:
    """Symlinks under ``root`` whose target does not exist."""
    return sorted(p for p in root.rglob("*") if p.is_symlink() and not p.exists())


def system_library_paths(arch: str) -> dict[str, str]:
    """soname → path from the dynamic loader cache, for the given Debian architecture."""
    output = run(["ldconfig", "-p"]).stdout
    wanted = _LDCONFIG_ARCH.get(arch, "")
    paths: dict[str, str] = {}
    for line in output.splitlines():
        match = _LDCONFIG_LINE.match(line)
        if match and wanted in match.group(2):
            paths.setdefault(match.group(1), match.group(3))
    return paths


def find_system_library(soname: str, cache: dict[str, str]) -> str | None:
    """Path of ``soname`` on this system: from the loader cache, else next to cached libraries.

    The cache lists a library under its own soname only; a library that others link under
    an alias (``libbz2.so.1`` for ``libbz2.so.1.0``) is found as a file in the same folders.
    """
    if soname in cache:
        return cache[soname]
    for folder in sorted({os.path.dirname(path) for path in cache.values()}):
        candidate = os.path.join(folder, soname)
        if os.path.exists(candidate):
            return candidate
    return None


def _path_variants(path: str) -> list[str]:
    """The path, its real path and their ``/usr``-merged twins (``dpkg -S`` knows only one)."""
    variants: list[str] = []
    for candidate in (path, os.path.realpath(path)):
        for form in (candidate, candidate.removeprefix("/usr"), "/usr" + candidate):
            if form.startswith("/") and form not in variants:
                variants.append(form)
    return variants


def packages_owning(paths: list[str]) -> dict[str, str]:
    """path → Debian package owning it (``dpkg -S``), trying usrmerge variants."""
    variants = {path: _path_variants(path) for path in paths}
    queries = sorted({v for vs in variants.values() for v in vs})
    if not queries or shutil.which("dpkg") is None:
        return {}
    owners: dict[str, str] = {}
    for line in run(["dpkg", "-S", *queries]).stdout.splitlines():
        packages, _, owned = line.partition(": ")
        if not owned or packages.startswith("diversion by"):
            continue
        package = packages.split(",")[0].strip().split(":")[0]
        owners.setdefault(owned.strip(), package)
    result: dict[str, str] = {}
    for path, forms in variants.items():
        for form in forms:
            if form in owners:
                result[path] = owners[form]
                break
    return result


def is_optional(relative: str) -> bool:
    """True when a bundle file (path relative to the bundle root) is an optional plugin."""
    return any(fnmatch.fnmatch(relative, pattern) for pattern in OPTIONAL_FILES)


def compute_dependencies(bundle: Path, arch: str) -> Dependencies:
    """Work out ``Depends:`` and ``Recommends:`` for the bundle (see the module docstring)."""
    info = read_elf_info(elf_files(bundle))
    bundled = bundled_names(bundle)
    required: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    min_glibc: tuple[int, ...] = ()
    for path, elf in info.items():
        relative = path.relative_to(bundle).as_posix()
        target = optional if is_optional(relative) else required
        if target is required:
            min_glibc = max(min_glibc, elf.glibc)
        for soname in elf.needed:
            if soname not in bundled and soname not in LOADER_SONAMES:
                target.setdefault(soname, []).append(relative)
    cache = system_library_paths(arch)
    located = {s: find_system_library(s, cache) for s in {*required, *optional}}
    owners = packages_owning(sorted({path for path in located.values() if path is not None}))

    def package_of(soname: str) -> str | None:
        path = located.get(soname)
        if path is not None and path in owners:
            return owners[path]
        return FALLBACK_PACKAGES.get(soname)

    depends: set[str] = set()
    unresolved: dict[str, list[str]] = {}
    for soname, users in required.items():
        package = package_of(soname)
        if package is None:
            unresolved[soname] = users
        else:
            depends.add(package)
    recommends: set[str] = set(DLOPEN_RECOMMENDS)
    for soname in optional:
        if soname in required:
            continue
        package = package_of(soname)
        if package is not None and package not in depends:
            recommends.add(package)
    if "libc6" in depends and min_glibc:
        depends.discard("libc6")
        depends.add(f"libc6 (>= {'.'.join(map(str, min_glibc))})")
    return Dependencies(
        depends=sorted(depends),
        recommends=sorted(recommends),
        unresolved=unresolved,
        min_glibc=min_glibc,
    )


def installed_size_kib(root: Path) -> int:
    """``Installed-Size``: KiB of every file (rounded up) plus one per directory/symlink."""
    total = 0
    for path in root.rglob("*"):
        if path.relative_to(root).parts[0] == "DEBIAN":
            continue
        if path.is_symlink() or path.is_dir():
            total += 1
        else:
            total += math.ceil(path.stat().st_size / 1024)
    return total


def control_text(
    *,
    version: str,
    arch: str,
    installed_size: int,
    depends: list[str],
    recommends: list[str],
) -> str:
    """The ``DEBIAN/control`` file."""
    lines = [
        f"Package: {rules.PACKAGE_NAME}",
        f"Version: {version}",
        f"Architecture: {arch}",
        f"Maintainer: {rules.MAINTAINER}",
        f"Installed-Size: {installed_size}",
        f"Depends: {', '.join(depends)}",
    ]
    if recommends:
        lines.append(f"Recommends: {', '.join(recommends)}")
    lines += [
        "Suggests: gnome-keyring | kwalletmanager",
        "Section: video",
        "Priority: optional",
        f"Description: {SUMMARY}",
    ]
    lines += [f" {line}" if line else " ." for line in DESCRIPTION.splitlines()]
    return "\n".join(lines) + "\n"


def _copy(src: Path, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def _write(dest: Path, text: str, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    dest.chmod(mode)


def _normalise_permissions(root: Path) -> None:
    """Directories 0755, executables 0755, everything else 0644 (whatever the umask was)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable = path.stat().st_mode & stat.S_IXUSR
            path.chmod(0o755 if executable else 0o644)


def stage(bundle: Path, resources: Path, staging: Path) -> None:
    """Lay out the package tree (without ``DEBIAN/``) under ``staging``."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    shutil.copytree(bundle, staging / INSTALL_DIR, symlinks=True)
    _write(staging / LAUNCHER, LAUNCHER_SCRIPT, 0o755)
    _copy(resources / "linux" / f"{rules.APP_ID}.desktop", staging / DESKTOP_FILE)
    _copy(resources / "linux" / f"{rules.APP_ID}.metainfo.xml", staging / METAINFO_FILE)
    hicolor = resources / "icons" / "hicolor"
    for size in ICON_SIZES:
        relative = f"{size}x{size}/apps/{rules.APP_ID}.png"
        _copy(hicolor / relative, staging / "usr/share/icons/hicolor" / relative)
    _copy(hicolor / "scalable" / "apps" / f"{rules.APP_ID}.svg", staging / SCALABLE_ICON)
    _write(staging / f"usr/share/doc/{rules.PACKAGE_NAME}/copyright", COPYRIGHT)
    _normalise_permissions(staging)


def write_debian_dir(staging: Path, control: str) -> None:
    """Write ``DEBIAN/control``, ``postinst`` and ``postrm``."""
    debian = staging / "DEBIAN"
    debian.mkdir(exist_ok=True)
    debian.chmod(0o755)
    _write(debian / "control", control)
    _write(debian / "postinst", POSTINST, 0o755)
    _write(debian / "postrm", POSTRM, 0o755)


def build_deb(staging: Path, output: Path, compression: str = "zstd") -> None:
    """``dpkg-deb --root-owner-group -Z<compression> --build staging output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    result = run(
        [
            "dpkg-deb",
            "--root-owner-group",
            f"-Z{compression}",
            "--build",
            str(staging),
            str(output),
        ]
    )
    if result.returncode != 0:
        raise RuntimeError(f"dpkg-deb failed:\n{result.stdout}{result.stderr}")


def deb_filename(version: str, arch: str) -> str:
    """Debian's conventional file name: ``reelgate_<version>_<arch>.deb``."""
    return f"{rules.PACKAGE_NAME}_{version}_{arch}.deb"
