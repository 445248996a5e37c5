"""Packaging inputs stay consistent: spec, trimming rules, icons, desktop entry, AppStream, .deb.

Fast (no PyInstaller run, no Qt): the bundle build itself is ``python3 packaging/build.py``.
The desktop entry and the metainfo are checked at parse level here, and with the real
validators (``desktop-file-validate``, ``appstreamcli validate --no-net``) when installed.
``dev.py`` installs them on Debian/Ubuntu; on CI (``CI`` set) a missing validator fails the
test instead of skipping it.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from core.version import APP_ID, APP_NAME, __version__
from resources import paths as resource_paths

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
LINUX = ROOT / "resources" / "linux"
ICONS = ROOT / "resources" / "icons"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def _packaging_module(name: str) -> ModuleType:
    """Import a module from packaging/ (not a package: its name would shadow PyPI's).

    The folder is on ``sys.path`` only while importing, so its ``build.py`` can never
    shadow PyPI's ``build`` for other tests.
    """
    sys.path.insert(0, str(PACKAGING))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(PACKAGING))


@pytest.fixture(scope="module")
def rules() -> ModuleType:
    return _packaging_module("bundle_rules")


@pytest.fixture(scope="module")
def deb() -> ModuleType:
    return _packaging_module("deb")


def _validator(tool: str) -> str:
    """Path of an external validator, or skip (fail on CI) when it is not installed."""
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} not installed (python3 dev.py installs desktop-file-utils/appstream)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


# --- the spec -------------------------------------------------------------------------


def test_spec_parses_and_builds_main_py_with_the_rules() -> None:
    source = (PACKAGING / "reelgate.spec").read_text(encoding="utf-8")
    tree = ast.parse(source, filename="reelgate.spec")
    calls = {
        node.func.id: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        assert name in calls, f"the spec never calls {name}"
    assert '"main.py"' in source and (ROOT / "main.py").is_file()
    analysis = calls["Analysis"]
    assert isinstance(analysis.args[0], ast.List)
    assert ast.unparse(analysis.args[0]) == "[ENTRY_SCRIPT]"
    keywords = {k.arg: ast.unparse(k.value) for k in analysis.keywords}
    assert "rules.hidden_imports" in keywords["hiddenimports"]
    assert "rules.EXCLUDED_MODULES" in keywords["excludes"]
    assert "rules.read_version(ROOT)" in source
    assert "rules.filter_collected" in source
    bundle = {k.arg: k.value for k in calls["BUNDLE"].keywords}
    assert ast.unparse(bundle["bundle_identifier"]) == "rules.APP_ID"
    plist = bundle["info_plist"]
    assert isinstance(plist, ast.Dict)
    plist_keys = {key.value for key in plist.keys if isinstance(key, ast.Constant)}
    assert {
        "CFBundleIdentifier",
        "CFBundleShortVersionString",
        "NSHighResolutionCapable",
        "LSMinimumSystemVersion",
    } <= plist_keys
    for icon in ("reelgate.ico", "reelgate.icns"):
        assert f'"{icon}"' in source
        assert (ICONS / icon).is_file()


def test_names_and_version_come_from_the_app(rules: ModuleType) -> None:
    assert rules.read_version(ROOT) == __version__
    assert rules.APP_ID == APP_ID == resource_paths.APP_ID
    assert rules.APP_NAME == APP_NAME
    assert rules.EXE_NAME == "reelgate"


def test_hidden_imports_cover_every_keyring_backend(rules: ModuleType) -> None:
    linux = rules.hidden_imports("linux")
    assert "keyring.backends.SecretService" in linux and "secretstorage" in linux
    assert "keyring.backends.Windows" in rules.hidden_imports("win32")
    assert "keyring.backends.macOS" in rules.hidden_imports("darwin")
    for platform in ("linux", "win32", "darwin"):
        names = rules.hidden_imports(platform)
        assert {"ui.app", "ui.selftest", "keyring.backends.fail"} <= set(names)


def test_excludes_never_drop_a_module_the_app_imports(rules: ModuleType) -> None:
    used = {f"PySide6.{name}" for name in rules.USED_QT_MODULES}
    assert not used & set(rules.EXCLUDED_MODULES)
    for name in ("PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "tkinter"):
        assert name in rules.EXCLUDED_MODULES


# --- trimming -------------------------------------------------------------------------

KEPT = [
    # Linux wheel layout
    "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqwayland.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
    "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
    "PySide6/Qt/lib/libQt6Quick.so.6",  # the FFmpeg plugin links to QtQuick/QtQml
    "PySide6/Qt/lib/libQt6Qml.so.6",
    "PySide6/Qt/lib/libQt6OpenGL.so.6",
    "PySide6/Qt/lib/libQt6Multimedia.so.6",
    "PySide6/Qt/lib/libavcodec.so.63",
    "PySide6/Qt/translations/qtbase_de.qm",
    "libQt6Core.so.6",
    "av/video/frame.cpython-311-x86_64-linux-gnu.so",
    "resources/icons/reelgate.svg",
    # Windows wheel layout
    "PySide6/Qt6Core.dll",
    "PySide6/plugins/platforms/qwindows.dll",
    "PySide6/plugins/multimedia/ffmpegmediaplugin.dll",
    "PySide6/plugins/styles/qmodernwindowsstyle.dll",
    # macOS wheel layout
    "PySide6/Qt/lib/QtCore.framework/Versions/A/QtCore",
    "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
    "PySide6/Qt/plugins/multimedia/libdarwinmediaplugin.dylib",
]
DROPPED = [
    "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
    "PySide6/Qt/lib/libQt6Pdf.so.6",
    "PySide6/Qt/lib/libQt6Quick3D.so.6",
    "PySide6/Qt/lib/libQt6QuickControls2.so.6",
    "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6",
    "PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6",
    "PySide6/Qt/lib/libQt63DCore.so.6",
    "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
    "PySide6/Qt/plugins/tls/libqopensslbackend.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/qml/QtMultimedia/qmldir",
    "PySide6/Qt/translations/qtbase_xx.qm",
    "PySide6/Qt/translations/qtdeclarative_de.qm",
    "PySide6/Qt/translations/designer_de.qm",
    "libQt6VirtualKeyboard.so.6",
    "PySide6/Qt6WebEngineCore.dll",
    "PySide6/plugins/sqldrivers/qsqlite.dll",
    "PySide6/Qt/lib/QtWebEngineCore.framework/Versions/A/QtWebEngineCore",
    "_tcl_data/init.tcl",
    "numpy/tests/test_core.py",
]


@pytest.mark.parametrize("dest", KEPT)
def test_keep_file_keeps_what_the_app_needs(rules: ModuleType, dest: str) -> None:
    assert rules.keep_file(dest)


@pytest.mark.parametrize("dest", DROPPED)
def test_keep_file_drops_unused_qt(rules: ModuleType, dest: str) -> None:
    assert not rules.keep_file(dest)


def test_filter_drops_symlinks_to_dropped_files_and_host_libraries(rules: ModuleType) -> None:
    binaries = [
        ("PySide6/Qt/lib/libQt6Core.so.6", "/venv/PySide6/Qt/lib/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", "/venv/PySide6/Qt/lib/libQt6Pdf.so.6", "BINARY"),
        ("libpulse.so.0", "/usr/lib/x86_64-linux-gnu/libpulse.so.0", "BINARY"),
        ("libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "BINARY"),
    ]
    datas = [
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6Pdf.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6", "SYMLINK"),
        ("resources/styles/app.qss", "/src/resources/styles/app.qss", "DATA"),
    ]
    kept_binaries, kept_datas = rules.filter_collected(binaries, datas, platform="linux")
    assert [b[0] for b in kept_binaries] == ["PySide6/Qt/lib/libQt6Core.so.6", binaries[3][0]]
    assert [d[0] for d in kept_datas] == ["libQt6Core.so.6", "resources/styles/app.qss"]
    portable, _ = rules.filter_collected(
        binaries, datas, platform="linux", bundle_system_libraries=True
    )
    assert "libpulse.so.0" in [b[0] for b in portable]
    windows, _ = rules.filter_collected(binaries, datas, platform="win32")
    assert "libpulse.so.0" in [b[0] for b in windows]


def test_only_unpatched_binaries_are_stripped(rules: ModuleType) -> None:
    prefix = "/opt/python"
    assert rules.should_strip(
        "libpython3.11.so.1.0", f"{prefix}/lib/libpython3.11.so", "BINARY", prefix
    )
    assert rules.should_strip(
        "av/video/frame.so", "/v/lib/site-packages/av/video/frame.so", "EXTENSION", prefix
    )
    # auditwheel-patched vendored libraries break when stripped
    assert not rules.should_strip(
        "numpy.libs/libscipy_openblas64_.so",
        "/v/lib/site-packages/numpy.libs/libscipy_openblas64_.so",
        "BINARY",
        prefix,
    )
    assert not rules.should_strip(
        "PySide6/Qt/lib/libQt6Core.so.6",
        "/v/lib/site-packages/PySide6/Qt/lib/libQt6Core.so.6",
        "BINARY",
        prefix,
    )


# --- icons ----------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("size", resource_paths.ICON_SIZES)
def test_hicolor_png_exists_at_its_size(size: int) -> None:
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert _png_size(path) == (size, size)


def test_hicolor_sizes_match_the_deb_layout(deb: ModuleType) -> None:
    assert tuple(deb.ICON_SIZES) == tuple(resource_paths.ICON_SIZES)
    assert {16, 32, 48, 64, 128, 256, 512} <= set(deb.ICON_SIZES)


def test_scalable_and_platform_icons_are_valid() -> None:
    for svg in (ICONS / "reelgate.svg", ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"):
        assert ET.parse(svg).getroot().tag.endswith("svg")
    assert (ICONS / "reelgate.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (ICONS / "reelgate.icns").read_bytes()[:4] == b"icns"


# --- desktop entry and AppStream metainfo ---------------------------------------------


def _desktop_entry() -> dict[str, str]:
    parser = configparser.RawConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    assert parser.sections()[0] == "Desktop Entry"
    return dict(parser["Desktop Entry"])


def test_desktop_entry_has_the_required_keys() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_NAME
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "reelgate"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"]
    assert entry["Comment"]


def test_desktop_entry_passes_desktop_file_validate() -> None:
    tool = _validator("desktop-file-validate")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_has_the_required_elements_and_this_version() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "metadata_license", "project_license", "name", "summary"):
        assert (root.findtext(tag) or "").strip(), f"<{tag}> missing"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == APP_NAME
    assert root.find("description/p") is not None
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.find("content_rating") is not None
    release = root.find("releases/release")
    assert release is not None and release.get("version") == __version__, (
        "add a <release> for the version in core/version.py"
    )


def test_metainfo_passes_appstreamcli_validate() -> None:
    tool = _validator("appstreamcli")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the Debian package ---------------------------------------------------------------


def test_control_file_is_well_formed(deb: ModuleType) -> None:
    control = deb.control_text(
        version="1.2.3",
        arch="amd64",
        installed_size=2048,
        depends=["libc6 (>= 2.35)", "libpulse0"],
        recommends=["libwayland-client0"],
    )
    fields = dict(line.split(": ", 1) for line in control.splitlines() if not line.startswith(" "))
    assert fields["Package"] == "reelgate"
    assert fields["Version"] == "1.2.3"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "2048"
    assert fields["Depends"] == "libc6 (>= 2.35), libpulse0"
    assert fields["Recommends"] == "libwayland-client0"
    assert "Maintainer" in fields and "Description" in fields
    body = [line for line in control.splitlines() if line.startswith(" ")]
    assert body and all(line.strip() for line in body), "blank lines must be written as ' .'"
    assert control.endswith("\n")
    assert deb.deb_filename("1.2.3", "amd64") == "reelgate_1.2.3_amd64.deb"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
@pytest.mark.parametrize("script", ["POSTINST", "POSTRM"])
def test_maintainer_scripts_never_fail(deb: ModuleType, script: str, tmp_path: Path) -> None:
    path = tmp_path / script.lower()
    path.write_text(getattr(deb, script), encoding="utf-8")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for tool in ("update-desktop-database", "gtk-update-icon-cache"):
        stub = stubs / tool
        stub.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
        stub.chmod(0o755)
    sh = shutil.which("sh")
    assert sh is not None
    for path_env in (str(stubs), str(tmp_path / "empty")):  # broken tools, then no tools
        for argument in ("configure", "remove", "purge", "upgrade"):
            result = subprocess.run(
                [sh, str(path), argument], env={"PATH": path_env}, capture_output=True, timeout=10
            )
            assert result.returncode == 0, (script, argument, result.stderr)


def test_launcher_starts_the_installed_bundle(deb: ModuleType) -> None:
    assert deb.LAUNCHER == "usr/bin/reelgate"
    assert deb.INSTALL_DIR == "opt/reelgate"
    assert 'exec /opt/reelgate/reelgate "$@"' in deb.LAUNCHER_SCRIPT
    assert f"usr/share/applications/{APP_ID}.desktop" == deb.DESKTOP_FILE
    assert f"usr/share/metainfo/{APP_ID}.metainfo.xml" == deb.METAINFO_FILE


# --- other platforms and wiring -------------------------------------------------------


def test_inno_setup_script_has_the_required_options() -> None:
    script = (PACKAGING / "windows" / "reelgate.iss").read_text(encoding="utf-8")
    for line in (
        "PrivilegesRequiredOverridesAllowed=dialog",
        "AppId=app.phaseo.Reelgate",
        "SetupIconFile={#RepoDir}\\resources\\icons\\reelgate.ico",
        "[Icons]",
        'Name: "{autoprograms}\\{#AppName}"',
    ):
        assert line in script
    # SetupIconFile is relative to the script's folder: ..\..\resources\icons\reelgate.ico
    assert (PACKAGING / "windows" / ".." / ".." / "resources" / "icons" / "reelgate.ico").is_file()


def test_dmg_recipe_uses_hdiutil_udzo() -> None:
    script = (PACKAGING / "macos" / "make_dmg.sh").read_text(encoding="utf-8")
    assert "hdiutil create -volname Reelgate -srcfolder" in script
    assert "-ov -format UDZO" in script


def test_ci_workflow_builds_and_smoke_tests_on_three_platforms() -> None:
    workflow = (ROOT / ".github" / "workflows" / "package.yml").read_text(encoding="utf-8")
    assert "os: [ubuntu-latest, windows-latest, macos-latest]" in workflow
    assert 'python-version: "3.11"' in workflow
    assert 'pip install ".[packaging]"' in workflow
    assert "python packaging/build.py --no-venv" in workflow
    assert "python packaging/smoke_test.py" in workflow
    assert "QT_QPA_PLATFORM: offscreen" in workflow
    assert "actions/upload-artifact" in workflow


def test_pyproject_ships_resources_and_pins_pyinstaller() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    assert "resources*" in setuptools["packages"]["find"]["include"]
    patterns = " ".join(setuptools["package-data"]["resources"])
    for extension in ("svg", "png", "ico", "icns", "qss", "desktop", "xml"):
        assert f".{extension}" in patterns
    assert project["project"]["optional-dependencies"]["packaging"] == ["pyinstaller==6.22.3"]


def test_readme_documents_the_one_command() -> None:
    readme = (PACKAGING / "README.md").read_text(encoding="utf-8")
    assert "python3 packaging/build.py" in readme
    assert "python3 packaging/smoke_test.py" in readme
