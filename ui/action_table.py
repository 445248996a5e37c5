"""Every job action declared once: its text, objectName, shortcut and when it is enabled.

:data:`ACTIONS` is the one table. :class:`ui.job_actions.JobActions` builds a QAction per
row (as an attribute named like the row's ``attr``) and connects it to the handler method
named in ``slot``; :data:`TOOLBAR` and :data:`CONTEXT_MENU` say where they appear. To add an
action: a row here, a handler method on ``JobActions``, and its place in the lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton

from core.jobs import DownloadState, Job, JobState


@dataclass(frozen=True)
class JobFacts:
    """What the enabled-when rules look at, worked out once per selection."""

    job: Job | None
    #: The job was made on the gateway this app talks to now (demo vs real).
    owned: bool

    @property
    def selected(self) -> bool:
        """A job is selected."""
        return self.job is not None

    @property
    def on_disk(self) -> bool:
        """Its video is on this computer."""
        job = self.job
        return job is not None and job.download is DownloadState.DONE and bool(job.files)

    @property
    def remote(self) -> bool:
        """The gateway still has it, and it is this gateway's job."""
        job = self.job
        return (
            job is not None
            and job.remote_id is not None
            and not job.deleted_on_server
            and self.owned
        )

    @property
    def linkable(self) -> bool:
        """A signed link can be made for it."""
        return self.remote and self.job is not None and self.job.state is JobState.COMPLETED

    @property
    def deletable(self) -> bool:
        """Its server copy can be deleted."""
        job = self.job
        return (
            self.remote and job is not None and job.state in (JobState.COMPLETED, JobState.FAILED)
        )

    @property
    def downloadable(self) -> bool:
        """Its video waits to be fetched and no fetch is running."""
        job = self.job
        return job is not None and job.wants_download and job.download is not DownloadState.ACTIVE


@dataclass(frozen=True)
class ActionSpec:
    """One action: how it looks, which key runs it, and when it is enabled."""

    attr: str
    text: str
    object_name: str
    shortcut: str | None
    slot: str
    #: ``None``: not tied to the selection (always enabled unless the handler says otherwise).
    enabled_when: Callable[[JobFacts], bool] | None = None
    #: The key works only in the job views, table and gallery (Del and Return edit text elsewhere).
    table_only: bool = False


def _selected(facts: JobFacts) -> bool:
    return facts.selected


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "preview", "Preview", "previewAction", "Return", "preview_selected",
        lambda f: f.on_disk, table_only=True,
    ),
    ActionSpec(
        "save_as", "Save as…", "saveAsAction", "Ctrl+S", "save_selected", lambda f: f.on_disk
    ),
    ActionSpec(
        "copy_link", "Copy download link", "copyLinkAction", "Ctrl+L", "copy_link_selected",
        lambda f: f.linkable,
    ),
    ActionSpec(
        "open_folder", "Open containing folder", "openFolderAction", "Ctrl+Shift+O",
        "open_folder_selected", lambda f: f.on_disk,
    ),
    ActionSpec("resubmit", "Resubmit", "resubmitAction", "Ctrl+R", "resubmit_selected", _selected),
    ActionSpec(
        "copy_diagnostics", "Copy diagnostics", "copyDiagnosticsAction", "Ctrl+Shift+C",
        "copy_diagnostics_selected", _selected,
    ),
    ActionSpec(
        "export_diagnostics", "Export diagnostics…", "exportDiagnosticsAction", None,
        "export_diagnostics_selected", _selected,
    ),
    ActionSpec(
        "delete_on_server", "Delete on server…", "deleteOnServerAction", "Shift+Del",
        "delete_selected", lambda f: f.deletable,
    ),
    ActionSpec(
        "remove", "Remove from list", "removeAction", "Del", "remove_selected", _selected,
        table_only=True,
    ),
    ActionSpec("undo_remove", "Undo remove", "undoRemoveAction", "Ctrl+Z", "undo_last_remove"),
    ActionSpec("refresh", "Refresh", "refreshAction", "F5", "refresh_selected"),
    ActionSpec(
        "download", "Retry download", "downloadAction", "Ctrl+D", "download_pending",
        lambda f: f.downloadable,
    ),
    ActionSpec("settings", "Settings", "settingsAction", "Ctrl+,", "open_settings"),
    ActionSpec("find", "Find", "findAction", "Ctrl+F", "focus_search"),
)  # fmt: skip

#: The toolbar, left to right (``None``: a separator): the actions a creator uses most, so
#: that with the set and pane buttons it fits a 1280-pixel-wide window without an overflow.
TOOLBAR: tuple[str | None, ...] = (
    "preview", "save_as", None,
    "resubmit", "refresh", None,
    "settings",
)  # fmt: skip
#: The toolbar's "More" menu, top to bottom (the context menu and the keys have them too).
TOOLBAR_MORE: tuple[str | None, ...] = (
    "copy_link", "open_folder", "download", None,
    "copy_diagnostics", "export_diagnostics", None,
    "delete_on_server", "remove",
)  # fmt: skip
#: The job's context menu, top to bottom; ``"picks"`` is where Keep and Rating go.
CONTEXT_MENU: tuple[str | None, ...] = (
    "preview", "save_as", "copy_link", "open_folder", None,
    "resubmit", "refresh", "download", None,
    "picks", None,
    "copy_diagnostics", "export_diagnostics", None,
    "delete_on_server", "remove",
)  # fmt: skip


def build_action(spec: ActionSpec, slot: Callable[[], object], parent: QObject) -> QAction:
    """The QAction for ``spec``, running ``slot`` when triggered."""
    action = QAction(spec.text, parent)
    action.setObjectName(spec.object_name)
    if spec.shortcut:
        keys = QKeySequence(spec.shortcut)
        action.setShortcut(keys)
        native = keys.toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{spec.text.rstrip('…')} ({native})")
    if spec.table_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def add_all(target: QToolBar | QMenu, items: Sequence[QAction | None]) -> None:
    """Add actions in order; ``None`` adds a separator."""
    for item in items:
        if item is None:
            target.addSeparator()
        else:
            target.addAction(item)


def more_button(toolbar: QToolBar, actions: Mapping[str, QAction]) -> QToolButton:
    """The toolbar's "More" button: the job actions of :data:`TOOLBAR_MORE`, in a menu."""
    menu = QMenu(toolbar)
    menu.setObjectName("moreActionsMenu")
    add_all(menu, [None if name is None else actions[name] for name in TOOLBAR_MORE])
    button = QToolButton(toolbar)
    button.setObjectName("moreActionsButton")
    button.setAccessibleName("More job actions")
    button.setText("More")
    button.setToolTip("More actions for the selected job")
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    return button
