"""The composer's image input: offered per model, https-checked, previewed off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.catalogue import parse_catalogue
from core.demo_gateway import DemoGateway
from core.demo_gateway.models import catalogue_json
from core.image_files import data_url_bytes
from core.image_inputs import ImageInput
from core.jobs import JobParams
from tests.image_server import ImageServer, Route, png_bytes
from tests.ui.conftest import TEST_KEY
from ui.composer import Composer
from ui.image_input import ImageInputs, ImageRow
from ui.main_window import MainWindow

RED = (220, 30, 30)


@pytest.fixture
def workers() -> Iterator[list[str]]:
    """The names of the functions run on the worker pool (and the threads they ran on)."""
    calls: list[str] = []
    yield calls


@pytest.fixture
def composer(qtbot: Any, images: ImageServer, workers: list[str]) -> Iterator[Composer]:
    pool = ThreadPoolExecutor(2)

    def submit(fn: Any, *args: Any) -> Future[Any]:
        def work() -> Any:
            workers.append(f"{fn.__name__}@{threading.current_thread().name}")
            return fn(*args)

        return pool.submit(work)

    widget = Composer()
    widget.images.use_runner(submit)
    widget.images.ca_bundle = images.ca_bundle
    qtbot.addWidget(widget)
    widget.set_models(parse_catalogue(catalogue_json()), "live")
    widget.prompt_edit.setPlainText("The kite climbs")
    widget.show()
    yield widget
    pool.shutdown(wait=True)


def choose(composer: Composer, model_id: str) -> None:
    composer.model_combo.setCurrentIndex(composer.model_combo.findData(model_id))


def last_row(composer: Composer) -> ImageRow:
    return composer.images.rows[-1]


def type_url(qtbot: Any, composer: Composer, url: str) -> ImageRow:
    composer.images.add_url_button.click()
    row = last_row(composer)
    qtbot.keyClicks(row.url_edit, url)
    return row


def test_offered_only_where_the_model_takes_images(composer: Composer) -> None:
    section = composer.images
    choose(composer, "demo/test-pattern")
    assert section.isVisible() and section.add_url_button.isEnabled()
    assert not section.add_file_button.isVisible()
    assert "needs an image on the web" in section.note.text()
    choose(composer, "openai/sora-2")
    assert section.add_file_button.isVisible() and "local image file" in section.note.text()
    choose(composer, "minimax/hailuo-02")
    assert not section.isVisible()
    choose(composer, "minimax/hailuo-2.3-fast")
    assert "makes video from an image" in section.note.text()
    assert "add a first-frame image" in composer.images.problem.text()
    assert not composer.submit_button.isEnabled()
    for widget in (section, section.add_url_button, section.add_file_button):
        assert widget.objectName() and widget.accessibleName()


def test_an_https_url_is_fetched_off_the_gui_thread_and_shown(
    qtbot: Any, composer: Composer, images: ImageServer, workers: list[str]
) -> None:
    choose(composer, "demo/test-pattern")
    url = images.add_png("/red.png", RED, (160, 90))
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        row = type_url(qtbot, composer, url)
        row.url_edit.editingFinished.emit()
    assert images.hits == ["/red.png"]
    assert workers and workers[0].startswith("load_url_preview@")
    assert threading.current_thread().name not in workers[0]
    pixmap = row.thumb.pixmap()
    assert not pixmap.isNull()
    colour = QColor(pixmap.toImage().pixel(pixmap.width() // 2, pixmap.height() // 2))
    assert (colour.red(), colour.green(), colour.blue()) == RED
    assert composer.submit_button.isEnabled()
    assert composer.params().to_request()["input_references"] == [
        {"type": "image_url", "role": "first_frame", "image_url": {"url": url}}
    ]


def test_the_scheme_is_checked_and_roles_come_from_the_model(
    qtbot: Any, composer: Composer
) -> None:
    choose(composer, "google/veo-3.1-lite-preview")
    row = type_url(qtbot, composer, "http://example.com/a.png")
    assert "http://" in composer.images.problem.text() and composer.images.problem.isVisible()
    assert not composer.submit_button.isEnabled()
    labels = [row.role_combo.itemText(i) for i in range(row.role_combo.count())]
    assert labels == ["First frame", "Last frame"]
    row.url_edit.setText("https://example.com/a.png")
    assert not composer.images.problem.isVisible() and composer.submit_button.isEnabled()
    second = type_url(qtbot, composer, "https://example.com/b.png")
    assert second.role() == "last_frame"
    assert [image.role for image in composer.params().images] == ["first_frame", "last_frame"]
    second.remove_button.click()
    assert len(composer.images.rows) == 1


def test_a_page_that_is_not_an_image_says_so(
    qtbot: Any, composer: Composer, images: ImageServer
) -> None:
    choose(composer, "demo/test-pattern")
    images.routes["/page"] = Route(b"<html></html>", "text/html")
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        row = type_url(qtbot, composer, images.url("/page"))
        row.url_edit.editingFinished.emit()
    assert row.status.text() == "Cannot show this image: The URL is not an image (it is text/html)."


def test_a_local_file_only_for_models_taking_a_data_url(
    qtbot: Any,
    composer: Composer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    picture = tmp_path / "red.png"
    picture.write_bytes(png_bytes(40, 30, RED))
    monkeypatch.setattr(ImageInputs, "ask_file", staticmethod(lambda parent: str(picture)))
    choose(composer, "openai/sora-2")
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        composer.images.add_file_button.click()
    assert workers and workers[-1].startswith("load_file@")
    assert threading.current_thread().name not in workers[-1]
    sent = composer.params().to_request()["input_reference"]["image_url"]
    assert sent.startswith("data:image/png;base64,")
    assert data_url_bytes(sent) == picture.read_bytes()  # the file is sent whole
    row = composer.images.rows[0]
    pixmap = row.thumb.pixmap()
    assert (pixmap.width(), pixmap.height()) == (72, 54)  # the 40x30 picture, fitted
    colour = QColor(pixmap.toImage().pixel(pixmap.width() // 2, pixmap.height() // 2))
    assert (colour.red(), colour.green(), colour.blue()) == RED
    assert row.status.isHidden()  # no problem line
    assert not composer.images.add_url_button.isEnabled()  # Sora takes one image
    assert composer.submit_button.isEnabled()
    choose(composer, "google/veo-3.1-preview")
    assert "needs an image on the web" in composer.images.problem.text()
    assert not composer.submit_button.isEnabled()


def test_a_local_file_that_is_not_a_picture_says_so(
    qtbot: Any, composer: Composer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("Buy milk", encoding="utf-8")
    monkeypatch.setattr(ImageInputs, "ask_file", staticmethod(lambda parent: str(notes)))
    choose(composer, "openai/sora-2")
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        composer.images.add_file_button.click()
    row = composer.images.rows[0]
    assert row.status.text() == (
        "Cannot show this image: notes.png is not a PNG, JPEG, WebP or GIF image."
    )
    assert row.thumb.pixmap().isNull()


def test_resubmit_brings_the_images_back(
    qtbot: Any, composer: Composer, images: ImageServer, tmp_path: Path
) -> None:
    url = images.add_png("/red.png", RED)
    picture = tmp_path / "red.png"
    picture.write_bytes(png_bytes(8, 8, RED))
    earlier = JobParams(
        model="demo/test-pattern",
        prompt="Again",
        duration=2,
        aspect_ratio="16:9",
        images=(ImageInput(url, "last_frame"),),
        image_field="input_references",
    )
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        composer.fill_from(earlier, parent_id="p1")
    assert composer.params() == earlier
    sora = JobParams(
        model="openai/sora-2",
        prompt="Again",
        duration=4,
        size="1280x720",
        images=(ImageInput("", file=str(picture)),),
        image_field="input_reference",
    )
    with qtbot.waitSignal(composer.images.loaded, timeout=10_000):
        composer.fill_from(sora, parent_id="p2")
    again = composer.params().images
    assert len(again) == 1 and again[0].url.startswith("data:image/png") and again[0].file
    assert composer.submit_button.isEnabled()


# --- the whole window ------------------------------------------------------------------------


@pytest.fixture
def gateway(images: ImageServer) -> Iterator[DemoGateway]:
    """The window's gateway, trusting the test image server."""
    with DemoGateway(
        queued_seconds=0.3,
        processing_seconds=0.5,
        poll_after_seconds=1,
        video_scale=0.25,
        api_key=TEST_KEY,
        image_ca_bundle=images.ca_bundle,
    ) as gw:
        yield gw


