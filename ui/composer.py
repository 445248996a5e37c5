"""The composer: write a prompt, pick a model and its allowed values, and submit a job.

Every input offers only what the chosen model accepts (from the catalogue), problems are
shown next to the field they concern, and Submit stays disabled until the request is valid.
Ctrl+Enter submits from anywhere in the composer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import ModelInfo, find_model
from core.image_rules import with_images
from core.jobs import MAX_PROMPT_CHARS, Job, JobParams
from core.validation import Problem, validate
from ui.compare_picker import ComparePicker
from ui.composer_fields import (
    AdvancedSection,
    DurationField,
    configure_aspects,
    problem_label,
    set_problem,
    submit_result_text,
    with_problem,
)
from ui.image_input import ImageInputs
from ui.theme import set_tone

_SUBMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _is_submit_key(event: QKeyEvent) -> bool:
    return event.key() in _SUBMIT_KEYS and bool(
        event.modifiers() & Qt.KeyboardModifier.ControlModifier
    )


class Composer(QWidget):
    """The form that describes one video and asks for it."""

    #: ``(JobParams, parent local id or None)``: the user asked to generate this video.
    submit_requested = Signal(object, object)
    #: The form was re-checked after a change (the cost estimate follows it).
    changed = Signal()
    #: ``(JobParams, [ModelInfo])``: the same prompt on each model, as one compare set.
    compare_requested = Signal(object, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build an empty form; it fills in once the models arrive."""
        super().__init__(parent)
        self.setObjectName("composer")
        self._models: list[ModelInfo] = []
        self._pending: dict[str, Any] | None = None
        self._parent_id: str | None = None
        self._busy = False
        self._problems: list[Problem] = []
        #: Problems are shown once the person typed a prompt or pressed Generate, never in
        #: red on a window just opened.
        self._speaking = False
        self._build()
        self.refresh()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setPlaceholderText("Describe the video you want…")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setMinimumHeight(110)
        self.prompt_edit.installEventFilter(self)
        self.prompt_edit.textChanged.connect(self._on_prompt_edited)
        self.counter = QLabel(self)
        self.counter.setObjectName("promptCounter")
        self.counter.setAccessibleName("Prompt length")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.prompt_problem = problem_label("promptProblem", self)

        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_problem = problem_label("modelProblem", self)
        self.source_label = QLabel(self)
        self.source_label.setObjectName("catalogueSource")
        self.source_label.setAccessibleName("Where the model list came from")
        self.source_label.setText("Loading models…")

        self.duration = DurationField(self)
        self.duration.configure(None)
        self.duration.changed.connect(self.refresh)
        self.duration_problem = problem_label("durationProblem", self)

        self.aspect_combo = QComboBox(self)
        self.aspect_combo.setObjectName("aspectRatioCombo")
        self.aspect_combo.setAccessibleName("Aspect ratio")
        self.aspect_combo.currentIndexChanged.connect(self.refresh)
        self.aspect_problem = problem_label("aspectRatioProblem", self)
        #: Which request field the combo fills: ``aspect_ratio``, or ``size`` for size-only models.
        self._shape_field = "aspect_ratio"

        self.images = ImageInputs(self)
        self.images.changed.connect(self.refresh)

        self.advanced_toggle = QToolButton(self)
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setAccessibleName("Show advanced options")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        self.advanced = AdvancedSection(self)
        self.advanced.setVisible(False)
        self.advanced.changed.connect(self.refresh)

        self.compare_picker = ComparePicker(self)
        self.compare_picker.changed.connect(self.refresh)

        self.parent_label = QLabel(self)
        self.parent_label.setObjectName("resubmitNote")
        self.parent_label.setWordWrap(True)
        self.parent_clear = QToolButton(self)
        self.parent_clear.setText("Start fresh")
        self.parent_clear.setAccessibleName("Do not link to the earlier job")
        self.parent_clear.clicked.connect(lambda: self.set_parent(None))

        self.submit_button = QPushButton("&Generate", self)
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setAccessibleName("Generate video")
        self.submit_button.setToolTip("Generate the video (Ctrl+Enter)")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.submit_error = QLabel(self)
        self.submit_error.setObjectName("submitError")
        self.submit_error.setAccessibleName("Submission problem")
        self.submit_error.setWordWrap(True)
        self.submit_error.setProperty("tone", "problem")
        self.submit_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.submit_error.setVisible(False)
        self.submit_note = QLabel(self)
        self.submit_note.setObjectName("submitNote")
        self.submit_note.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        model_cell = QWidget(self)
        model_layout = QVBoxLayout(model_cell)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.setSpacing(2)
        model_layout.addWidget(self.model_combo)
        model_layout.addWidget(self.source_label)
        model_layout.addWidget(self.model_problem)
        model_label = QLabel("&Model:", self)
        model_label.setBuddy(self.model_combo)
        form.addRow(model_label, model_cell)
        duration_label = QLabel("&Duration:", self)
        duration_label.setBuddy(self.duration)
        form.addRow(duration_label, with_problem(self.duration, self.duration_problem, self))
        self.aspect_label = QLabel("&Aspect ratio:", self)
        self.aspect_label.setBuddy(self.aspect_combo)
        form.addRow(self.aspect_label, with_problem(self.aspect_combo, self.aspect_problem, self))

        prompt_label = QLabel("&Prompt", self)
        prompt_label.setBuddy(self.prompt_edit)
        prompt_head = QHBoxLayout()
        prompt_head.addWidget(prompt_label)
        prompt_head.addStretch(1)
        prompt_head.addWidget(self.counter)
        parent_row = QHBoxLayout()
        parent_row.addWidget(self.parent_label, 1)
        parent_row.addWidget(self.parent_clear)
        submit_row = QHBoxLayout()
        submit_row.addStretch(1)
        submit_row.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.addLayout(prompt_head)
        layout.addWidget(self.prompt_edit, 1)
        layout.addWidget(self.prompt_problem)
        layout.addLayout(form)
        layout.addWidget(self.images)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        layout.addWidget(self.compare_picker)
        layout.addLayout(parent_row)
        #: Where the cost estimate (ui.cost_estimate) sits, right above Generate.
        self.cost_slot = QVBoxLayout()
        self.cost_slot.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.cost_slot)
        layout.addLayout(submit_row)
        layout.addWidget(self.submit_error)
        layout.addWidget(self.submit_note)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.set_parent(None)

        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.submit)
        self.setTabOrder(self.prompt_edit, self.model_combo)
        self.setTabOrder(self.model_combo, self.duration)
        self.setTabOrder(self.duration, self.aspect_combo)
        self.setTabOrder(self.aspect_combo, self.images.add_url_button)
        self.setTabOrder(self.images.add_url_button, self.images.add_file_button)
        self.setTabOrder(self.images.add_file_button, self.advanced_toggle)
        self.setTabOrder(self.advanced_toggle, self.compare_picker.button)
        self.setTabOrder(self.compare_picker.button, self.compare_picker.list)
        self.setTabOrder(self.compare_picker.list, self.submit_button)

    # -- the catalogue ------------------------------------------------------------------------

    @property
    def duration_input(self) -> QWidget:
        """The current duration control (a list or a spin box, named ``durationInput``)."""
        return self.duration.input

    @property
    def models(self) -> list[ModelInfo]:
        """The models offered."""
        return list(self._models)

    def current_model(self) -> ModelInfo | None:
        """The chosen model's catalogue entry."""
        model_id = self.model_combo.currentData()
        return find_model(self._models, model_id) if isinstance(model_id, str) else None

    def set_models(self, models: list[ModelInfo], source: str) -> None:
        """Offer ``models``; ``source`` says where they came from ("live", "cached (...)", ...)."""
        wanted = self._pending or {}
        current = wanted.get("model") or self.model_combo.currentData()
        self._models = list(models)
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in self._models:
            self.model_combo.addItem(model.name, model.id)
            self.model_combo.setItemData(
                self.model_combo.count() - 1, model.id, Qt.ItemDataRole.ToolTipRole
            )
        position = -1
        if isinstance(current, str):
            chosen = find_model(self._models, current)
            position = self.model_combo.findData(chosen.id) if chosen else -1
        self.model_combo.setCurrentIndex(max(0, position) if self._models else -1)
        self.model_combo.blockSignals(False)
        self.compare_picker.set_models(self._models, self.model_combo.currentData())
        text = "" if source == "live" else f"Models: {source}"
        self.source_label.setText(text)
        self.source_label.setVisible(bool(text))
        self._on_model_changed()

    def _on_model_changed(self, _index: int = -1) -> None:
        model = self.current_model()
        self.duration.configure(model.durations if model is not None else None)
        # Size-only models (the Sora family) offer their sizes in the same place.
        self._shape_field = configure_aspects(self.aspect_combo, model)
        sized = self._shape_field == "size"
        self.aspect_label.setText("&Size:" if sized else "&Aspect ratio:")
        self.aspect_combo.setAccessibleName("Size" if sized else "Aspect ratio")
        self.advanced.configure(model)
        self.images.configure(model)
        self.advanced_toggle.setEnabled(bool(self.advanced.supported))
        self.advanced_toggle.setToolTip(
            "" if self.advanced.supported else "This model has no advanced options"
        )
        if self._pending is not None and self._models:
            self._apply(self._pending)
            self._pending = None
        self.refresh()

    # -- values -------------------------------------------------------------------------------

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "model": self.model_combo.currentData() or "",
            "prompt": self.prompt_edit.toPlainText(),
            "duration": self.duration.value(),
            "aspect_ratio": None,
            "size": None,
            self._shape_field: self.aspect_combo.currentData(),
        }
        values.update(self.advanced.values())
        return values

    def params(self) -> JobParams:
        """The request as the form stands (may be invalid: see :meth:`problems`)."""
        values = self._values()
        if values["duration"] is None:
            values["duration"] = 0
        return with_images(JobParams.from_dict(values), self.images.images(), self.current_model())

    def _apply(self, values: dict[str, Any]) -> None:
        duration = values.get("duration")
        if isinstance(duration, int):
            self.duration.set_value(duration)
        aspect = values.get(self._shape_field)
        position = self.aspect_combo.findData(aspect) if isinstance(aspect, str) else -1
        if position >= 0:
            self.aspect_combo.setCurrentIndex(position)
        self.advanced.apply(values)

    def restore(self, values: dict[str, Any]) -> None:
        """Bring back the last used settings (the prompt is restored too when saved)."""
        prompt = values.get("prompt")
        if isinstance(prompt, str) and prompt:
            self.prompt_edit.setPlainText(prompt)
        self._pending = dict(values)
        if self._models:
            self._select_pending_model()

    def _select_pending_model(self) -> None:
        wanted = (self._pending or {}).get("model")
        chosen = find_model(self._models, wanted) if isinstance(wanted, str) else None
        position = self.model_combo.findData(chosen.id) if chosen is not None else -1
        if position >= 0 and position != self.model_combo.currentIndex():
            self.model_combo.setCurrentIndex(position)  # applies the values
        else:
            self._on_model_changed()

    def fill_from(self, params: JobParams, parent_id: str | None = None) -> None:
        """Load a job's request into the form (Resubmit); the next submit links ``parent_id``."""
        self.prompt_edit.setPlainText(params.prompt)
        self.set_parent(parent_id)
        self.clear_submit_messages()
        self.restore(params.to_dict())
        self.images.set_images(params.images)
        self.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_parent(self, parent_id: str | None) -> None:
        """Link (or stop linking) the next submission to an earlier job."""
        self._parent_id = parent_id
        self.parent_label.setText("Resubmitting an earlier job: it will be linked to the new one.")
        self.parent_label.setVisible(parent_id is not None)
        self.parent_clear.setVisible(parent_id is not None)

    @property
    def parent_id(self) -> str | None:
        """The job the next submission is a resubmission of."""
        return self._parent_id

    # -- validation and submission ------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """What stops the request from being sent, by field."""
        return list(self._problems)

    def refresh(self) -> None:
        """Update the counter, the problems next to each field, and Submit."""
        text = self.prompt_edit.toPlainText()
        self.counter.setText(f"{len(text):,} / {MAX_PROMPT_CHARS:,}")
        set_tone(self.counter, "problem" if len(text) > MAX_PROMPT_CHARS else None)
        self.counter.setAccessibleDescription(
            f"{len(text):,} of {MAX_PROMPT_CHARS:,} characters used"
        )
        if not self._models:
            self._problems = [Problem("model", "The model list is loading…")]
        elif self.compare_picker.comparing:
            # Each model gets its own nearest valid values: only the prompt can be wrong.
            self._problems = [p for p in validate(self.params(), None) if p.field == "prompt"]
            if len(self.compare_picker.chosen()) < 2:
                self._problems.append(Problem("model", "Tick at least two models to compare."))
        else:
            self._problems = validate(self.params(), self.current_model())
        by_field: dict[str, str] = {}
        for problem in self._problems:
            by_field.setdefault(problem.field, problem.message)
        if not self._speaking:
            self._stay_quiet()
            self.changed.emit()
            return
        set_problem(self.prompt_problem, by_field.get("prompt"))
        set_problem(self.model_problem, by_field.get("model") if self._models else None)
        set_problem(self.duration_problem, by_field.get("duration"))
        set_problem(self.aspect_problem, by_field.get("aspect_ratio") or by_field.get("size"))
        self.images.show_problem(by_field.get("images"))
        self.advanced.show_problems(by_field)
        if by_field.keys() & set(self.advanced.problems) and not self.advanced_toggle.isChecked():
            self.advanced_toggle.setChecked(True)
        self.submit_button.setEnabled(not self._problems and not self._busy)
        if not self._busy:
            count = len(self.compare_picker.chosen())
            comparing = self.compare_picker.comparing and count >= 2
            self.submit_button.setText(f"&Generate {count} clips" if comparing else "&Generate")
        first = self._problems[0].message if self._problems else "Generate the video (Ctrl+Enter)"
        self.submit_button.setToolTip(first)
        self.changed.emit()

    def _stay_quiet(self) -> None:
        """Show no problems yet; Generate stays pressable unless the models are still loading."""
        quiet = (
            self.prompt_problem,
            self.model_problem,
            self.duration_problem,
            self.aspect_problem,
        )
        for label in quiet:
            set_problem(label, None)
        self.advanced.show_problems({})
        loading = not self._models
        self.submit_button.setEnabled(not loading and not self._busy)
        self.submit_button.setToolTip(
            "The model list is loading…" if loading else "Generate the video (Ctrl+Enter)"
        )

    def _on_prompt_edited(self) -> None:
        self._speaking = True
        self.refresh()

    @property
    def speaking(self) -> bool:
        """Whether problems are shown (the person typed a prompt or pressed Generate)."""
        return self._speaking

    def submit(self) -> bool:
        """Ask for the video if the form is valid; returns whether it was asked."""
        self._speaking = True
        self.refresh()
        if self._problems or self._busy:
            return False
        if self.compare_picker.comparing:
            self.compare_requested.emit(self.params(), self.compare_picker.chosen())
            return True
        self.submit_requested.emit(self.params(), self._parent_id)
        return True

    def set_busy(self, busy: bool) -> None:
        """While a submission is on its way, Submit is disabled (the form stays editable)."""
        self._busy = busy
        self.submit_button.setText("Submitting…" if busy else "&Generate")
        self.refresh()

    def clear_submit_messages(self) -> None:
        """Hide the last submission's error and note."""
        self.submit_error.clear()
        self.submit_error.setVisible(False)
        self.submit_note.clear()

    def show_submit_result(self, job: Job) -> None:
        """Say how a submission went: the gateway's refusal in plain words, or where it went."""
        self.clear_submit_messages()
        text, refused = submit_result_text(job)
        if refused:
            self.show_submit_error(text)
            return
        self.set_parent(None)
        self.submit_note.setText(text)

    def show_set_result(self, text: str) -> None:
        """Say how sending a compare set went, next to the form."""
        self.clear_submit_messages()
        self.submit_note.setText(text)

    def show_submit_error(self, text: str) -> None:
        """Show why a submission did not go through, next to the form."""
        self.submit_error.setText(text)
        self.submit_error.setAccessibleDescription(text)
        self.submit_error.setVisible(True)

    # -- events -------------------------------------------------------------------------------

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        self.advanced_toggle.setAccessibleName(
            "Hide advanced options" if shown else "Show advanced options"
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Enter in the prompt submits instead of adding a line."""
        if watched is self.prompt_edit and isinstance(event, QKeyEvent) and _is_submit_key(event):
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress:
                self.submit()
                return True
        return super().eventFilter(watched, event)
