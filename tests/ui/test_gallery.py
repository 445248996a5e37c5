"""The Gallery: the same rows as the filtered table, scrubbing real clips, preview, menu."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QListView, QMenu

from core import scrub_frames as scrub_module
from core.jobs import DownloadState, Job, JobParams, JobState
from ui import gallery_frames
from ui.jobs_model import Column, JobRole, JobsModel
from ui.jobs_proxy import JobFilter
from ui.jobs_view import JobsView
from ui.main_window import MainWindow
from ui.view_mode import ViewMode

PARAMS = JobParams(
    model="demo/test-pattern", prompt="A paper boat in the rain", duration=3, aspect_ratio="16:9"
)


def job(local_id: str, prompt: str, state: JobState, **changes: Any) -> Job:
    """A listed job."""
    return Job(
        local_id=local_id,
        params=JobParams(model="m", prompt=prompt, duration=4, aspect_ratio="9:16"),
        state=state,
        created_at=float(ord(local_id[0])),
        updated_at=1.0,
        **changes,
    )


def ids(view: Any, column: int) -> list[str]:
    """The local ids a view's model lists, top to bottom (as the view sees them)."""
    model = view.model()
    return [model.index(row, column).data(JobRole).local_id for row in range(model.rowCount())]


def test_the_gallery_lists_exactly_the_rows_of_the_filtered_table(qtbot: Any) -> None:
    model = JobsModel(
        [
            job("a", "red kite over hills", JobState.COMPLETED, rating=4, kept=True),
            job("b", "red fox in snow", JobState.PROCESSING),
            job("c", "blue whale", JobState.COMPLETED),
            job("d", "red car at night", JobState.FAILED),
        ]
    )
    view = JobsView(model)
    qtbot.addWidget(view)
    gallery = view.gallery
    assert gallery.objectName() == "galleryView" and gallery.accessibleName()
    assert isinstance(gallery, QListView)
    assert gallery.viewMode() is QListView.ViewMode.IconMode
    assert gallery.model() is view.table.model()
    assert view.mode is ViewMode.TABLE and not gallery.isVisibleTo(view)

    qtbot.mouseClick(view.mode_toggle.gallery_button, Qt.MouseButton.LeftButton)
    assert view.mode is ViewMode.GALLERY and gallery.isVisibleTo(view)
    assert ids(gallery, gallery.modelColumn()) == ids(view.table, Column.PROMPT)
    assert len(ids(gallery, gallery.modelColumn())) == 4

    view.search_edit.setText("red")
    view._apply_search()
    assert sorted(ids(gallery, gallery.modelColumn())) == ["a", "b", "d"]
    view.filter_combo.setCurrentIndex(view.filter_combo.findData(JobFilter.COMPLETED))
    assert ids(gallery, gallery.modelColumn()) == ["a"]
    view.filter_combo.setCurrentIndex(0)
    view.rating_combo.setCurrentIndex(view.rating_combo.findData(4))
    assert ids(gallery, gallery.modelColumn()) == ["a"]
    view.rating_combo.setCurrentIndex(0)
    # A live change shows up in both views at once.
    model.upsert(job("b", "red fox in snow", JobState.COMPLETED))
    view.filter_combo.setCurrentIndex(view.filter_combo.findData(JobFilter.COMPLETED))
    assert ids(gallery, gallery.modelColumn()) == ids(view.table, Column.PROMPT)
    assert sorted(ids(gallery, gallery.modelColumn())) == ["a", "b"]

    # Selecting a card selects the table's row: the views share one selection.
    first = gallery.model().index(0, gallery.modelColumn())
    qtbot.mouseClick(
        gallery.viewport(), Qt.MouseButton.LeftButton, pos=gallery.visualRect(first).center()
    )
    selected = view.selected_job()
    assert selected is not None and selected.local_id == first.data(JobRole).local_id
    assert view.table.selectionModel().isRowSelected(0)


def _finished(window: MainWindow, local_id: str) -> bool:
    shown = window.model.job(local_id)
    return shown is not None and shown.download is DownloadState.DONE


def _card(window: MainWindow, local_id: str) -> QRect:
    gallery = window.jobs_view.gallery
    row = window.model.row_of(local_id)
    index = window.jobs_view.proxy.mapFromSource(window.model.index(row or 0, Column.PROMPT))
    return gallery.visualRect(index)


@pytest.fixture
def finished_in_gallery(window: MainWindow, run: Any, wait_for: Any, qtbot: Any) -> Job:
    """A real demo clip, downloaded, with the window showing the gallery."""
    submitted = run(window.job_actions.submit_job(PARAMS, None))
    wait_for(lambda: _finished(window, submitted.local_id))
    qtbot.mouseClick(window.jobs_view.mode_toggle.gallery_button, Qt.MouseButton.LeftButton)
    done = window.model.job(submitted.local_id)
    assert done is not None and done.files and Path(done.files[0]).stat().st_size > 0
    poster = window.gallery_frames
    wait_for(lambda: poster.poster(done) is not None)
    return done


