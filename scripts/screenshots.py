#!/usr/bin/env python3
"""Screenshots of the real Reelgate window for the README, taken under Xvfb.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--quick]

The script starts its own X server (``Xvfb``, 1440x900) on a free display, then runs itself
again with ``--drive`` inside it. The driver opens the app's real main window in demo mode
(the built-in demo gateway renders real test-pattern MP4s), types prompts, submits them with
the composer's Generate button, waits for the jobs to move, selects rows and grabs the screen
over the window (a screen grab, not ``QWidget.grab()``, so the native video surface of the
preview is in the picture). It writes:

    composer.png        the window just opened: demo banner, a prompt typed in the composer
    running-jobs.png    queued and processing jobs with progress bars, and a completed one
    main-window.png     the README's hero shot: running jobs and a video playing
    preview.png         a completed job selected, the preview showing a decoded frame
    failure-review.png  a failed job (demo keyword ``[moderation]``: the provider's moderation
                        refused it) explained in the review panel, its class in the heading
    compare.png         one prompt on three models, the clips side by side (screenshot_sets.py)
    batch.png           the Batch dialog previewing pasted prompts (screenshot_sets.py)
    gallery.png         the Gallery view: clip cards, one being scrubbed under the pointer
    gallery-dark.png    the same in the dark theme
    image-input.png     the composer's image input: an https image (served from a local HTTPS
                        server with a certificate made for the run) shown as a thumbnail
    cost-estimate.png   Veo 3.1 Lite, 8 s, 720p with audio: the composer's price estimate
    spend-view.png      the Spend view over the window, after the jobs above have settled

``--quick`` uses shorter demo timings and fewer jobs (for the test suite). Xvfb comes with
the project's bootstrap (``python3 dev.py`` installs the ``xvfb`` package).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "screenshots"
SCREEN = (1440, 900)
WINDOW = (1280, 800)
WINDOW_POS = (80, 50)
#: The pictures the driver writes, in the order it writes them.
NAMES = (
    "composer",
    "running-jobs",
    "main-window",
    "preview",
    "failure-review",
    "compare",
    "batch",
    "gallery",
    "gallery-dark",
    "cost-estimate",
    "spend-view",
)
#: Pictures of one part of the window (not the window's size), written after NAMES.
PART_NAMES = ("image-input",)
XVFB_START_SECONDS = 10.0
DRIVE_TIMEOUT_SECONDS = 180.0

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from core.jobs import Job
    from ui.main_window import MainWindow


class ScreenshotError(Exception):
    """A step of the screenshot run failed; the message names the step."""


@dataclass(frozen=True)
class Timing:
    """How fast the demo gateway moves jobs, and how many running jobs to show."""

    queued_seconds: float
    processing_seconds: float
    poll_after_seconds: int
    running_jobs: int

    def overrides(self) -> dict[str, Any]:
        """``demo_overrides`` for :func:`core.context.open_context`."""
        return {
            "queued_seconds": self.queued_seconds,
            "processing_seconds": self.processing_seconds,
            "poll_after_seconds": self.poll_after_seconds,
        }


FULL = Timing(queued_seconds=1.5, processing_seconds=4.0, poll_after_seconds=1, running_jobs=4)
QUICK = Timing(queued_seconds=1.0, processing_seconds=2.5, poll_after_seconds=1, running_jobs=3)

PROMPT_TYPED = (
    "A paper boat drifts down a rain-soaked city gutter at dusk, neon signs reflected in "
    "the ripples; slow tracking shot, shallow depth of field."
)
PROMPT_DONE = "A lighthouse on a rocky coast at golden hour, waves rolling in, drone orbit"
PROMPT_FAILED = "[moderation] A glass city made of ice melting under three suns, macro timelapse"
PROMPT_IMAGE = "The lighthouse beam sweeps across the bay as the sun sets"
PROMPT_PRICED = "A hot-air balloon rising over misty vineyards at sunrise, slow crane shot"
PRICED_MODEL = "google/veo-3.1-lite-preview"
PRICED_ESTIMATE = "about $0.40 (8 s x $0.05/s, 720p, with audio)"
PROMPTS_RUNNING = (
    "A red fox trotting through fresh snow in a birch forest, morning mist",
    "Close-up of coffee being poured into a white cup, steam curling in warm light",
    "Aerial shot of terraced rice fields after rain, clouds drifting over the hills",
    "A vintage tram climbing a steep street in Lisbon, afternoon sun, handheld",
    "Time-lapse of a desert night sky, the Milky Way turning above a lone cactus",
)


# -- the outer process: an X server and the driver inside it ---------------------------------


def fail(message: str) -> int:
    """Print ``message`` as the reason the run stopped; return the exit code."""
    print(f"screenshots: {message}", file=sys.stderr, flush=True)
    return 1


def free_displays(first: int = 99, last: int = 400) -> Iterator[int]:
    """X display numbers from ``first`` up with neither a socket nor a lock file."""
    for number in range(first, last):
        taken = Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists()
        if not taken:
            yield number


def start_xvfb(binary: str, number: int, log: IO[bytes]) -> subprocess.Popen[bytes] | None:
    """Start Xvfb on ``:number`` and wait for its socket; None if it exited (display taken)."""
    socket = Path(f"/tmp/.X11-unix/X{number}")
    width, height = SCREEN
    command = [binary, f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + XVFB_START_SECONDS
    while not socket.exists():
        if process.poll() is not None:
            return None
        if time.monotonic() > deadline:
            stop(process)
            raise ScreenshotError(f"start Xvfb: no socket {socket} after {XVFB_START_SECONDS}s")
        time.sleep(0.05)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` (kill it if it lingers) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """Run ``Xvfb`` on a free display for the duration; yields ``":N"``. Always stops it."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise ScreenshotError(
            "start Xvfb: the Xvfb program is not installed. Run `python3 dev.py` (its bootstrap "
            "installs the `xvfb` package with the other system packages) or "
            "`sudo apt-get install xvfb`."
        )
    with tempfile.TemporaryFile() as log:
        process: subprocess.Popen[bytes] | None = None
        tried: list[int] = []
        for number in free_displays():
            tried.append(number)
            process = start_xvfb(binary, number, log)
            if process is not None or len(tried) == 3:
                break
        if process is None:
            log.seek(0)
            said = log.read().decode(errors="replace").strip()[-800:]
            shown = ", ".join(f":{number}" for number in tried) or "none free"
            raise ScreenshotError(f"start Xvfb: it exited at once on {shown}: {said}")
        try:
            yield f":{tried[-1]}"
        finally:
            stop(process)


