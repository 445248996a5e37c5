"""``reelgate --self-test``: one demo job end to end (gateway, journal, download, decode).

Used by people checking an install and by the packaged app's smoke test, so it relies on
nothing from the source tree: the demo gateway runs in-process, state goes to a temporary
folder (or ``--data-dir``), and every step prints ``self-test: <step> ... ok`` or stops with
``self-test: FAILED at step '<step>': <reason>`` and exit code 1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: Generous limits: a cold start of FFmpeg in a bundle on a slow CI machine takes a while.
JOB_DEADLINE_SECONDS = 60.0
DECODE_DEADLINE_SECONDS = 20.0
DEMO_MODEL = "demo/test-pattern"


class StepFailedError(Exception):
    """A self-test step did not reach its goal; the message says why in plain words."""


def _say(text: str) -> None:
    print(f"self-test: {text}", flush=True)


@contextlib.contextmanager
def _step(name: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
    """Run one named step; any exception becomes a StepFailedError naming the step."""
    try:
        yield
    except StepFailedError as exc:
        raise StepFailedError(f"FAILED at step '{name}': {exc}") from exc
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise StepFailedError(f"FAILED at step '{name}': {reason}") from exc
    extra = f" ({detail()})" if detail is not None else ""
    _say(f"{name} ... ok{extra}")


def _prepare_environment() -> None:
    """Run headless when there is no display, and keep FFmpeg's chatter out of the output."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")


def _qt_app() -> Any:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(["reelgate-self-test"])
    return app


def _check_backend() -> str:
    from PySide6.QtMultimedia import QMediaFormat

    formats = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
    if not formats:
        raise StepFailedError("QtMultimedia loaded but its backend can decode no file format")
    if QMediaFormat.FileFormat.MPEG4 not in formats:
        raise StepFailedError("the multimedia backend cannot decode MP4")
    return f"{len(formats)} decodable formats"


def _wait_for(condition: Callable[[], bool], work: Callable[[], object], deadline: float) -> None:
    """Do ``work`` until ``condition`` holds, pausing briefly between rounds."""
    while not condition():
        if time.monotonic() > deadline:
            raise StepFailedError(f"gave up after {JOB_DEADLINE_SECONDS:.0f} s")
        work()
        if not condition():
            time.sleep(0.05)


def _decode_first_frame(path: Path) -> str:
    """Play ``path`` into a QVideoSink until a valid frame arrives; returns its size."""
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink

    loop = QEventLoop()
    player = QMediaPlayer()
    sink = QVideoSink()
    player.setVideoSink(sink)
    outcome: dict[str, str] = {}

    def on_frame(frame: QVideoFrame) -> None:
        if frame.isValid() and "size" not in outcome:
            size = frame.size()
            outcome["size"] = f"{size.width()}x{size.height()}"
            loop.quit()

    def on_error(_error: object, message: str) -> None:
        outcome["error"] = message or "the player reported an error"
        loop.quit()

    sink.videoFrameChanged.connect(on_frame)
    player.errorOccurred.connect(on_error)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(DECODE_DEADLINE_SECONDS * 1000))
    player.setSource(QUrl.fromLocalFile(str(path)))
    player.play()
    if "size" not in outcome and "error" not in outcome:
        loop.exec()
    timer.stop()
    player.stop()
    player.setSource(QUrl())
    sink.videoFrameChanged.disconnect(on_frame)
    del player, sink
    if "error" in outcome:
        raise StepFailedError(f"the player could not decode the video: {outcome['error']}")
    if "size" not in outcome:
        raise StepFailedError(f"no video frame within {DECODE_DEADLINE_SECONDS:.0f} s")
    return outcome["size"]


def _run(data_dir: Path) -> None:
    """The steps themselves; raises StepFailedError on the first that fails."""
    with _step("multimedia backend", lambda: backend_info):
        _qt_app()
        backend_info = _check_backend()

    from core.context import AppContext, open_context
    from core.demo_gateway import DEMO_API_KEY, DemoGateway
    from core.jobs import DownloadState, JobParams, JobState
    from core.secrets import MemorySecretStore

    gateway: DemoGateway | None = None
    context: AppContext | None = None
    try:
        with _step("demo gateway", lambda: gateway.base_url if gateway else ""):
            gateway = DemoGateway(
                queued_seconds=0.3, processing_seconds=0.8, poll_after_seconds=1, video_scale=0.25
            ).start()
        with _step("journal and engine", lambda: str(data_dir)):
            context = open_context(
                data_dir=data_dir,
                base_url=gateway.base_url,
                demo=False,
                secrets=MemorySecretStore(DEMO_API_KEY, "self-test memory"),
            )
        engine = context.engine
        with _step("submit a 2-second job", lambda: job.remote_id or job.local_id):
            params = JobParams(
                model=DEMO_MODEL,
                prompt="Reelgate self-test",
                duration=2,
                aspect_ratio="16:9",
                resolution="360p",
            )
            job = engine.submit(params)
            if job.remote_id is None:
                problem = job.failure.message if job.failure else job.problem
                raise StepFailedError(
                    f"the gateway did not create the job ({job.status_text}: {problem})"
                )

        def current() -> Any:
            return engine.job(job.local_id) or job

        deadline = time.monotonic() + JOB_DEADLINE_SECONDS
        with _step("poll until completed", lambda: current().status_text):
            _wait_for(lambda: current().terminal, engine.run_due, deadline)
            if current().state is not JobState.COMPLETED:
                done = current()
                reason = done.failure.message if done.failure else done.problem
                raise StepFailedError(f"the job ended as {done.status_text}: {reason}")

        def downloaded() -> bool:
            return current().download in (DownloadState.DONE, DownloadState.FAILED)

        with _step("download", lambda: f"{video.stat().st_size} bytes"):
            _wait_for(downloaded, engine.run_due, deadline)
            done = current()
            if done.download is not DownloadState.DONE or not done.files:
                raise StepFailedError(f"the download failed: {done.download_problem}")
            video = Path(done.files[0])
            with open(video, "rb") as handle:
                head = handle.read(12)
            if head[4:8] != b"ftyp":
                raise StepFailedError(f"{video.name} does not start like an MP4 file ({head!r})")
        with _step("decode a video frame", lambda: frame_size):
            frame_size = _decode_first_frame(video)
    finally:
        if context is not None:
            context.close()
        if gateway is not None:
            gateway.stop()


def run_self_test(args: Any = None) -> int:
    """Run every step; print progress; 0 when all passed, 1 at the first failure."""
    _prepare_environment()
    chosen = getattr(args, "data_dir", None)
    data_dir = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="reelgate-selftest-"))
    started = time.monotonic()
    try:
        _run(data_dir)
    except StepFailedError as exc:
        _say(str(exc))
        if getattr(args, "verbose", False):
            traceback.print_exc()
        return 1
    except Exception as exc:  # a step-less crash still gets a plain report
        _say(f"FAILED at step 'start-up': {type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1
    finally:
        if not chosen:
            shutil.rmtree(data_dir, ignore_errors=True)
    _say(f"passed in {time.monotonic() - started:.1f} s")
    return 0