def test_a_failed_image_job_shows_its_image_and_resubmits_it(
    window: MainWindow,
    gateway: DemoGateway,
    images: ImageServer,
    qtbot: Any,
    run: Any,
    wait_for: Any,
) -> None:
    url = images.add_png("/red.png", RED)
    composer = window.composer
    composer.images.ca_bundle = images.ca_bundle
    choose(composer, "demo/test-pattern")
    composer.prompt_edit.setPlainText("[fail] A kite")
    composer.images.add_url(url, "first_frame")
    params = composer.params()
    job = run(window.job_actions.submit_job(params, None))
    assert gateway.create_bodies[-1]["input_references"][0]["image_url"] == {"url": url}
    wait_for(lambda: window.model.job(job.local_id).state.value == "failed")
    assert window.jobs_view.select_job(job.local_id)
    label = window.review.images_label
    wait_for(lambda: label.isVisible())
    assert label.text() == f"First frame: {url}"
    composer.images.clear()
    window.review.resubmit_button.click()
    assert composer.params().images == (ImageInput(url, "first_frame"),)
    assert composer.images.rows[0].url_edit.text() == url
    assert "images" not in window.preferences.last_params
    assert composer.images.rows[0].role_combo.currentData(Qt.ItemDataRole.UserRole) == "first_frame"