def run_outer(out: Path, quick: bool) -> int:
    """Start Xvfb, run the driver in it with a private data folder, report the pictures."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with xvfb() as display, tempfile.TemporaryDirectory(prefix="reelgate-shots-") as data:
            env = dict(os.environ)
            env.update(
                DISPLAY=display,
                QT_QPA_PLATFORM="xcb",
                REELGATE_DATA_DIR=data,
                PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
                QT_LOGGING_RULES="qt.multimedia.*=false",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            )
            env.pop("PHASEO_API_KEY", None)
            env.pop("WAYLAND_DISPLAY", None)
            command = [sys.executable, str(Path(__file__).resolve()), "--drive", "--out", str(out)]
            if quick:
                command.append("--quick")
            try:
                result = subprocess.run(
                    command,
                    cwd=ROOT,
                    env=env,
                    timeout=DRIVE_TIMEOUT_SECONDS,
                    check=False,
                    capture_output=True,
                    text=True,
                )
            except subprocess.TimeoutExpired as timeout:
                sys.stderr.write(_text(timeout.stderr))
                raise ScreenshotError(
                    f"drive the window: no result after {DRIVE_TIMEOUT_SECONDS:.0f}s"
                ) from None
            if result.returncode != 0:
                sys.stderr.write(result.stdout + result.stderr)
                return fail(f"the window driver failed (exit code {result.returncode}); see above")
    except ScreenshotError as error:
        return fail(str(error))
    missing = [name for name in NAMES + PART_NAMES if not (out / f"{name}.png").is_file()]
    if missing:
        return fail(f"check the output: missing {', '.join(missing)} in {out}")
    for name in NAMES + PART_NAMES:
        print(out / f"{name}.png")
    print(f"screenshots: done in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


def _text(output: str | bytes | None) -> str:
    """Captured output as text (``TimeoutExpired`` may hold bytes)."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


