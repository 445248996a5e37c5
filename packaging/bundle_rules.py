"""What goes into Reelgate's PyInstaller bundle: names, version, hidden imports and trimming.

Imported by ``packaging/reelgate.spec`` (which stays a thin shell around these rules), by
``packaging/build.py`` and by ``tests/test_packaging.py``. Standard library only, so it can be
imported without PyInstaller or Qt installed.

Trimming works on two levels:

* Python level: ``EXCLUDED_MODULES`` keeps PyInstaller from even analysing the PySide6
  bindings Reelgate never imports (and tkinter, test suites, other Qt bindings). That alone
  stops their hooks from collecting most unused Qt libraries.
* File level: :func:`keep_file` drops what the remaining hooks collect anyway: Qt plugins of
  unused categories, QML files, translations beyond ``KEPT_TRANSLATION_LOCALES`` and any
  stray library of an unused Qt module.

The FFmpeg multimedia plugin links against QtQuick, QtQml (+ QmlMeta, QmlModels,
QmlWorkerScript), QtOpenGL, QtNetwork, QtConcurrent and QtDBus (checked with ``readelf -d``
on PySide6 6.12), so those *C++ libraries* stay although their Python bindings and QML
modules are excluded. ``packaging/build.py`` re-checks after every build that every kept
binary's dependencies are either in the bundle or on the system.
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

APP_NAME = "Reelgate"
EXE_NAME = "reelgate"
APP_ID = "app.phaseo.Reelgate"
PACKAGE_NAME = "reelgate"
#: The .deb ``Maintainer:`` field. Reelgate has no public contact address or homepage yet, so
#: the publisher supplies one at build time (``REELGATE_MAINTAINER="Name <address>"``); without
#: it the field names the project only, and no homepage is claimed anywhere.
MAINTAINER = os.environ.get("REELGATE_MAINTAINER", "").strip() or "Reelgate contributors"
MACOS_MINIMUM_VERSION = "12.0"

#: PySide6 binding modules Reelgate imports (directly or through its dependencies).
USED_QT_MODULES: tuple[str, ...] = (
    "QtCore",
    "QtGui",
    "QtWidgets",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",  # a dependency of QtMultimedia's bindings
)

#: PySide6 binding modules that must never be analysed (their hooks drag in whole Qt stacks).
UNUSED_QT_MODULES: tuple[str, ...] = (
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtAsyncio",
    "QtBluetooth",
    "QtCanvasPainter",
    "QtCharts",
    "QtConcurrent",
    "QtDataVisualization",
    "QtDBus",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLabsStyleKit",
    "QtLocation",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQmlFeatures",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtWebView",
    "QtXml",
)

EXCLUDED_MODULES: tuple[str, ...] = (
    *(f"PySide6.{name}" for name in UNUSED_QT_MODULES),
    "PySide6.scripts",  # pyside6-designer & co.
    "PyQt5",
    "PyQt6",
    "PySide2",
    "tkinter",
    "_tkinter",
    "turtle",
    "idlelib",
    "pydoc_data",
    "lib2to3",
    "numpy.tests",
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "av.tests",
    "pytest",
    "hypothesis",
    "IPython",
    "matplotlib",
    "PIL",
)

#: Hidden imports every platform needs. keyring finds its backends through entry points at
#: run time, which PyInstaller's analysis cannot see.
COMMON_HIDDEN_IMPORTS: tuple[str, ...] = (
    "keyring.backends.chainer",
    "keyring.backends.fail",
    "keyring.backends.null",
    "ui.app",
    "ui.selftest",
)

#: Per ``sys.platform`` prefix: the keyring backend of that OS and what it imports lazily.
PLATFORM_HIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "linux": (
        "keyring.backends.SecretService",
        "keyring.backends.kwallet",
        "keyring.backends.libsecret",
        "secretstorage",
        "jeepney",
        "jeepney.io.blocking",
    ),
    "win32": ("keyring.backends.Windows", "win32ctypes.core", "win32ctypes.pywin32"),
    "darwin": ("keyring.backends.macOS", "keyring.backends.macOS.api"),
}

#: Qt plugins kept, by category: ``None`` keeps the whole category, a set keeps only those
#: plugins (file name without ``lib`` prefix and extension). Other categories are dropped:
#: tls and networkinformation (HTTP goes through requests, not QtNetwork), sqldrivers,
#: eglfs/linuxfb/vnc platforms, QML tooling, position, sensors, canbus, …
KEPT_PLUGINS: dict[str, frozenset[str] | None] = {
    # Desktop windowing systems, plus offscreen for the headless self-test.
    "platforms": frozenset(
        {"qxcb", "qwayland", "qwayland-egl", "qwayland-generic", "qoffscreen", "qwindows", "qcocoa"}
    ),
    "platformthemes": None,  # native file dialogs (GTK 3, xdg-desktop-portal)
    # Compose key and IBus input methods; not the QML virtual keyboard.
    "platforminputcontexts": frozenset(
        {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}
    ),
    "multimedia": None,  # the FFmpeg backend (plus the native darwin/windows ones)
    # What QIcon/QPixmap need for the app's icons and video thumbnails.
    "imageformats": frozenset({"qsvg", "qico", "qicns", "qjpeg", "qgif", "qwebp"}),
    "iconengines": None,  # SVG icons
    "xcbglintegrations": None,  # OpenGL under X11 (video rendering)
    "wayland-decoration-client": None,  # window decorations under Wayland
    "wayland-graphics-integration-client": frozenset({"qt-plugin-wayland-egl"}),
    "wayland-shell-integration": frozenset({"xdg-shell"}),
    "styles": None,  # native widget styles (Windows 11, macOS)
}

#: Plugins that load without their system libraries being required: Qt skips them when
#: the library is missing. Their dependencies become ``Recommends:`` in the .deb.
OPTIONAL_PLUGINS: frozenset[str] = frozenset({"platformthemes/libqgtk3.so"})

#: Qt's own translations are only used when the app installs a QTranslator for them; a few
#: common locales of the two catalogues the app can show (qtbase dialogs, multimedia errors)
#: are kept for that, the remaining ~270 files (about 17 MB) are dropped.
KEPT_TRANSLATION_CATALOGUES: frozenset[str] = frozenset({"qtbase", "qtmultimedia"})
KEPT_TRANSLATION_LOCALES: frozenset[str] = frozenset(
    {"de", "es", "fr", "it", "ja", "ko", "pt_BR", "ru", "zh_CN"}
)

#: Qt libraries that must stay (the FFmpeg plugin and the platform plugins link to them).
REQUIRED_QT_LIBRARIES: frozenset[str] = frozenset(
    {
        "Core",
        "Gui",
        "Widgets",
        "Network",
        "DBus",
        "Concurrent",
        "OpenGL",
        "Qml",
        "QmlMeta",
        "QmlModels",
        "QmlWorkerScript",
        "Quick",
        "Multimedia",
        "MultimediaWidgets",
        "Svg",
        "XcbQpa",
        "WaylandClient",
        "WaylandEglClientHwIntegration",
    }
)

#: Qt library name prefixes that are never needed (matched after the ``Qt6``/``Qt`` prefix).
UNUSED_QT_LIBRARY_PREFIXES: tuple[str, ...] = (
    "3D",
    "Bluetooth",
    "CanvasPainter",
    "Charts",
    "DataVisualization",
    "Designer",
    "EglFS",
    "Graphs",
    "Help",
    "HttpServer",
    "Labs",
    "Location",
    "Lottie",
    "MultimediaQuick",
    "NetworkAuth",
    "Nfc",
    "OpenGLWidgets",
    "Pdf",
    "Positioning",
    "PrintSupport",
    "QmlCompiler",
    "QmlCore",
    "QmlDesignSupport",
    "QmlLocalStorage",
    "QmlNetwork",
    "QmlXmlListModel",
    "Quick3D",
    "QuickControls2",
    "QuickDialogs2",
    "QuickEffects",
    "QuickLayouts",
    "QuickParticles",
    "QuickShapes",
    "QuickTemplates2",
    "QuickTest",
    "QuickTimeline",
    "QuickVectorImage",
    "QuickWidgets",
    "RemoteObjects",
    "Scxml",
    "Sensors",
    "SerialBus",
    "SerialPort",
    "ShaderTools",
    "SpatialAudio",
    "Sql",
    "StateMachine",
    "SvgWidgets",
    "Test",
    "TextToSpeech",
    "UiTools",
    "VirtualKeyboard",
    "WaylandCompositor",
    "WaylandEglCompositor",
    "WebChannel",
    "WebEngine",
    "WebSockets",
    "WebView",
    "WlShellIntegration",
    "Xml",
)

_QT_LIBRARY = re.compile(r"^(?:lib)?Qt6?(?P<name>[0-9A-Za-z]+)(?:\.framework|\.so|\.dylib|\.dll|$)")
_UNUSED_PREFIXES_LOWER = tuple(prefix.lower() for prefix in UNUSED_QT_LIBRARY_PREFIXES)
_TCL_TK_DIRS = frozenset({"tcl", "tk", "tcl8", "_tcl_data", "_tk_data"})
_TEST_DIRS = frozenset({"tests", "testing"})
_TRANSLATION = re.compile(r"^(?P<catalogue>[a-z_]+?)_(?P<locale>[a-z]{2}(?:_[A-Z]{2})?)\.qm$")


def read_version(root: Path) -> str:
    """Return ``__version__`` from ``core/version.py`` without importing the app."""
    source = (root / "core" / "version.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ValueError("core/version.py defines no __version__ string")


def hidden_imports(platform: str) -> list[str]:
    """Hidden imports for a ``sys.platform`` value."""
    names = list(COMMON_HIDDEN_IMPORTS)
    for prefix, extra in PLATFORM_HIDDEN_IMPORTS.items():
        if platform.startswith(prefix):
            names.extend(extra)
    return names


def _qt_root_parts(parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The part of a bundle path below PySide6's Qt prefix, or None when outside PySide6.

    Wheels put Qt under ``PySide6/Qt/`` on Linux and macOS and directly under ``PySide6/``
    on Windows.
    """
    if not parts or parts[0] != "PySide6":
        return None
    rest = parts[1:]
    if rest and rest[0] == "Qt":
        rest = rest[1:]
    return rest


