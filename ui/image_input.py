"""The composer's image inputs: https URLs (or a local file where the model allows) with roles.

Shown only for models whose catalogue entry says they take images. An URL is shown as a
thumbnail once the app has fetched it, with the gateway's own rules (https, ``image/*``, no
redirects, 10 s), on a worker thread; a local file is read and encoded on a worker thread
too. Nothing here blocks the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.catalogue import ModelInfo
from core.image_files import (
    ImageError,
    ca_bundle_from_env,
    data_url_bytes,
    fetch_image,
    read_image_file,
)
from core.image_inputs import ROLE_LABELS, ROLES, ImageInput
from core.image_rules import NO_IMAGES, ImageSupport, check_image_url, image_support
from ui.composer_fields import problem_label, set_problem
from ui.offthread import Submit, run_task

THUMB_SIZE = (96, 54)
#: How long typing pauses before an URL is fetched for its thumbnail.
FETCH_DELAY_MS = 600


def _thumbnail(data: bytes) -> QImage:
    """A small QImage of image bytes (runs on a worker thread; QImage is reentrant)."""
    image = QImage.fromData(data)
    if image.isNull():
        raise ImageError("The image could not be decoded for a preview.")
    return image.scaled(
        THUMB_SIZE[0],
        THUMB_SIZE[1],
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def load_url_preview(url: str, ca_bundle: str | None) -> QImage:
    """Fetch an image URL like the gateway would and make its thumbnail (worker thread)."""
    return _thumbnail(fetch_image(url, ca_bundle=ca_bundle).data)


def load_file(path: str, role: str | None) -> tuple[ImageInput, QImage]:
    """Read a local image as a data: URL and make its thumbnail (worker thread)."""
    image = read_image_file(path, role)
    return image, _thumbnail(data_url_bytes(image.url))


class ImageRow(QWidget):
    """One image: a thumbnail, the URL (or file name), its role and a remove button."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, parent: QWidget, *, file: str | None = None) -> None:
        """Build an empty row for a web URL, or a read-only one for the local ``file``."""
        super().__init__(parent)
        self.setObjectName("imageRow")
        self.file = file
        self.data_url = ""
        self.token = 0
        self.thumb = QLabel(self)
        self.thumb.setObjectName("imageThumbnail")
        self.thumb.setAccessibleName("Image preview")
        self.thumb.setFixedSize(*THUMB_SIZE)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFrameShape(QLabel.Shape.StyledPanel)
        self.url_edit = QLineEdit(self)
        self.url_edit.setObjectName("imageUrlEdit")
        self.url_edit.setAccessibleName("Image URL")
        self.url_edit.setPlaceholderText("https://… (an image on the web)")
        self.url_edit.setClearButtonEnabled(True)
        if file is not None:
            self.url_edit.setText(file)
            self.url_edit.setCursorPosition(0)
            self.url_edit.setReadOnly(True)
            self.url_edit.setAccessibleName("Image file")
            self.url_edit.setToolTip(f"Local file, sent as a data: URL: {file}")
        self.url_edit.textChanged.connect(self.changed)
        self.role_combo = QComboBox(self)
        self.role_combo.setObjectName("imageRoleCombo")
        self.role_combo.setAccessibleName("Image role")
        self.role_combo.currentIndexChanged.connect(self.changed)
        self.remove_button = QToolButton(self)
        self.remove_button.setObjectName("removeImageButton")
        self.remove_button.setText("Remove")
        self.remove_button.setAccessibleName("Remove this image")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        self.status = QLabel(self)
        self.status.setObjectName("imageStatus")
        self.status.setAccessibleName("Image status")
        self.status.setWordWrap(True)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.role_combo)
        line.addWidget(self.remove_button)
        line.addStretch(1)
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.setSpacing(2)
        text.addWidget(self.url_edit)
        text.addLayout(line)
        text.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)

    def set_roles(self, roles: tuple[str, ...], wanted: str | None) -> None:
        """Offer ``roles`` (the model's), keeping ``wanted`` if it is among them."""
        current = wanted or self.role()
        self.role_combo.blockSignals(True)
        self.role_combo.clear()
        for role in roles or ROLES:
            self.role_combo.addItem(ROLE_LABELS[role], role)
        position = self.role_combo.findData(current)
        self.role_combo.setCurrentIndex(max(0, position))
        self.role_combo.setEnabled(self.role_combo.count() > 1)
        self.role_combo.blockSignals(False)

    def role(self) -> str | None:
        """The chosen role."""
        value = self.role_combo.currentData()
        return value if isinstance(value, str) else None

    def image(self) -> ImageInput:
        """The image as the request will carry it."""
        if self.file is not None:
            return ImageInput(url=self.data_url, role=self.role(), file=self.file)
        return ImageInput(url=self.url_edit.text().strip(), role=self.role())

    def show_thumbnail(self, image: QImage | None, status: str) -> None:
        """Show a fetched thumbnail (or none) and a status line."""
        if image is None:
            self.thumb.clear()
            self.thumb.setText("—")
        else:
            self.thumb.setPixmap(QPixmap.fromImage(image))
        self.status.setText(status)
        self.status.setVisible(bool(status))