# -- the driver: the real window, inside Xvfb -------------------------------------------------


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Re-raise any failure inside as a :class:`ScreenshotError` that names the step."""
    try:
        yield
    except ScreenshotError as error:
        raise ScreenshotError(f"{name}: {error}") from error
    except Exception as error:
        raise ScreenshotError(f"{name}: {type(error).__name__}: {error}") from error


async def wait_until(predicate: Callable[[], object], what: str, timeout: float) -> None:
    """Let the Qt/asyncio loop run until ``predicate()`` holds (fails after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise ScreenshotError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


def listed(window: MainWindow, prompt: str) -> Job | None:
    """The window's newest version of the job asked for with ``prompt``."""
    return next((job for job in window.model.jobs() if job.params.prompt == prompt), None)


class Driver:
    """Drives one real main window through the scenes and writes the pictures."""

    def __init__(
        self, window: MainWindow, out: Path, timing: Timing, image_url: str | None = None
    ) -> None:
        """Drive ``window``; pictures go to ``out``; ``image_url`` is the picture to animate."""
        self.window = window
        self.out = out
        self.timing = timing
        self.image_url = image_url
        self.written: list[Path] = []

    # -- actions ------------------------------------------------------------------------------

    async def type_prompt(self, prompt: str) -> None:
        """Choose the demo model and type ``prompt`` into the composer, as a user would."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        composer = self.window.composer
        position = composer.model_combo.findData("demo/test-pattern")
        if position < 0:
            combo = composer.model_combo
            offered = ", ".join(str(combo.itemData(i)) for i in range(combo.count()))
            raise ScreenshotError(f"the model list has no demo/test-pattern (it offers {offered})")
        composer.model_combo.setCurrentIndex(position)
        composer.duration.set_value(3)
        composer.aspect_combo.setCurrentIndex(composer.aspect_combo.findData("16:9"))
        composer.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        composer.prompt_edit.clear()
        QTest.keyClicks(composer.prompt_edit, prompt)
        await asyncio.sleep(0)

    async def submit(self, prompt: str) -> Job:
        """Type ``prompt`` and press Generate; returns the job once the gateway took it."""
        await self.type_prompt(prompt)
        composer = self.window.composer
        if not composer.submit_button.isEnabled():
            problems = "; ".join(problem.message for problem in composer.problems())
            raise ScreenshotError(f"Generate is disabled: {problems or 'busy'}")
        composer.submit_button.click()

        def accepted() -> bool:
            job = listed(self.window, prompt)
            sent = job is not None and job.remote_id is not None
            return sent and composer.submit_button.isEnabled()

        await wait_until(accepted, f"the gateway to accept {prompt[:30]!r}", 15)
        return self.job(prompt)

    def job(self, prompt: str) -> Job:
        """The listed job asked for with ``prompt`` (an error when there is none)."""
        job = listed(self.window, prompt)
        if job is None:
            raise ScreenshotError(f"no job for {prompt[:30]!r} in the table")
        return job

    def select(self, job: Job) -> None:
        """Select ``job``'s row in the table (as a click would)."""
        if not self.window.jobs_view.select_job(job.local_id):
            raise ScreenshotError(f"job {job.local_id} is not in the table")

    async def wait_state(self, prompt: str, states: set[str], timeout: float) -> Job:
        """Wait until the job of ``prompt`` is in one of ``states`` (and downloaded if done)."""

        def reached() -> bool:
            job = listed(self.window, prompt)
            if job is None or job.state.value not in states:
                return False
            return job.state.value != "completed" or job.download.value == "done"

        await wait_until(reached, f"{prompt[:30]!r} to be {'/'.join(sorted(states))}", timeout)
        return self.job(prompt)

    async def wait_video_frame(self) -> None:
        """Wait until the preview decoded a frame, then pause on it so the picture is still."""
        preview = self.window.preview
        player = preview.player
        if player is None or preview.video_widget is None:
            raise ScreenshotError("the preview has no media backend (Qt Multimedia missing?)")
        frames: list[int] = []
        sink = player.videoSink()

        def on_frame(frame: Any) -> None:
            if frame.isValid():
                frames.append(frame.width())

        sink.videoFrameChanged.connect(on_frame)
        try:
            if player.position() > 0 or not player.isPlaying():
                player.setPosition(0)
                preview.play()
            await wait_until(lambda: len(frames) >= 8, "the preview to show video frames", 15)
        finally:
            sink.videoFrameChanged.disconnect(on_frame)
        await asyncio.sleep(0.3)
        preview.pause()
        await asyncio.sleep(0.4)

    # -- pictures -----------------------------------------------------------------------------

    def grab_image(self) -> QImage:
        """The screen's pixels over the window's frame (the native video surface included)."""
        from PySide6.QtGui import QGuiApplication

        screen = QGuiApplication.primaryScreen()
        if screen is None:
            raise ScreenshotError("no screen (is DISPLAY set to the Xvfb display?)")
        frame = self.window.frameGeometry()
        pixmap = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        if pixmap.isNull():
            raise ScreenshotError("the screen grab came back empty")
        return pixmap.toImage()

    async def shoot(self, name: str, check: Callable[[QImage], None] | None = None) -> None:
        """Let the window settle, grab it, check the picture and save ``<name>.png``."""
        from PySide6.QtWidgets import QApplication

        await asyncio.sleep(0.25)
        QApplication.processEvents()
        image = self.grab_image()
        check_not_blank(image, name)
        if check is not None:
            check(image)
        path = self.out / f"{name}.png"
        if not image.save(str(path)):  # PNG, from the suffix
            raise ScreenshotError(f"could not write {path}")
        self.written.append(path)

    async def shoot_part(self, name: str, widget: Any, top: Any = None) -> None:
        """Grab the screen over one widget (from its child ``top`` down), save ``<name>.png``."""
        from PySide6.QtCore import QPoint

        await asyncio.sleep(0.25)
        image = self.grab_image()
        frame = self.window.frameGeometry()
        origin = widget.mapToGlobal(QPoint(0, 0)) - frame.topLeft()
        width, height = widget.width(), widget.height()
        if top is not None:  # start at this child: the picture stays short
            skip = top.mapTo(widget, QPoint(0, 0)).y() - 8
            origin.setY(origin.y() + skip)
            height -= skip
        part = image.copy(origin.x(), origin.y(), width, height)
        colours = colours_in(part, 0, 0, part.width(), part.height(), steps=24)
        if part.width() < 200 or part.height() < 100 or len(colours) < 6:
            raise ScreenshotError(
                f"{name}: the part is blank or tiny ({part.width()}x{part.height()})"
            )
        path = self.out / f"{name}.png"
        if not part.save(str(path)):
            raise ScreenshotError(f"could not write {path}")
        self.written.append(path)

    async def show_image_input(self) -> None:
        """A prompt and an https image with its role in the composer, its thumbnail fetched."""
        composer = self.window.composer
        if self.image_url is None:
            raise ScreenshotError("no image server (is the openssl command installed?)")
        await self.type_prompt(PROMPT_IMAGE)
        row = composer.images.add_url(self.image_url, "first_frame")
        await wait_until(lambda: not row.thumb.pixmap().isNull(), "the image's thumbnail", 15)
        if composer.problems():
            raise ScreenshotError(f"the composer refuses the image: {composer.problems()}")

    # -- checks -------------------------------------------------------------------------------

    def check_banner(self, _image: QImage) -> None:
        """The demo banner is shown and a prompt is typed."""
        banner = self.window.demo_banner
        if banner is None or not banner.isVisible():
            raise ScreenshotError("the demo banner is not shown (is demo mode on?)")
        if not self.window.composer.prompt_edit.toPlainText():
            raise ScreenshotError("the composer's prompt is empty")

    def check_running(self, _image: QImage) -> None:
        """At least two jobs queued or processing, and one completed, are listed."""
        states = [job.state.value for job in self.window.model.jobs()]
        running = sum(state in ("queued", "processing") for state in states)
        if running < 2 or "completed" not in states:
            raise ScreenshotError(f"expected running jobs and a completed one, got {states}")

    def check_video(self, image: QImage) -> None:
        """Fail unless the preview's video area shows the test pattern (not a black box)."""
        from PySide6.QtCore import QPoint

        widget = self.window.preview.video_widget
        if widget is None or not widget.isVisible():
            raise ScreenshotError("the video widget is not shown")
        frame = self.window.frameGeometry()
        origin = widget.mapToGlobal(QPoint(0, 0)) - frame.topLeft()
        width, height = widget.width(), widget.height()
        # The middle of the widget is inside the (letterboxed) picture: the colour bars.
        x, y = origin.x() + width * 3 // 10, origin.y() + height * 2 // 5
        colours = colours_in(image, x, y, width * 2 // 5, height // 5, steps=12)
        bright = {colour for colour in colours if max(colour) > 96}
        if len(bright) < 3:
            raise ScreenshotError(
                f"the middle of the video area shows no test pattern ({len(colours)} colours, "
                f"{len(bright)} bright): the frame was not decoded or not drawn"
            )

    def check_review(self, _image: QImage) -> None:
        """The review panel explains the failure in full and needs no sideways scrolling."""
        from PySide6.QtWidgets import QScrollArea

        review = self.window.review
        job = review.job
        if job is None or job.failure is None or not job.failure.message:
            raise ScreenshotError("the review panel shows no failed job")
        if job.failure.message not in review.error_detail.toPlainText():
            raise ScreenshotError("the provider's message is not in the review panel")
        if not review.cause_label.text() or review.request_id_label.text() in ("", "—"):
            raise ScreenshotError("the cause or the request id is missing")
        if "Blocked by a safety or content policy" not in review.status_label.text():
            raise ScreenshotError("the heading does not name the failure's class")
        if not review.next_step_label.text().startswith("Next step: Rephrase"):
            raise ScreenshotError("the next step is missing")
        if not review.timeline.row_texts():
            raise ScreenshotError("the status timeline is empty")
        scroll = review.findChild(QScrollArea, "reviewScroll")
        if scroll is None or scroll.horizontalScrollBar().isVisible():
            raise ScreenshotError("the review panel is clipped (it scrolls sideways)")

    def check_estimate(self, _image: QImage) -> None:
        """The composer shows the estimate for Veo 3.1 Lite, 8 s, 720p with audio."""
        text = self.window.costs.estimate.label.text()
        if text != PRICED_ESTIMATE:
            raise ScreenshotError(f"the estimate reads {text!r}, not {PRICED_ESTIMATE!r}")

    def check_spend(self, _image: QImage) -> None:
        """The Spend view is on screen, filled, with the settled Veo bill among the jobs."""
        view = self.window.costs.view
        if view is None or not view.isVisible():
            raise ScreenshotError("the Spend view is not shown")
        models = [view.by_model.item(row, 0).text() for row in range(view.by_model.rowCount())]
        if PRICED_MODEL not in models or view.periods.rowCount() != 4:
            raise ScreenshotError(f"the Spend view lists {models}")

    async def price_a_job(self) -> None:
        """Pick Veo 3.1 Lite at 8 s, 720p with audio, and wait for the estimate."""
        from PySide6.QtTest import QTest

        composer = self.window.composer
        composer.model_combo.setCurrentIndex(composer.model_combo.findData(PRICED_MODEL))
        composer.duration.set_value(8)
        composer.aspect_combo.setCurrentIndex(composer.aspect_combo.findData("16:9"))
        if not composer.advanced_toggle.isChecked():
            composer.advanced_toggle.setChecked(True)
        advanced = composer.advanced
        advanced.resolution_combo.setCurrentIndex(advanced.resolution_combo.findData("720p"))
        advanced.audio_check.setChecked(True)
        composer.prompt_edit.clear()
        QTest.keyClicks(composer.prompt_edit, PROMPT_PRICED)
        label = self.window.costs.estimate.label
        await wait_until(lambda: label.text() == PRICED_ESTIMATE, "the price estimate", 15)

    async def open_spend(self) -> None:
        """Open the Spend view over the window (below the banner) and wait for its figures."""
        from PySide6.QtCore import QPoint

        view = self.window.costs.show_spend()
        frame = self.window.frameGeometry()
        view.move(frame.topLeft() + QPoint((frame.width() - view.width()) // 2, 140))
        await wait_until(
            lambda: view.by_model.rowCount() > 0 and view.periods.rowCount() == 4,
            "the Spend view's figures",
            15,
        )

    # -- the scenes ---------------------------------------------------------------------------

    async def open_preview(self, job: Job) -> None:
        """Select a completed job and wait until its video plays in the preview."""
        window = self.window
        self.select(job)
        await wait_until(
            lambda: window.detail_stack.currentWidget() is window.preview, "the preview", 5
        )
        await self.wait_video_frame()

    async def run(self) -> list[Path]:
        """All scenes, in order; returns the pictures written."""
        window = self.window
        timing = self.timing
        phase = timing.queued_seconds + timing.processing_seconds
        with step("open the window"):
            await wait_until(window.isVisible, "the window to be shown", 10)
            await wait_until(
                lambda: window.composer.model_combo.count() > 0, "the model catalogue", 15
            )
        with step("composer.png"):
            await self.type_prompt(PROMPT_TYPED)
            await self.shoot("composer", self.check_banner)
        with step("image-input.png"):
            await self.show_image_input()
            composer = window.composer
            await self.shoot_part("image-input", composer, top=composer.model_combo)
            window.composer.images.clear()
        with step("submit a job and wait for its video"):
            await self.submit(PROMPT_DONE)
            done = await self.wait_state(PROMPT_DONE, {"completed"}, phase + 20)
        with step("submit the running jobs"):
            await self.submit(PROMPT_FAILED)
            running = PROMPTS_RUNNING[: timing.running_jobs]
            for index, prompt in enumerate(running):
                await self.submit(prompt)
                if index < len(running) - 1:
                    await asyncio.sleep(phase / (len(running) + 1))
            first = await self.wait_state(running[0], {"processing"}, phase + 10)
            self.select(first)
        with step("running-jobs.png"):
            await self.shoot("running-jobs", self.check_running)
        with step("main-window.png"):
            await self.open_preview(done)
            await self.shoot("main-window", self.check_video)
        with step("failure-review.png"):
            failed = await self.wait_state(PROMPT_FAILED, {"failed"}, phase + 15)
            self.select(failed)
            await wait_until(
                lambda: window.detail_stack.currentWidget() is window.review, "the review", 5
            )
            await self.shoot("failure-review", self.check_review)
        with step("preview.png"):
            for prompt in running:
                await self.wait_state(prompt, {"completed"}, phase + 20)
            await self.open_preview(self.job(running[0]))
            await self.shoot("preview", self.check_video)
        from scripts.screenshot_sets import batch_scene, compare_scene

        await compare_scene(self)
        await batch_scene(self)
        with step("cost-estimate.png"):
            await self.price_a_job()
            await self.shoot("cost-estimate", self.check_estimate)
        with step("spend-view.png"):
            self.window.composer.submit_button.click()  # Veo 3.1 Lite, as priced above
            await self.wait_state(PROMPT_PRICED, {"completed"}, phase + 30)
            await self.open_spend()
            await self.shoot("spend-view", self.check_spend)
            self.window.costs.view.close()  # type: ignore[union-attr]
        with step("gallery.png"):
            await self.show_gallery(self.job(running[1]))
            await self.shoot("gallery", self.check_gallery)
        with step("gallery-dark.png"):
            from ui.theme import ThemeChoice, app_theme

            app_theme().apply(ThemeChoice.DARK)
            await self.show_gallery(self.job(running[1]))
            await self.shoot("gallery-dark", self.check_gallery)
        return self.written

    async def show_gallery(self, job: Job) -> None:
        """Switch to the Gallery, select ``job`` and hover two thirds across its card."""
        from PySide6.QtCore import QPoint
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QToolTip

        jobs_view = self.window.jobs_view
        jobs_view.mode_toggle.gallery_button.click()
        gallery = jobs_view.gallery
        QTest.mouseMove(gallery.viewport(), QPoint(1, 1))  # a pointer at rest shows a tooltip
        QToolTip.hideText()
        self.select(job)
        source = self.window.model.row_of(job.local_id)
        index = jobs_view.proxy.mapFromSource(self.window.model.index(source or 0, 1))
        rect = gallery.visualRect(index)
        point = QPoint(rect.left() + rect.width() * 2 // 3, rect.top() + rect.height() // 3)
        QTest.mouseMove(gallery.viewport(), point)
        await wait_until(
            lambda: gallery.frames is not None and gallery.frames.frames(job) is not None,
            "the scrub frames of the hovered card",
            15,
        )

    def check_gallery(self, _image: QImage) -> None:
        """The gallery is shown with every listed job and the hovered card is scrubbed."""
        gallery = self.window.jobs_view.gallery
        if not gallery.isVisible():
            raise ScreenshotError("the gallery is not shown")
        if gallery.model().rowCount() != len(self.window.model.jobs()):
            raise ScreenshotError("the gallery does not list every job")
        if gallery.scrubbed_job() is None:
            raise ScreenshotError("no card is being scrubbed")


def colours_in(
    image: QImage, x: int, y: int, width: int, height: int, steps: int = 16
) -> set[tuple[int, int, int]]:
    """The distinct colours on a ``steps`` x ``steps`` grid over a rectangle of ``image``."""
    found: set[tuple[int, int, int]] = set()
    for row in range(steps):
        for column in range(steps):
            px = x + (column * 2 + 1) * width // (steps * 2)
            py = y + (row * 2 + 1) * height // (steps * 2)
            if 0 <= px < image.width() and 0 <= py < image.height():
                colour = image.pixelColor(px, py)
                found.add((colour.red(), colour.green(), colour.blue()))
    return found


def check_not_blank(image: QImage, name: str) -> None:
    """Fail when a picture has the wrong size or is (nearly) one colour."""
    expected = WINDOW
    if (image.width(), image.height()) != expected:
        raise ScreenshotError(
            f"{name}: the grab is {image.width()}x{image.height()}, expected "
            f"{expected[0]}x{expected[1]} (is the window clipped by the screen?)"
        )
    colours = colours_in(image, 0, 0, image.width(), image.height(), steps=32)
    if len(colours) < 6:
        raise ScreenshotError(f"{name}: the picture is nearly blank ({len(colours)} colours)")


def dusk_picture(width: int = 480, height: int = 270) -> bytes:
    """A small PNG of a sunset over the sea (sky gradient, sun, dark water), made with numpy."""
    import numpy as np

    from tests.image_server import png_from_pixels

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (y / (height * 0.62))[..., None]
    sky = (1 - t) * np.array([70, 60, 140]) + t * np.array([250, 150, 70])
    sea = (
        np.array([20, 40, 70])
        + 30 * np.sin(x / 9 + y / 3)[..., None] * (y > height * 0.62)[..., None]
    )
    image = np.where((y < height * 0.62)[..., None], sky, sea)
    sun = (x - width * 0.5) ** 2 + (y - height * 0.58) ** 2 < (height * 0.13) ** 2
    image[sun & (y < height * 0.62)] = (255, 225, 140)
    return png_from_pixels(width, height, np.clip(image, 0, 255).astype(np.uint8).tobytes())


def start_image_server(stack: contextlib.ExitStack) -> tuple[str, str]:
    """Serve the picture over HTTPS on 127.0.0.1 (a certificate made now); (URL, CA bundle)."""
    from tests.image_server import Route, serve_images

    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="reelgate-image-"))
    server = stack.enter_context(serve_images(Path(folder)))
    server.routes["/lighthouse-at-dusk.png"] = Route(dusk_picture())
    return server.url("/lighthouse-at-dusk.png"), server.ca_bundle


def run_driver(out: Path, quick: bool) -> int:
    """Inside Xvfb: open the real window in demo mode and take the pictures."""
    sys.path.insert(0, str(ROOT))
    if os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"):
        return fail("--drive runs inside Xvfb; start the script without --drive")
    import qasync
    from PySide6.QtCore import QTimer

    from core.context import open_context
    from core.logsetup import setup_logging
    from core.paths import resolve_paths
    from ui.app import install_qt_logging, make_application

    timing = QUICK if quick else FULL
    images = contextlib.ExitStack()
    image_url, overrides = None, timing.overrides()
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        image_url, overrides["image_ca_bundle"] = start_image_server(images)
    paths = resolve_paths(None).ensure()
    setup_logging(paths.logs, verbose=False)
    install_qt_logging()
    app = make_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    outcome: dict[str, Any] = {}

    async def main() -> None:
        from ui.controller import Controller
        from ui.main_window import MainWindow

        with step("open the demo context"):
            context = open_context(demo=True, demo_overrides=overrides)
        window: MainWindow | None = None
        try:
            with step("build the main window"):
                window = MainWindow(Controller(context, loop=asyncio.get_running_loop()))
                window.resize(*WINDOW)
                window.move(*WINDOW_POS)
                window.show()
                window.activateWindow()
                window.start()
                window.composer.images.ca_bundle = overrides.get("image_ca_bundle")
            outcome["written"] = await Driver(window, out, timing, image_url).run()
        finally:
            if window is not None:
                window.close_without_asking()
            else:
                context.close()

    def finish(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            outcome["error"] = task.exception()
        QTimer.singleShot(0, loop.stop)

    with loop, images:
        task = loop.create_task(main())
        task.add_done_callback(finish)
        loop.run_forever()
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, ScreenshotError):
            return fail(f"failed at step {error}")
        return fail(f"failed: {error!r}")
    for path in outcome.get("written", []):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line; run the outer process or (``--drive``) the window driver."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="shorter demo timings and fewer jobs (for tests)"
    )
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.drive:
        return run_driver(out, args.quick)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the Xvfb clean-up
    return run_outer(out, args.quick)


if __name__ == "__main__":
    sys.exit(main())
