"""The linked-set scenes of ``scripts/screenshots.py``: a Compare view and the Batch dialog.

    compare.png   one prompt sent to three demo-gateway models, the clips playing side by side
    batch.png     the Batch dialog over the window: pasted prompts, their preview and total

Run by the screenshot driver inside Xvfb (see ``scripts/screenshots.py``), after its own scenes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from scripts.screenshots import Driver
    from ui.compare_view import CompareView

NAMES = ("compare", "batch")
#: Pixels at the top of the window left uncovered by the Compare view.
BANNER_ROOM = 110
COMPARED = ("demo/test-pattern", "google/veo-3.1-lite-preview", "openai/sora-2")
PROMPT_COMPARED = "A hot-air balloon rising over misty vineyards at sunrise, slow crane up"
BATCH_TEXT = """# Product shots for the spring catalogue
A ceramic teapot on a linen table, morning light, slow push-in
A pair of running shoes splashing through a puddle, 120 fps slow motion
A glass of iced lemonade with condensation, macro, rotating turntable
A wool scarf blowing on a clothesline against a blue sky
A leather notebook opening by itself, pages fluttering, top-down
"""


async def compare_scene(driver: Driver) -> None:
    """Send one prompt to three models with Compare models, then shoot the clips in the view."""
    from PySide6.QtCore import QPoint

    from scripts.screenshots import ScreenshotError, step, wait_until

    window = driver.window
    composer = window.composer
    phase = driver.timing.queued_seconds + driver.timing.processing_seconds
    with step("compare.png"):
        await driver.type_prompt(PROMPT_COMPARED)
        composer.duration.set_value(4)
        if not composer.compare_picker.button.isChecked():
            composer.compare_picker.button.click()
        composer.compare_picker.set_checked(list(COMPARED))
        if len(composer.compare_picker.chosen()) != len(COMPARED):
            raise ScreenshotError("the demo catalogue lacks one of the compared models")
        composer.submit_button.click()
        actions = window.set_actions
        await wait_until(lambda: actions.last_report is not None, "the compare set to be sent", 20)
        report = actions.last_report
        assert report is not None
        view = actions.views.get(report.set_id)
        if view is None:
            raise ScreenshotError("the Compare view did not open")
        # Over the window below its toolbar and demo banner (the banner stays in the picture).
        frame = window.frameGeometry()
        view.move(QPoint(frame.x(), frame.y() + BANNER_ROOM))
        view.resize(frame.width(), frame.height() - BANNER_ROOM)
        await wait_until(lambda: len(view.players) == len(COMPARED), "three clips", phase + 30)
        await wait_until(lambda: view.slider.maximum() > 3000, "the clips' durations", 10)
        view.play()
        await asyncio.sleep(1.2)
        view.pause()
        view.panes[1].keep_button.click()
        await asyncio.sleep(0.6)
        await shoot_over(driver, view, "compare", lambda image: check_clips(driver, view, image))
        view.close()
        composer.compare_picker.button.click()  # back to one model for the scenes after
        window.jobs_view.show_set(None)  # and every job listed again


async def batch_scene(driver: Driver) -> None:
    """Open the Batch dialog with pasted prompts and shoot its preview over the window."""
    from scripts.screenshots import ScreenshotError, step, wait_until
    from ui.batch_dialog import BatchDialog

    window = driver.window
    with step("batch.png"):
        composer = window.composer
        dialog = BatchDialog(
            composer.models,
            composer.params(),
            estimate=window.set_actions.estimator,
            submit=window.controller.run_background,
            parent=window,
        )
        dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("demo/test-pattern"))
        dialog.duration_spin.setValue(4)
        dialog.set_text(BATCH_TEXT)
        dialog.seeds_spin.setValue(2)
        dialog.resize(980, 640)
        dialog.show()
        frame = window.frameGeometry()
        dialog.move(
            frame.x() + (frame.width() - dialog.width()) // 2,
            frame.y() + (frame.height() - dialog.height()) // 2,
        )
        await wait_until(dialog.isVisible, "the Batch dialog", 5)
        await wait_until(lambda: not dialog.pricing, "the batch's prices", 15)
        if dialog.table.rowCount() != 10 or not dialog.send_button.isEnabled():
            raise ScreenshotError(
                f"the preview lists {dialog.table.rowCount()} jobs; problems: {dialog.problems}"
            )
        await driver.shoot("batch")
        dialog.close()


async def shoot_over(driver: Driver, widget: Any, name: str, check: Any) -> None:
    """Grab the screen over the main window's frame while ``widget`` covers it."""
    widget.raise_()
    widget.activateWindow()
    await driver.shoot(name, check)


def check_clips(driver: Driver, view: CompareView, image: QImage) -> None:
    """Every clip's video area shows the test pattern, not a black box."""
    from PySide6.QtCore import QPoint

    from scripts.screenshots import ScreenshotError, colours_in

    frame = driver.window.frameGeometry()
    for index, pane in enumerate(view.panes):
        widget = pane.video
        if widget is None or not widget.isVisible():
            raise ScreenshotError(f"clip {index + 1} shows no video")
        origin = widget.mapToGlobal(QPoint(0, 0)) - frame.topLeft()
        width, height = widget.width(), widget.height()
        colours = colours_in(
            image, origin.x() + width // 4, origin.y() + height // 3, width // 2, height // 3, 10
        )
        if len({colour for colour in colours if max(colour) > 96}) < 3:
            raise ScreenshotError(f"clip {index + 1} shows no decoded frame")