def _picture(window: MainWindow, card: QRect) -> QImage:
    """What the gallery shows in the card's picture area."""
    gallery = window.jobs_view.gallery
    gallery.viewport().repaint()
    area = QRect(card.left() + 10, card.top() + 30, card.width() - 20, 60)
    return gallery.viewport().grab(area).toImage()


def test_hovering_across_a_card_scrubs_frames_decoded_once_off_the_gui_thread(
    window: MainWindow,
    finished_in_gallery: Job,
    wait_for: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    real = scrub_module.scrub_frames

    def recording(path: Path, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(path, **kwargs)

    monkeypatch.setattr(gallery_frames, "scrub_frames", recording)
    done = finished_in_gallery
    gallery = window.jobs_view.gallery
    card = _card(window, done.local_id)
    assert card.isValid()
    poster = _picture(window, card)

    early = QPoint(card.left() + card.width() // 10, card.top() + card.height() // 3)
    late = QPoint(card.left() + card.width() * 9 // 10, card.top() + card.height() // 3)
    qtbot.mouseMove(gallery.viewport(), early)
    wait_for(lambda: window.gallery_frames.frames(done) is not None)
    assert gallery.scrubbed_job() is not None
    assert gallery.scrub_of(gallery.indexAt(early)) == pytest.approx(0.1, abs=0.05)
    at_start = _picture(window, card)
    qtbot.mouseMove(gallery.viewport(), late)
    assert gallery.scrub_of(gallery.indexAt(late)) == pytest.approx(0.9, abs=0.05)
    at_end = _picture(window, card)

    frames = window.gallery_frames.frames(done)
    assert frames is not None and len(frames) > 10
    assert frames[1].toImage() != frames[-2].toImage()  # the clip moves
    assert at_start != at_end  # and the card shows the moment under the pointer
    assert at_start != poster or at_end != poster
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    # Back and forth again: no new decode, the frames are cached.
    qtbot.mouseMove(gallery.viewport(), early)
    assert _picture(window, card) == at_start
    assert len(threads) == 1 and window.gallery_frames.decodes == 1


def test_double_clicking_a_card_previews_the_clip(
    window: MainWindow, finished_in_gallery: Job, qtbot: Any
) -> None:
    done = finished_in_gallery
    gallery = window.jobs_view.gallery
    centre = _card(window, done.local_id).center()
    qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert window.detail_stack.currentWidget() is window.preview
    assert window.preview.current_path == Path(done.files[0])


def test_the_gallery_context_menu_has_the_table_menu_actions(
    window: MainWindow, finished_in_gallery: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[list[str]] = []
    monkeypatch.setattr(
        QMenu, "popup", lambda menu, *_: shown.append([a.objectName() for a in menu.actions()])
    )
    gallery = window.jobs_view.gallery
    window.jobs_view.table.selectionModel().clear()
    card = _card(window, finished_in_gallery.local_id)
    gallery.customContextMenuRequested.emit(card.center())
    selected = window.jobs_view.selected_job()
    assert selected is not None and selected.local_id == finished_in_gallery.local_id
    window.jobs_view.set_mode(ViewMode.TABLE)
    window.jobs_view.table.customContextMenuRequested.emit(QPoint(5, 5))
    assert len(shown) == 2 and shown[0] == shown[1]
    assert {"previewAction", "keepAction", "removeAction"} <= set(shown[0])
    assert window.job_actions.preview.isEnabled()


def test_a_hidden_gallery_measures_no_cards_until_it_is_shown(
    tmp_path: Path,
    make_context: Any,
    make_window: Any,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind the table at start-up it costs nothing; shown, every card has its place."""
    from ui.gallery_delegate import GalleryDelegate

    measured: list[int] = []
    real_size_hint = GalleryDelegate.sizeHint

    def counting(self: GalleryDelegate, *args: Any) -> Any:
        measured.append(1)
        return real_size_hint(self, *args)

    monkeypatch.setattr(GalleryDelegate, "sizeHint", counting)
    context = make_context(tmp_path / "data")
    for n in range(60):
        context.journal.insert(job(f"j{n:02d}", f"clip {n}", JobState.COMPLETED))
    window = make_window(context)
    view = window.jobs_view
    qtbot.wait(300)  # the gallery's batched layout would run in this time
    assert view.mode is ViewMode.TABLE and view.table.model().rowCount() == 60
    assert measured == []

    qtbot.mouseClick(view.mode_toggle.gallery_button, Qt.MouseButton.LeftButton)
    gallery = view.gallery
    first = gallery.model().index(0, gallery.modelColumn())
    last = gallery.model().index(gallery.model().rowCount() - 1, gallery.modelColumn())
    qtbot.waitUntil(lambda: gallery.visualRect(last).isValid(), timeout=3000)
    assert gallery.visualRect(first).intersects(gallery.viewport().rect())
    assert gallery.visualRect(last).top() > gallery.visualRect(first).bottom()  # rows wrap
    assert measured