def plugin_stem(filename: str) -> str:
    """Plugin name without prefix and extension: ``libqxcb.so`` and ``qxcb.dll`` → ``qxcb``."""
    stem = filename.split(".")[0]
    return stem.removeprefix("lib")


def _keep_plugin(category: str, filename: str) -> bool:
    if category not in KEPT_PLUGINS:
        return False
    kept = KEPT_PLUGINS[category]
    return kept is None or plugin_stem(filename) in kept


def _keep_translation(filename: str) -> bool:
    match = _TRANSLATION.match(filename)
    if match is None:
        return False
    return (
        match["catalogue"] in KEPT_TRANSLATION_CATALOGUES
        and match["locale"] in KEPT_TRANSLATION_LOCALES
    )


def is_unused_qt_library(filename: str) -> bool:
    """True for a Qt module library (``libQt6Charts.so.6``, ``Qt6Pdf.dll``, …) never needed."""
    match = _QT_LIBRARY.match(filename)
    if match is None:
        return False
    name = match["name"]
    if name in REQUIRED_QT_LIBRARIES:
        return False
    return name.lower().startswith(_UNUSED_PREFIXES_LOWER)


def keep_file(dest: str) -> bool:
    """Decide whether a collected file (its destination path in the bundle) is kept."""
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    qt_parts = _qt_root_parts(parts)
    if qt_parts is None:
        if not parts or parts[0] in _TCL_TK_DIRS:
            return False
        if len(parts) == 1 and is_unused_qt_library(parts[0]):
            return False  # the top-level symlink PyInstaller makes to a Qt library
        # Test suites of numpy and PyAV, should a hook collect them as data.
        return not (len(parts) > 1 and parts[0] in {"numpy", "av"} and parts[1] in _TEST_DIRS)
    if not qt_parts:
        return True
    head = qt_parts[0]
    if head == "plugins" and len(qt_parts) >= 3:
        return _keep_plugin(qt_parts[1], qt_parts[-1])
    if head == "translations":
        return _keep_translation(qt_parts[-1])
    if head in {"qml", "resources", "libexec", "metatypes", "typesystems", "include", "doc"}:
        # No QML engine and no QtWebEngine: their data files and helper programs are unused.
        return False
    if head == "lib" and len(qt_parts) >= 2:
        return not is_unused_qt_library(qt_parts[1])
    return not is_unused_qt_library(qt_parts[-1]) if len(qt_parts) == 1 else True


