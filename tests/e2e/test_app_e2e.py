"""The desktop app end to end: real loopback HTTP to the demo gateway, real SQLite, real MP4s.

Submit from the composer, watch the row move through its states, play the video in the
preview (frames reach a QVideoSink), save it byte-identical; a failed job explained in the
review panel with copyable, key-free diagnostics; and a restart that resumes a running job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QVideoFrame
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QPushButton, QWidget

from core.context import AppContext, open_context
from core.demo_gateway import DemoGateway
from core.jobs import DownloadState, Job, JobState
from core.poll_policy import PollPolicy, RequestBudget
from core.secrets import MemorySecretStore
from ui.controller import Controller
from ui.dialogs.save_dialog import SaveDialog
from ui.main_window import CloseNotice, MainWindow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.qt_log_ignore(
        "does not support propagateSizeHints",
        "does not support raise",
        "PulseAudioService",
        "No RHI backend",
    ),
]
KEY = "phaseo_v1_sk_TESTSECRET123"
POLICY = PollPolicy(first_poll_after=0.2, default_poll_after=1.0, min_poll_after=0.2, jitter=0.05)


@pytest.fixture
def gateway() -> Iterator[DemoGateway]:
    """Long enough in each phase that a 1-second poll sees queued, processing, completed."""
    with DemoGateway(
        queued_seconds=0.3,
        processing_seconds=1.5,
        poll_after_seconds=1,
        video_scale=0.25,
        api_key=KEY,
    ) as gw:
        yield gw


def context_for(data_dir: Path, gw: DemoGateway) -> AppContext:
    return open_context(
        data_dir=data_dir,
        base_url=gw.base_url,
        demo=False,
        secrets=MemorySecretStore(KEY),
        policy=POLICY,
        budget=RequestBudget(max_in_flight=8, per_second=50.0, burst=50),
    )


@pytest.fixture
def open_window(
    qtbot: Any, qloop: qasync.QEventLoop, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[AppContext], MainWindow]]:
    monkeypatch.setattr(CloseNotice, "ask", classmethod(lambda cls, parent, count: True))
    windows: list[MainWindow] = []

    def factory(context: AppContext) -> MainWindow:
        window = MainWindow(Controller(context, loop=qloop))
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        window.start()
        qtbot.waitUntil(lambda: window.composer.model_combo.count() > 0, timeout=5_000)
        return window

    yield factory
    for window in windows:
        window.close()
        window.controller.close()
        window.deleteLater()


def compose(window: MainWindow, prompt: str) -> None:
    composer = window.composer
    composer.model_combo.setCurrentIndex(composer.model_combo.findData("demo/test-pattern"))
    composer.duration.set_value(2)
    composer.aspect_combo.setCurrentIndex(composer.aspect_combo.findData("16:9"))
    composer.prompt_edit.setPlainText(prompt)
    assert composer.submit_button.isEnabled(), composer.problems()
    composer.submit_button.click()


def listed(window: MainWindow, prompt: str) -> Job | None:
    return next((job for job in window.model.jobs() if job.params.prompt == prompt), None)


def downloaded(job: Job | None) -> bool:
    return (
        job is not None and job.state is JobState.COMPLETED and job.download is DownloadState.DONE
    )


def test_submit_watch_preview_and_save(
    tmp_path: Path,
    gateway: DemoGateway,
    open_window: Callable[[AppContext], MainWindow],
    wait_for: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(context_for(tmp_path / "data", gateway))
    seen: list[tuple[str, JobState]] = []
    window.controller.job_changed.connect(lambda job: seen.append((job.local_id, job.state)))
    prompt = "A lighthouse at dusk, end to end"
    compose(window, prompt)
    wait_for(lambda: downloaded(listed(window, prompt)))

    job = listed(window, prompt)
    assert job is not None and job.remote_id is not None
    states: list[JobState] = []
    for local_id, state in seen:
        if local_id == job.local_id and (not states or states[-1] is not state):
            states.append(state)
    assert states == [
        JobState.SUBMITTING,
        JobState.QUEUED,
        JobState.PROCESSING,
        JobState.COMPLETED,
    ]
    row = window.model.row_of(job.local_id)
    assert row is not None and window.model.status_line(job) == "Completed"

    # The finished, selected job plays at once in the preview.
    assert window.jobs_view.selected_job().local_id == job.local_id
    assert window.detail_stack.currentWidget() is window.preview
    assert window.preview.current_path == Path(job.files[0])
    frames: list[QVideoFrame] = []
    sink = window.preview.player.videoSink()
    sink.videoFrameChanged.connect(lambda frame: frames.append(frame) if frame.isValid() else None)
    window.job_actions.preview.trigger()
    wait_for(lambda: len(frames) >= 2)
    assert frames[-1].width() > 0 and frames[-1].height() > 0

    # Save as: the file chosen gets exactly the gateway's bytes.
    target = tmp_path / "saved" / "lighthouse.mp4"
    target.parent.mkdir()
    suggested: list[Path] = []

    def ask(cls: type, parent: QWidget, proposal: Path) -> Path:
        suggested.append(proposal)
        return target

    monkeypatch.setattr(SaveDialog, "ask", classmethod(ask))
    window.context.settings.save_sidecar = True
    assert window.job_actions.save_as.isEnabled()
    window.job_actions.save_as.trigger()
    wait_for(lambda: window.statusBar().currentMessage().startswith("Saved to"))
    assert target.read_bytes() == gateway.job_bytes(job.remote_id)
    sidecar = json.loads(target.with_suffix(".json").read_text())
    assert sidecar["parameters"] == job.params.to_dict()
    assert sidecar["gateway_id"] == job.remote_id and sidecar["files"] == ["lighthouse.mp4"]
    assert suggested[0].name.startswith("a-lighthouse-at-dusk")
    assert suggested[0].name.endswith(".mp4")
    assert window.context.settings.last_save_dir == str(target.parent)
    assert not list(target.parent.glob("*.part"))


def test_a_failed_job_is_explained_with_key_free_diagnostics(
    tmp_path: Path,
    gateway: DemoGateway,
    open_window: Callable[[AppContext], MainWindow],
    wait_for: Callable[..., None],
) -> None:
    window = open_window(context_for(tmp_path / "data", gateway))
    prompt = "[fail] A doomed render"
    compose(window, prompt)
    wait_for(lambda: (job := listed(window, prompt)) is not None and job.state is JobState.FAILED)

    job = listed(window, prompt)
    assert job is not None and job.failure is not None and job.failure.message
    assert window.detail_stack.currentWidget() is window.review
    detail = window.review.findChild(QPlainTextEdit, "errorDetail")
    request_label = window.review.findChild(QLineEdit, "requestIdLabel")
    assert job.failure.message in detail.toPlainText()
    assert job.request_id and request_label.text() == job.request_id

    QGuiApplication.clipboard().clear()
    window.review.findChild(QPushButton, "copyDiagnosticsButton").click()
    # The text is built off the GUI thread (a journal read), then copied.
    wait_for(lambda: bool(QGuiApplication.clipboard().text()))
    copied = QGuiApplication.clipboard().text()
    assert job.failure.message in copied
    assert job.request_id in copied
    assert KEY not in copied and "TESTSECRET" not in copied


def test_a_restart_shows_the_running_job_and_finishes_it(
    tmp_path: Path,
    gateway: DemoGateway,
    open_window: Callable[[AppContext], MainWindow],
    wait_for: Callable[..., None],
) -> None:
    data = tmp_path / "data"
    first = open_window(context_for(data, gateway))
    prompt = "A slow sunrise that outlives the window"
    compose(first, prompt)
    wait_for(lambda: (job := listed(first, prompt)) is not None and job.remote_id is not None)
    job = listed(first, prompt)
    assert job is not None and not job.terminal
    assert first.close()

    second = open_window(context_for(data, gateway))
    resumed = second.model.job(job.local_id)
    assert resumed is not None and not resumed.terminal  # listed at once, still running
    wait_for(lambda: downloaded(second.model.job(job.local_id)))
    finished = second.model.job(job.local_id)
    assert finished is not None
    assert Path(finished.files[0]).read_bytes() == gateway.job_bytes(job.remote_id or "")
