"""The composer's "Compare models": tick several models to send the same prompt to each."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QToolButton, QVBoxLayout, QWidget

from core.catalogue import ModelInfo, find_model


class ComparePicker(QWidget):
    """A toggle that opens a list of models with check boxes; two or more make a compare set."""

    #: The toggle or a tick changed.
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the toggle and its hidden list of models (filled by :meth:`set_models`)."""
        super().__init__(parent)
        self._models: list[ModelInfo] = []
        self.button = QToolButton(self)
        self.button.setObjectName("compareModelsButton")
        self.button.setText("Compare models")
        self.button.setAccessibleName("Compare models: send the prompt to several models")
        self.button.setToolTip("Send the same prompt to several models and compare the clips")
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.toggled.connect(self._on_toggled)
        self.list = QListWidget(self)
        self.list.setObjectName("compareModelsList")
        self.list.setAccessibleName("Models to compare")
        self.list.setMaximumHeight(150)
        self.list.setVisible(False)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.button)
        layout.addWidget(self.list)

    def set_models(self, models: list[ModelInfo], current: str | None = None) -> None:
        """Offer ``models`` (human names, ids in the tooltip); ticks survive a reload."""
        ticked = {model.id for model in self.chosen()}
        if not ticked and current:
            ticked = {current}
        self._models = list(models)
        self.list.blockSignals(True)
        self.list.clear()
        for model in self._models:
            item = QListWidgetItem(model.name, self.list)
            item.setData(Qt.ItemDataRole.UserRole, model.id)
            item.setToolTip(model.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if model.id in ticked else Qt.CheckState.Unchecked
            )
        self.list.blockSignals(False)
        self.changed.emit()

    def set_checked(self, model_ids: list[str]) -> None:
        """Tick exactly these models (ids or aliases)."""
        wanted = {found.id for name in model_ids if (found := find_model(self._models, name))}
        for row in range(self.list.count()):
            item = self.list.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def chosen(self) -> list[ModelInfo]:
        """The ticked models, in catalogue order."""
        picked: list[ModelInfo] = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                model = find_model(self._models, str(item.data(Qt.ItemDataRole.UserRole)))
                if model is not None:
                    picked.append(model)
        return picked

    @property
    def comparing(self) -> bool:
        """Whether Generate makes a compare set (the toggle is on)."""
        return self.button.isChecked()

    def _on_toggled(self, shown: bool) -> None:
        self.list.setVisible(shown)
        self.button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.changed.emit()
