"""The composer's parameter inputs, each offering exactly what the chosen model accepts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import (
    MAX_DURATION,
    MAX_SAMPLES,
    MIN_DURATION,
    MIN_SAMPLES,
    ModelInfo,
    ParamRule,
)
from core.failure_class import verdict_for
from core.jobs import Job, JobState


def problem_label(name: str, parent: QWidget) -> QLabel:
    """A word-wrapped label for one field's validation message.

    Hidden while empty; shown in the stylesheet's problem colour.
    """
    label = QLabel(parent)
    label.setObjectName(name)
    label.setProperty("tone", "problem")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def set_problem(label: QLabel, message: str | None) -> None:
    """Show ``message`` in a problem label, or hide the label."""
    label.setText(message or "")
    label.setAccessibleDescription(message or "")
    label.setVisible(bool(message))


def with_problem(field: QWidget, problem: QLabel, parent: QWidget) -> QWidget:
    """A field with its problem label underneath, as one form cell."""
    cell = QWidget(parent)
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(problem)
    return cell


def option_text(value: Any, unit: str = "") -> str:
    """How one allowed value is shown in a list."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{unit}"


class DurationField(QWidget):
    """A list of the model's durations, or a spin box for a min-max range."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Start as a spin box over every duration the app accepts, until a model sets its rule."""
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.input: QComboBox | QSpinBox = self._spin(MIN_DURATION, MAX_DURATION)
        self._layout.addWidget(self.input)
        self.rule: ParamRule | None = None

    def _spin(self, low: int, high: int) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(low, high)
        spin.setSuffix(" s")
        spin.valueChanged.connect(self.changed)
        return spin

    def _replace(self, widget: QComboBox | QSpinBox) -> None:
        old = self.input
        self._layout.replaceWidget(old, widget)
        old.setObjectName("")
        old.hide()
        old.deleteLater()
        self.input = widget
        widget.setObjectName("durationInput")
        widget.setAccessibleName("Duration in seconds")
        widget.setToolTip("Video length in seconds")
        self.setFocusProxy(widget)

    def configure(self, rule: ParamRule | None) -> None:
        """Offer exactly ``rule``'s values, keeping the current one when it is still allowed."""
        # Keep the value chosen for the previous model, not the placeholder before any model.
        previous = self.value() if self.rule is not None else None
        self.rule = rule
        if rule is not None and rule.kind == "enum" and rule.choices:
            combo = QComboBox(self)
            for choice in rule.choices:
                combo.addItem(option_text(choice, " s"), int(float(choice)))
            combo.currentIndexChanged.connect(self.changed)
            self._replace(combo)
        else:
            low, high = MIN_DURATION, MAX_DURATION
            if rule is not None and rule.kind == "range":
                low = int(rule.minimum) if rule.minimum is not None else low
                high = int(rule.maximum) if rule.maximum is not None else high
            self._replace(self._spin(low, high))
        default = rule.default if rule is not None else None
        if previous is not None and self.set_value(previous):
            return
        if isinstance(default, int | float) and not isinstance(default, bool):
            self.set_value(int(default))

    def value(self) -> int | None:
        """The chosen whole seconds."""
        if isinstance(self.input, QSpinBox):
            return self.input.value()
        data = self.input.currentData()
        return int(data) if data is not None else None

    def set_value(self, seconds: int) -> bool:
        """Choose ``seconds`` if offered; False when it is not."""
        if isinstance(self.input, QSpinBox):
            if self.input.minimum() <= seconds <= self.input.maximum():
                self.input.setValue(seconds)
                return True
            return False
        position = self.input.findData(seconds)
        if position >= 0:
            self.input.setCurrentIndex(position)
            return True
        return False