class ImageInputs(QWidget):
    """The image inputs of one request, configured for the chosen model."""

    changed = Signal()
    #: A thumbnail or a local file finished loading (for tests and screen readers).
    loaded = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        submit: Submit | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        """Start with no image inputs; fetches run on ``submit`` and trust ``ca_bundle``."""
        super().__init__(parent)
        self.setObjectName("imageInputs")
        self.setAccessibleName("Image inputs")
        self._submit = submit
        self._own_pool: ThreadPoolExecutor | None = None
        self.ca_bundle = ca_bundle if ca_bundle is not None else ca_bundle_from_env()
        self.support: ImageSupport = NO_IMAGES
        self.rows: list[ImageRow] = []
        self._build()
        self.configure(None)

    def _build(self) -> None:
        self.title = QLabel("Images", self)
        self.title.setStyleSheet("font-weight: 600;")
        self.note = QLabel(self)
        self.note.setObjectName("imageNote")
        self.note.setAccessibleName("What this model takes")
        self.note.setWordWrap(True)
        self.add_url_button = QPushButton("Add image &URL", self)
        self.add_url_button.setObjectName("addImageUrlButton")
        self.add_url_button.setAccessibleName("Add an image from the web")
        self.add_url_button.clicked.connect(lambda: self.add_url(""))
        self.add_file_button = QPushButton("Add image &file…", self)
        self.add_file_button.setObjectName("addImageFileButton")
        self.add_file_button.setAccessibleName("Add a local image file")
        self.add_file_button.clicked.connect(self._on_add_file)
        self.problem = problem_label("imageProblem", self)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_url_button)
        buttons.addWidget(self.add_file_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addLayout(self.rows_layout)
        layout.addWidget(self.problem)

    def use_runner(self, submit: Submit) -> None:
        """Run fetches and file reads on ``submit`` (the app's worker pool)."""
        self._submit = submit

    # -- the model ----------------------------------------------------------------------------

    def configure(self, model: ModelInfo | None) -> None:
        """Offer what ``model`` takes; hidden for text-only models unless images are set."""
        self.support = support = image_support(model)
        if support.accepts_data_url:
            note = "An https:// image URL, or a local image file (sent inline)."
        elif support.accepts:
            note = (
                "This model needs an image on the web: give an https:// URL "
                "(it cannot take a local file)."
            )
        else:
            note = "This model does not take images: remove them to generate."
        if support.requires:
            note = "This model makes video from an image: add a first-frame image. " + note
        self.note.setText(note)
        for row in self.rows:
            row.set_roles(support.roles, None)
        self.add_file_button.setVisible(support.accepts_data_url)
        self.configure_buttons()

    # -- rows ---------------------------------------------------------------------------------

    def _add_row(self, row: ImageRow, role: str | None) -> ImageRow:
        offered = self.support.roles or ROLES
        if role is None:
            taken = {other.role() for other in self.rows}
            role = next((r for r in offered if r not in taken), offered[-1])
        row.set_roles(self.support.roles, role)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self.remove)
        if row.file is None:
            timer = QTimer(row)
            timer.setSingleShot(True)
            timer.setInterval(FETCH_DELAY_MS)
            timer.timeout.connect(lambda: self._fetch(row))
            row.url_edit.textChanged.connect(timer.start)
            row.url_edit.editingFinished.connect(lambda: self._fetch(row))
        before: QWidget = self.rows[-1].remove_button if self.rows else self.add_file_button
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        widgets: tuple[QWidget, ...] = (row.url_edit, row.role_combo, row.remove_button)
        for widget in widgets:
            QWidget.setTabOrder(before, widget)  # keyboard order follows the rows
            before = widget
        self.configure_buttons()
        self.changed.emit()
        return row

    def configure_buttons(self) -> None:
        """Enable the add buttons while the model takes more images."""
        full = self.support.max_images is not None and len(self.rows) >= self.support.max_images
        self.add_url_button.setEnabled(self.support.accepts and not full)
        self.add_file_button.setEnabled(self.support.accepts_data_url and not full)
        self.setVisible(self.support.accepts or bool(self.rows))

    def add_url(self, url: str, role: str | None = None) -> ImageRow:
        """Add an image URL row (empty for the user to type into)."""
        row = self._add_row(ImageRow(self), role)
        row.show_thumbnail(None, "")
        if url:
            row.url_edit.setText(url)
            row.url_edit.setCursorPosition(0)  # the host is the telling part of a long URL
            self._fetch(row)
        else:
            row.url_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        return row

    def add_file(self, path: str, role: str | None = None) -> ImageRow:
        """Add a local image file; it is read (and its thumbnail made) on a worker thread."""
        row = self._add_row(ImageRow(self, file=path), role)
        row.show_thumbnail(None, "Reading the file…")
        row.token += 1
        self._run(row, row.token, load_file, path, row.role())
        return row

    def remove(self, row: ImageRow) -> None:
        """Drop one image."""
        if row in self.rows:
            self.rows.remove(row)
            row.token += 1
            row.deleteLater()
            self.configure_buttons()
            self.changed.emit()

    def clear(self) -> None:
        """Drop every image."""
        for row in list(self.rows):
            self.remove(row)

    def set_images(self, images: tuple[ImageInput, ...]) -> None:
        """Show a job's images (Resubmit): URLs as they were, local files read again."""
        self.clear()
        for image in images:
            if image.file is not None:
                self.add_file(image.file, image.role)
            else:
                self.add_url(image.url, image.role)

    def images(self) -> tuple[ImageInput, ...]:
        """The images as the request will carry them, in order."""
        return tuple(row.image() for row in self.rows)

    def show_problem(self, message: str | None) -> None:
        """Show the request's image problem (from validation) under the inputs."""
        set_problem(self.problem, message)

    @staticmethod
    def ask_file(parent: QWidget) -> str | None:
        """Ask for a local image file (faked in tests)."""
        path, _ = QFileDialog.getOpenFileName(
            parent, "Choose an image", "", "Images (*.png *.jpg *.jpeg *.webp *.gif)"
        )
        return path or None

    def _on_add_file(self) -> None:
        path = self.ask_file(self)
        if path:
            self.add_file(path)

    # -- background work ----------------------------------------------------------------------

    def _fetch(self, row: ImageRow) -> None:
        url = row.url_edit.text().strip()
        if row.property("fetched") == url:
            return
        row.setProperty("fetched", url)
        row.token += 1
        if check_image_url(url) is not None:
            row.show_thumbnail(None, "")
            return
        row.show_thumbnail(None, "Fetching the image…")
        self._run(row, row.token, load_url_preview, url, self.ca_bundle)

    def _run(self, row: ImageRow, token: int, fn: Callable[..., Any], *args: Any) -> None:
        submit = self._submit
        if submit is None:
            if self._own_pool is None:
                self._own_pool = ThreadPoolExecutor(2, thread_name_prefix="image-input")
            submit = self._own_pool.submit
        run_task(
            submit,
            fn,
            *args,
            on_result=lambda value: self._on_done(row, token, value, None),
            on_error=lambda error: self._on_done(row, token, None, error),
            receiver=row,
        )

    def _on_done(self, row: ImageRow, token: int, result: Any, error: Any) -> None:
        if row not in self.rows or token != row.token:
            return  # removed or changed since: a newer load is on its way
        if isinstance(result, tuple):
            image, thumb = result
            row.data_url = image.url
            row.show_thumbnail(thumb, "")
            self.changed.emit()
        elif isinstance(result, QImage):
            row.show_thumbnail(result, "")
        elif isinstance(error, ImageError):
            row.show_thumbnail(None, f"Cannot show this image: {error}")
        else:
            row.show_thumbnail(None, f"Cannot show this image: {type(error).__name__}")
        self.loaded.emit()