#: Where a Linux distribution keeps its shared libraries (``/usr/local`` is not one of them).
SYSTEM_LIBRARY_DIRS: tuple[str, ...] = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")

#: A PyInstaller TOC entry: (destination in the bundle, source path or link target, typecode).
TocEntry = tuple[str, str, str]


def is_host_system_library(dest: str, src: str, typecode: str) -> bool:
    """True for a shared library PyInstaller copied from the build machine's distribution.

    The .deb declares those as ``Depends:`` instead of shipping the build machine's copies:
    bundled copies of libstdc++, glib or libpulse older than the user's system break GPU
    drivers, GTK and PulseAudio (a classic PyInstaller-on-Linux failure), and they are
    about 35 MB. Python's own ``libpython`` always stays in the bundle.
    """
    if typecode != "BINARY" or "/" in dest.replace("\\", "/"):
        return False
    if dest.startswith("libpython"):
        return False
    return src.startswith(SYSTEM_LIBRARY_DIRS) or os.path.realpath(src).startswith(
        SYSTEM_LIBRARY_DIRS
    )


def filter_collected(
    binaries: Iterable[TocEntry],
    datas: Iterable[TocEntry],
    *,
    platform: str,
    bundle_system_libraries: bool = False,
) -> tuple[list[TocEntry], list[TocEntry]]:
    """Apply :func:`keep_file` (and, on Linux, the system library rule) to Analysis output.

    Symlinks (``SYMLINK`` entries among the datas) whose target was dropped are dropped too,
    so the bundle never contains a dangling link.
    """
    drop_system = platform.startswith("linux") and not bundle_system_libraries
    kept_binaries: list[TocEntry] = []
    dropped: set[str] = set()
    for entry in binaries:
        if keep_file(entry[0]) and not (drop_system and is_host_system_library(*entry)):
            kept_binaries.append(entry)
        else:
            dropped.add(entry[0].replace("\\", "/"))
    remaining = list(datas)
    while True:
        kept_datas: list[TocEntry] = []
        for entry in remaining:
            dest = entry[0].replace("\\", "/")
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(dest), entry[1].replace("\\", "/"))
            )
            if not keep_file(dest) or (entry[2] == "SYMLINK" and target in dropped):
                dropped.add(dest)
            else:
                kept_datas.append(entry)
        if len(kept_datas) == len(remaining):
            return kept_binaries, kept_datas
        remaining = kept_datas