class AdvancedSection(QWidget):
    """Resolution, negative prompt, seed, audio, sample count and prompt enhancement."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the advanced fields, each with its accessible name and a problem line."""
        super().__init__(parent)
        self.setObjectName("advancedSection")
        self.resolution_combo = QComboBox(self)
        self.negative_edit = QLineEdit(self)
        self.negative_edit.setPlaceholderText("What the video should avoid")
        self.seed_edit = QLineEdit(self)
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[0-9]{0,10}"), self)
        )
        self.audio_check = QCheckBox("Generate audio", self)
        self.samples_spin = QSpinBox(self)
        self.samples_spin.setRange(MIN_SAMPLES, MAX_SAMPLES)
        self.enhance_check = QCheckBox("Let the provider enhance the prompt", self)
        names = {
            "resolution": (self.resolution_combo, "resolutionCombo", "Resolution"),
            "negative_prompt": (self.negative_edit, "negativePromptEdit", "Negative prompt"),
            "seed": (self.seed_edit, "seedEdit", "Seed"),
            "generate_audio": (self.audio_check, "audioCheck", "Generate audio"),
            "sample_count": (self.samples_spin, "sampleCountSpin", "Number of videos"),
            "enhance_prompt": (self.enhance_check, "enhancePromptCheck", "Enhance prompt"),
        }
        self.form = QFormLayout(self)
        self.form.setContentsMargins(12, 0, 0, 0)
        self.problems: dict[str, QLabel] = {}
        self._fields: dict[str, QWidget] = {}
        for name, (widget, object_name, label) in names.items():
            widget.setObjectName(object_name)
            widget.setAccessibleName(label)
            problem = problem_label(f"{object_name}Problem", self)
            self.problems[name] = problem
            self._fields[name] = widget
            text = "" if isinstance(widget, QCheckBox) else f"{label}:"
            self.form.addRow(text, with_problem(widget, problem, self))
        self.resolution_combo.currentIndexChanged.connect(self.changed)
        self.negative_edit.textChanged.connect(self.changed)
        self.seed_edit.textChanged.connect(self.changed)
        self.audio_check.toggled.connect(self.changed)
        self.samples_spin.valueChanged.connect(self.changed)
        self.enhance_check.toggled.connect(self.changed)
        self._supported: set[str] = set()

    def configure(self, model: ModelInfo | None) -> None:
        """Show only the options ``model`` supports, with its allowed values."""
        values = self.values()
        self._supported = {
            name for name in self._fields if model is not None and model.supports(name)
        }
        rule = model.resolutions if model is not None else None
        self.resolution_combo.blockSignals(True)
        self.resolution_combo.clear()
        self.resolution_combo.addItem("Model default", None)
        if rule is not None and rule.kind == "enum":
            for choice in rule.choices:
                self.resolution_combo.addItem(option_text(choice), str(choice))
        else:
            self._supported.discard("resolution")
        self.resolution_combo.blockSignals(False)
        samples = model.rule("sample_count") if model is not None else None
        low, high = MIN_SAMPLES, MAX_SAMPLES
        if samples is not None and samples.kind == "range":
            low = int(samples.minimum) if samples.minimum is not None else low
            high = int(samples.maximum) if samples.maximum is not None else high
        self.samples_spin.setRange(low, high)
        for name, widget in self._fields.items():
            cell = widget.parentWidget()
            if cell is not None:
                self.form.setRowVisible(cell, name in self._supported)
        self.apply(values)

    @property
    def supported(self) -> set[str]:
        """Names of the options the current model accepts."""
        return set(self._supported)

    def values(self) -> dict[str, Any]:
        """The create fields these inputs set (``None``: leave it to the model)."""
        seed_text = self.seed_edit.text().strip()
        values: dict[str, Any] = {
            "resolution": self.resolution_combo.currentData(),
            "negative_prompt": self.negative_edit.text().strip() or None,
            "seed": int(seed_text) if seed_text else None,
            "generate_audio": True if self.audio_check.isChecked() else None,
            "sample_count": self.samples_spin.value() if self.samples_spin.value() > 1 else None,
            "enhance_prompt": True if self.enhance_check.isChecked() else None,
        }
        return {k: (v if k in self._supported else None) for k, v in values.items()}

    def apply(self, values: dict[str, Any]) -> None:
        """Fill the inputs from saved or resubmitted values (unknown values are skipped)."""
        resolution = values.get("resolution")
        position = self.resolution_combo.findData(resolution) if resolution else 0
        self.resolution_combo.setCurrentIndex(max(0, position))
        negative = values.get("negative_prompt")
        self.negative_edit.setText(negative if isinstance(negative, str) else "")
        seed = values.get("seed")
        self.seed_edit.setText(str(seed) if isinstance(seed, int) and seed >= 0 else "")
        self.audio_check.setChecked(values.get("generate_audio") is True)
        samples = values.get("sample_count")
        self.samples_spin.setValue(samples if isinstance(samples, int) else 1)
        self.enhance_check.setChecked(values.get("enhance_prompt") is True)

    def show_problems(self, problems: dict[str, str]) -> None:
        """Show each option's validation message next to it."""
        for name, label in self.problems.items():
            set_problem(label, problems.get(name))


def configure_aspects(combo: QComboBox, model: ModelInfo | None) -> str:
    """Offer exactly the model's aspect ratios, keeping the current one when still allowed.

    A size-only model (the Sora family) offers every size it lists instead, and the answer
    is ``"size"``: the combo's value then goes into the request's ``size``. Otherwise the
    answer is ``"aspect_ratio"``. A model that lists neither gets one disabled "model
    default" entry whose value is ``None``: the request then carries no aspect ratio.
    """
    previous = combo.currentData()
    sized = model is not None and model.size_only
    rule = (model.sizes if sized else model.aspect_ratios) if model is not None else None
    combo.blockSignals(True)
    combo.clear()
    if rule is not None and rule.kind == "enum" and rule.choices:
        for choice in rule.choices:
            text = model.size_label(str(choice)) if sized and model else option_text(choice)
            combo.addItem(text, str(choice))
        combo.setEnabled(True)
        combo.setToolTip("")
    else:
        combo.addItem("Model default", None)
        combo.setEnabled(False)
        combo.setToolTip("This model does not let you choose the aspect ratio")
    position = combo.findData(previous) if previous is not None else -1
    if position < 0 and rule is not None and rule.default is not None:
        position = combo.findData(str(rule.default))
    combo.setCurrentIndex(max(0, position))
    combo.blockSignals(False)
    return "size" if sized else "aspect_ratio"


def submit_result_text(job: Job) -> tuple[str, bool]:
    """What to say after a submission, and whether it was refused (shown as an error)."""
    failure = job.failure
    verdict = verdict_for(job)
    if failure is not None and verdict is not None and job.state is JobState.REJECTED:
        words = f"{verdict.cause} {verdict.next_step}"
        if failure.message:
            words += f"\n{failure.message}"
        if failure.http_status:
            request = f", request {failure.request_id}" if failure.request_id else ""
            words += f" (HTTP {failure.http_status}{request})"
        return words, True
    if job.state is JobState.SUBMIT_UNKNOWN:
        return (
            "The gateway did not answer in time. Reelgate checks whether the job was created "
            "and never sends it twice; follow it in the job list.",
            False,
        )
    return f"Submitted: {job.status_text}. Follow it in the job list.", False
