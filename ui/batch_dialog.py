"""The Batch dialog: many prompts (pasted or from a .txt/.csv), previewed with their cost, sent.

Pasted text holds one prompt per line; an imported CSV has a header row with a ``prompt``
column and optional model/duration/aspect_ratio columns (see :mod:`core.batch_file`).
Rows that leave a value out take the dialog's model and duration (each fitted to its model's
nearest valid value); seeds per prompt make variations on models that take a seed. The
preview lists every job and the total estimated cost; Send stays disabled while any row has
a problem, and every problem names its line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.batch_file import (
    BatchDefaults,
    BatchInput,
    is_csv,
    parse_batch_text,
    plan_batch,
    read_batch_text,
)
from core.catalogue import ModelInfo, find_model
from core.job_sets import (
    MAX_VARIATIONS,
    Estimator,
    PlannedJob,
    nearest_duration,
    price_text,
    seeds_for,
    total_estimate,
    with_estimates,
)
from core.jobs import JobParams
from ui.offthread import Submit, run_task

#: How long typing pauses before the preview is rebuilt.
PREVIEW_DEBOUNCE_MS = 250
_HEADERS = ("#", "Line", "Prompt", "Model", "Duration", "Aspect", "Seed", "Estimate", "Adjusted")
_PROMPT_COLUMN = 2


@dataclass(frozen=True)
class BatchRequest:
    """What the dialog asks to send: the planned jobs, in order."""

    jobs: list[PlannedJob]

    @property
    def total_text(self) -> str:
        """The estimated total ("$1.20" or "price unknown")."""
        return price_text(total_estimate(self.jobs))


class BatchDialog(QDialog):
    """Many prompts in, a checked and priced list of jobs out."""

    def __init__(
        self,
        models: list[ModelInfo],
        defaults: JobParams,
        *,
        estimate: Estimator | None = None,
        submit: Submit | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """Build the dialog for ``models``, starting from the composer's ``defaults``.

        ``estimate`` prices one job (None: "price unknown"); with ``submit`` (a worker
        pool's submit) files are read and prices asked for off the GUI thread.
        """
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setAccessibleName("Batch of prompts")
        self.setWindowTitle("Batch")
        self._models = list(models)
        self._defaults = defaults
        self._estimate = estimate
        self._submit = submit
        #: Bumped by every refresh, so a late price answer for older text is dropped.
        self._generation = 0
        self._source = BatchInput()
        self.plan: list[PlannedJob] = []
        self.problems: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self.refresh()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        self.prompts_edit = QPlainTextEdit(self)
        self.prompts_edit.setObjectName("batchPromptsEdit")
        self.prompts_edit.setAccessibleName("Prompts, one per line")
        self.prompts_edit.setPlaceholderText("One prompt per line… (# starts a comment)")
        self.prompts_edit.setTabChangesFocus(True)
        self.prompts_edit.textChanged.connect(self._timer.start)
        self.csv_check = QCheckBox("The text is &CSV with a header row", self)
        self.csv_check.setObjectName("batchCsvCheck")
        self.csv_check.toggled.connect(self.refresh)
        self.import_button = QPushButton("&Import .txt or .csv…", self)
        self.import_button.setObjectName("batchImportButton")
        self.import_button.setAccessibleName("Import prompts from a file")
        self.import_button.clicked.connect(self._choose_file)
        self.import_note = QLabel(self)
        self.import_note.setObjectName("batchImportNote")
        self.import_note.setWordWrap(True)

        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("batchModelCombo")
        self.model_combo.setAccessibleName("Model for rows that name none")
        for model in self._models:
            self.model_combo.addItem(model.name, model.id)
            self.model_combo.setItemData(self.model_combo.count() - 1, model.id,
                                         Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        chosen = find_model(self._models, self._defaults.model)
        self.model_combo.setCurrentIndex(
            max(0, self.model_combo.findData(chosen.id)) if chosen else 0
        )
        self.model_combo.currentIndexChanged.connect(self.refresh)
        self.duration_spin = QSpinBox(self)
        self.duration_spin.setObjectName("batchDurationSpin")
        self.duration_spin.setAccessibleName("Duration for rows that give none")
        self.duration_spin.setRange(1, 120)
        self.duration_spin.setSuffix(" s")
        self.duration_spin.setValue(max(1, self._defaults.duration))
        self.duration_spin.setToolTip("Each job gets its model's nearest valid duration")
        self.duration_spin.valueChanged.connect(self.refresh)
        self.seeds_spin = QSpinBox(self)
        self.seeds_spin.setObjectName("batchVariationsSpin")
        self.seeds_spin.setAccessibleName("Seed variations per prompt")
        self.seeds_spin.setRange(1, MAX_VARIATIONS)
        self.seeds_spin.setToolTip("Several videos per prompt, each with its own seed")
        self.seeds_spin.valueChanged.connect(self.refresh)
        form = QFormLayout()
        for text, field in (
            ("&Model:", self.model_combo),
            ("&Duration:", self.duration_spin),
            ("&Variations (seeds):", self.seeds_spin),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            form.addRow(label, field)

        self.table = QTableWidget(0, len(_HEADERS), self)
        self.table.setObjectName("batchPreviewTable")
        self.table.setAccessibleName("Jobs the batch will send")
        self.table.setHorizontalHeaderLabels(_HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_PROMPT_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("batchTotal")
        self.total_label.setAccessibleName("Jobs and estimated total")
        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("batchProblems")
        self.problems_label.setAccessibleName("Problems with the batch")
        self.problems_label.setWordWrap(True)
        self.problems_label.setProperty("tone", "problem")
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox(self)
        self.send_button = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("batchSendButton")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        source_row = QHBoxLayout()
        source_row.addWidget(self.import_button)
        source_row.addWidget(self.csv_check)
        source_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Prompts:", self))
        layout.addWidget(self.prompts_edit, 2)
        layout.addLayout(source_row)
        layout.addWidget(self.import_note)
        layout.addLayout(form)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.total_label)
        layout.addWidget(self.buttons)
        self.resize(820, 640)

    # -- input --------------------------------------------------------------------------------

    def set_text(self, text: str, *, csv_format: bool = False) -> None:
        """Put prompts in (as pasted, or a file's text) and preview them at once."""
        self.csv_check.setChecked(csv_format)
        self.prompts_edit.setPlainText(text)
        self.refresh()

    def _choose_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "Import prompts", "", "Prompt files (*.txt *.csv);;All files (*)"
        )
        if name:
            self.import_file(Path(name))

    def import_file(self, path: Path) -> None:
        """Read ``path`` (off the GUI thread when a reader is given) into the prompts."""
        self.import_note.setText(f"Reading {path.name}…")

        def done(text: str | None, problem: str | None) -> None:
            if text is None:
                self.import_note.setText(problem or f"Cannot read {path.name}.")
                return
            self.import_note.setText(f"Imported {path.name}.")
            self.set_text(text, csv_format=is_csv(path))

        if self._submit is None:
            done(*read_batch_text(path))
            return
        run_task(
            self._submit,
            read_batch_text,
            path,
            on_result=lambda result: done(*result),
            on_error=lambda error: done(None, f"Cannot read {path.name}: {error}"),
            receiver=self,
        )

    # -- preview ------------------------------------------------------------------------------

    def _batch_defaults(self) -> BatchDefaults:
        model_id = str(self.model_combo.currentData() or self._defaults.model)
        model = find_model(self._models, model_id)
        params = replace(
            self._defaults,
            model=model_id,
            prompt="",
            duration=nearest_duration(model, self.duration_spin.value()),
        )
        count = self.seeds_spin.value()
        seeds = tuple(seeds_for(count, self._defaults.seed)) if count > 1 else ()
        return BatchDefaults(params, seeds=seeds)

    def refresh(self) -> None:
        """Re-read the prompts and rebuild the preview, the problems and the total."""
        self._timer.stop()
        text = self.prompts_edit.toPlainText()
        self._source = parse_batch_text(text, csv_format=self.csv_check.isChecked())
        batch = plan_batch(self._source.rows, self._models, self._batch_defaults())
        self._generation += 1
        self.plan = batch.jobs
        self.problems = (self._source.problems + batch.problems) if text.strip() else []
        self.pricing = self._estimate is not None and bool(self.plan) and not self.problems
        if self.pricing and self._submit is not None:
            generation = self._generation
            run_task(
                self._submit,
                with_estimates,
                self.plan,
                self._models,
                self._estimate,
                on_result=lambda priced: self._priced(generation, priced),
                on_error=lambda _error: self._priced(generation, self.plan),
                receiver=self,
            )
        elif self.pricing:
            self.plan = with_estimates(self.plan, self._models, self._estimate)
            self.pricing = False
        self._show_plan()

    def _priced(self, generation: int, priced: list[PlannedJob]) -> None:
        if generation == self._generation:
            self.plan = priced
            self.pricing = False
            self._show_plan()

    def _show_plan(self) -> None:
        self._fill_table()
        notes = " ".join(self._source.notes)
        shown = self.problems[:12] + ([f"…and {len(self.problems) - 12} more."]
                                      if len(self.problems) > 12 else [])  # fmt: skip
        self.problems_label.setText("\n".join(shown))
        self.problems_label.setVisible(bool(shown))
        count = len(self.plan)
        total = price_text(total_estimate(self.plan)) if self.plan else "$0.00"
        total = "working it out…" if self.pricing else total
        self.total_label.setText(
            f"{count} job{'s' if count != 1 else ''} · estimated total: {total}"
            + (f" · {notes}" if notes else "")
        )
        ok = bool(self.plan) and not self.problems
        self.send_button.setEnabled(ok)
        self.send_button.setText(f"Send {count} job{'s' if count != 1 else ''}" if ok else "Send")

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.plan))
        for row, job in enumerate(self.plan):
            params = job.params
            estimate = price_text(job.estimate) if job.estimate is not None else "unknown"
            estimate = "…" if self.pricing else estimate
            cells = (
                str(row + 1),
                job.source.removeprefix("line "),
                params.prompt.replace("\n", " "),
                job.model_name,
                f"{params.duration} s",
                params.size or params.aspect_ratio or "default",
                "" if params.seed is None else str(params.seed),
                estimate,
                ", ".join(job.adjusted),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == _PROMPT_COLUMN + 1:
                    item.setToolTip(params.model)
                if column == _PROMPT_COLUMN:
                    item.setToolTip(params.prompt[:1000])
                self.table.setItem(row, column, item)

    def accept(self) -> None:
        """Send: with the text as typed last (a pending preview is rebuilt first)."""
        if self._timer.isActive():
            self.refresh()
        if self.request() is not None:
            super().accept()

    def request(self) -> BatchRequest | None:
        """The jobs to send, or None while there is a problem."""
        if not self.plan or self.problems:
            return None
        return BatchRequest(list(self.plan))

    @classmethod
    def ask(
        cls,
        parent: QWidget,
        models: list[ModelInfo],
        defaults: JobParams,
        *,
        estimate: Estimator | None = None,
        submit: Submit | None = None,
        text: str = "",
    ) -> BatchRequest | None:
        """Show the dialog and return the jobs to send, or None if cancelled.

        ``text``, when given, is batch CSV put in the dialog first. Tests fake this method.
        """
        dialog = cls(models, defaults, estimate=estimate, submit=submit, parent=parent)
        if text:
            dialog.set_text(text, csv_format=True)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.request()
        finally:
            dialog.deleteLater()