def should_strip(dest: str, src: str, typecode: str, python_prefix: str) -> bool:
    """True for a binary whose debug info :func:`strip_debug_info` removes.

    * the Python runtime: ``libpython`` and the stdlib's extension modules (a pyenv or
      self-built Python carries about 20 MB of debug info there);
    * Python extension modules from wheels (PyAV's Cython modules: 25 MB of debug info).

    Shared libraries that wheels vendor (``numpy.libs``, ``av.libs``, Qt's own) are never
    touched: auditwheel patched them with patchelf, and stripping such a file can break it
    ("ELF load command address/offset not page-aligned", seen with numpy's OpenBLAS).
    """
    real = os.path.realpath(src)
    if "site-packages" in real:
        return typecode == "EXTENSION" and ".libs/" not in dest.replace("\\", "/")
    prefix = os.path.realpath(python_prefix) + os.sep
    return typecode in {"BINARY", "EXTENSION"} and real.startswith(prefix)


def strip_debug_info(
    binaries: Iterable[TocEntry], python_prefix: str, work_dir: Path
) -> list[TocEntry]:
    """Replace the binaries selected by :func:`should_strip` with copies without debug info.

    Uses ``strip --strip-debug`` (symbol tables stay, so nothing that resolves symbols at
    run time can break). Copies go to ``work_dir``; the installed files stay untouched.
    Linux only; without a ``strip`` program the binaries are returned unchanged.
    """
    strip = shutil.which("strip")
    result: list[TocEntry] = []
    for dest, src, typecode in binaries:
        if strip is None or not should_strip(dest, src, typecode, python_prefix):
            result.append((dest, src, typecode))
            continue
        target = work_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(src), target)
        target.chmod(0o755)
        subprocess.run([strip, "--strip-debug", str(target)], check=True)
        result.append((dest, str(target), typecode))
    return result


def tree_size(path: Path) -> int:
    """Bytes in all regular files under ``path`` (symlinks not followed or counted)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total
