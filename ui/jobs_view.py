"""The job list: a filterable, searchable, sortable table with progress bars for running jobs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.jobs import MAX_RATING, Job
from ui.gallery_frames import GalleryFrames
from ui.gallery_view import GalleryView
from ui.job_columns import fit_prompt, set_up_columns
from ui.jobs_model import Column, JobRole, JobsModel, ProgressRole

# The filter and the proxy live in ui.jobs_proxy (bulk filtering for long histories);
# imported here under their old home too.
from ui.jobs_proxy import JobFilter, JobsFilterProxy
from ui.set_filter_bar import SetFilterBar
from ui.view_mode import ViewMode, ViewModeToggle

Index = QModelIndex | QPersistentModelIndex
SelectionFlag = QItemSelectionModel.SelectionFlag
SEARCH_DEBOUNCE_MS = 150


def fitted_words(words: str, metrics: QFontMetrics, width: int) -> str:
    """``words`` cut to ``width`` pixels at the end with an ellipsis (the tooltip has them all).

    A progress bar centres its text, so words wider than the bar would lose both ends.
    """
    return metrics.elidedText(words, Qt.TextElideMode.ElideRight, max(width, 0))


class StatusDelegate(QStyledItemDelegate):
    """Draws the Status cell of a running job as a progress bar with the status words on it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """A progress bar when the model gives a :data:`ProgressRole`, else the plain cell."""
        progress = index.data(ProgressRole)
        if progress is None:
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 5, -3, -5)
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        bar.direction = option.direction
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = int(progress)
        words = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.text = fitted_words(words, option.fontMetrics, bar.rect.width() - 8)
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class JobsView(QWidget):
    """The filter box, the search box and the table, over a :class:`JobsModel`."""

    #: The selected job changed (a Job, or None when nothing is selected).
    selection_changed = Signal(object)
    #: A row was double-clicked or Enter was pressed on it.
    job_activated = Signal(object)
    #: The context menu was asked for at this global position.
    context_menu_requested = Signal(QPoint)

    def __init__(
        self,
        model: JobsModel,
        parent: QWidget | None = None,
        *,
        frames: GalleryFrames | None = None,
    ) -> None:
        """Build the filter row, the table and the gallery over ``model``."""
        super().__init__(parent)
        self.model = model
        self.proxy = JobsFilterProxy(self)
        self.proxy.setSourceModel(model)

        self.filter_combo = QComboBox(self)
        self.filter_combo.setObjectName("jobFilter")
        self.filter_combo.setAccessibleName("Job filter")
        self.filter_combo.setToolTip("Which jobs to list")
        for choice in JobFilter:
            if choice is JobFilter.POLICY:  # the failure classes follow, set apart
                self.filter_combo.insertSeparator(self.filter_combo.count())
            self.filter_combo.addItem(choice.value, choice)
            if choice.failure_class is not None:
                self.filter_combo.setItemData(
                    self.filter_combo.count() - 1,
                    f"Jobs that went wrong this way: {choice.value.lower()}",
                    Qt.ItemDataRole.ToolTipRole,
                )
        self.filter_combo.currentIndexChanged.connect(self._on_filter_changed)
        filter_label = QLabel("&Show:", self)
        filter_label.setBuddy(self.filter_combo)
        self.rating_combo = QComboBox(self)
        self.rating_combo.setObjectName("minRatingFilter")
        self.rating_combo.setAccessibleName("Minimum rating")
        self.rating_combo.setToolTip("List only jobs rated at least this many stars")
        self.rating_combo.addItem("Any rating", 0)
        for rating in range(1, MAX_RATING + 1):
            self.rating_combo.addItem(f"{'★' * rating}{'+' if rating < MAX_RATING else ''}", rating)
        self.rating_combo.currentIndexChanged.connect(self._on_rating_changed)

        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setAccessibleName("Search prompts")
        self.search_edit.setPlaceholderText("Search prompts (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        # The job list must fit between the composer and the preview at 1280x800: the combo
        # boxes show their longest choice in the popup, not in the closed box.
        self.search_edit.setMinimumWidth(90)
        for combo in (self.filter_combo, self.rating_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(9)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_edit.textChanged.connect(self._search_timer.start)

        self.table = QTableView(self)
        self.table.setObjectName("jobsTable")
        self.table.setAccessibleName("Jobs")
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(Column.STATUS, StatusDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.activated.connect(self._on_double_clicked)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(46)
        self.table.setIconSize(QSize(72, 40))
        set_up_columns(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.gallery = GalleryView(
            self.proxy, self.table.selectionModel(), frames, model.model_name, self
        )
        self.gallery.doubleClicked.connect(self._on_double_clicked)
        self.gallery.activated.connect(self._on_double_clicked)
        self.gallery.customContextMenuRequested.connect(self._on_gallery_menu)
        # A filter or search change resets the proxy: keep the selected job selected. (After
        # both views exist: each view's own reset clears the shared selection.)
        self._kept_selection: str | None = None
        self.proxy.modelAboutToBeReset.connect(self._remember_selection)
        self.proxy.modelReset.connect(self._restore_selection)
        self.views = QStackedWidget(self)
        self.views.setObjectName("jobViews")
        self.views.addWidget(self.table)
        self.views.addWidget(self.gallery)
        self.mode_toggle = ViewModeToggle(self)
        self.mode_toggle.mode_chosen.connect(self.set_mode)

        self.set_bar = SetFilterBar(self)
        self.set_bar.cleared.connect(lambda: self.show_set(None))

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter_combo)
        top.addWidget(self.rating_combo)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.mode_toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.set_bar)
        layout.addWidget(self.views, 1)
        self.setTabOrder(self.filter_combo, self.rating_combo)
        self.setTabOrder(self.rating_combo, self.search_edit)
        self.setTabOrder(self.search_edit, self.mode_toggle.table_button)
        self.setTabOrder(self.mode_toggle.table_button, self.mode_toggle.gallery_button)
        self.setTabOrder(self.mode_toggle.gallery_button, self.table)
        self.setTabOrder(self.table, self.gallery)

    # -- table or gallery ---------------------------------------------------------------------

    @property
    def item_views(self) -> tuple[QAbstractItemView, ...]:
        """The views that show the jobs (the job actions' keys work in each)."""
        return (self.table, self.gallery)

    @property
    def mode(self) -> ViewMode:
        """Which view shows the jobs."""
        return ViewMode.GALLERY if self.views.currentWidget() is self.gallery else ViewMode.TABLE

    def current_view(self) -> QAbstractItemView:
        """The table or the gallery, whichever is shown."""
        return self.gallery if self.mode is ViewMode.GALLERY else self.table

    def set_mode(self, mode: ViewMode) -> None:
        """Show the jobs as a table or as a gallery (the selection and filters stay)."""
        had_focus = self.current_view().hasFocus()
        view = self.gallery if mode is ViewMode.GALLERY else self.table
        self.views.setCurrentWidget(view)
        self.mode_toggle.show_mode(mode)
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            view.scrollTo(current)
        if had_focus:
            view.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- selection ----------------------------------------------------------------------------

    def selected_job(self) -> Job | None:
        """The selected job (its newest listed version), if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        job = rows[0].data(JobRole)
        return job if isinstance(job, Job) else None

    def select_job(self, local_id: str) -> bool:
        """Select a job's row (clearing the filter if it hides the job); False if not listed."""
        source_row = self.model.row_of(local_id)
        if source_row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, Column.PROMPT))
        if not index.isValid():
            self.filter_combo.setCurrentIndex(0)
            self.rating_combo.setCurrentIndex(0)
            self.show_set(None)
            self.search_edit.clear()
            self._apply_search()
            index = self.proxy.mapFromSource(self.model.index(source_row, Column.PROMPT))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.current_view().scrollTo(index)
        return True

    def _on_selection(self, *_args: Any) -> None:
        self.selection_changed.emit(self.selected_job())

    def _remember_selection(self) -> None:
        job = self.selected_job()
        self._kept_selection = job.local_id if job is not None else None

    def _restore_selection(self) -> None:
        local_id, self._kept_selection = self._kept_selection, None
        source_row = self.model.row_of(local_id) if local_id is not None else None
        index = (
            self.proxy.mapFromSource(self.model.index(source_row, Column.PROMPT))
            if source_row is not None
            else None
        )
        if index is not None and index.isValid():
            self.table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self._on_selection()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        job = index.data(JobRole)
        if isinstance(job, Job):
            self.job_activated.emit(job)

    def _on_context_menu(self, position: QPoint) -> None:
        self.context_menu_requested.emit(self.table.viewport().mapToGlobal(position))

    def _on_gallery_menu(self, position: QPoint) -> None:
        index = self.gallery.indexAt(position)
        if index.isValid():  # the menu is about the card under the pointer
            self.gallery.selectionModel().setCurrentIndex(
                index, SelectionFlag.ClearAndSelect | SelectionFlag.Rows
            )
        self.context_menu_requested.emit(self.gallery.viewport().mapToGlobal(position))

    # -- filters ------------------------------------------------------------------------------

    def _on_filter_changed(self, _index: int) -> None:
        choice = self.filter_combo.currentData()
        self.proxy.set_filter(JobFilter(choice) if choice else JobFilter.ALL)

    def _on_rating_changed(self, _index: int) -> None:
        self.proxy.set_min_rating(int(self.rating_combo.currentData() or 0))

    def _apply_search(self) -> None:
        self._search_timer.stop()
        self.proxy.set_search(self.search_edit.text())

    def show_set(self, set_id: str | None, text: str | None = None) -> None:
        """List only one compare set or batch (``None``: every job), said in the bar above."""
        self.proxy.set_job_set(set_id)
        self.set_bar.show_set(None if set_id is None else text or "Showing one linked set")

    def focus_search(self) -> None:
        """Put the cursor in the search box (Ctrl+F)."""
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    # -- remembered layout --------------------------------------------------------------------

    def save_state(self) -> dict[str, Any]:
        """Column widths/order/sort and the filter choice, JSON-safe."""
        header_state = self.table.horizontalHeader().saveState()
        return {
            "header": bytes(header_state.toBase64().data()).decode("ascii"),
            "filter": self.proxy.job_filter.value,
            "min_rating": self.proxy.min_rating,
            "view": self.mode.value,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Undo :meth:`save_state` (bad or missing values are ignored)."""
        header = state.get("header")
        if isinstance(header, str) and header:
            self.table.horizontalHeader().restoreState(QByteArray.fromBase64(header.encode()))
            fit_prompt(self.table)
        choice = state.get("filter")
        if isinstance(choice, str):
            position = self.filter_combo.findText(choice)
            if position >= 0:
                self.filter_combo.setCurrentIndex(position)
        self.set_mode(ViewMode.parse(state.get("view")))
        rating = state.get("min_rating")
        if isinstance(rating, int) and not isinstance(rating, bool):
            position = self.rating_combo.findData(rating)
            if position >= 0:
                self.rating_combo.setCurrentIndex(position)
