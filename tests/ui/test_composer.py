"""Composer: offers exactly the model's values, validates inline, submits with Ctrl+Enter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QSpinBox

from core.catalogue import FALLBACK_MODELS, parse_catalogue
from core.context import open_context
from core.jobs import JobParams, JobState
from core.secrets import MemorySecretStore
from ui.composer import Composer
from ui.controller import Controller
from ui.main_window import MainWindow

#: One model per constraint shape the gateway uses for allowed values.
CATALOGUE = {
    "object": "list",
    "data": [
        {
            "model": "acme/enum",
            "name": "Enum durations",
            "supported_params": ["prompt", "duration", "aspect_ratio", "resolution", "seed"],
            "supported_params_detail": {
                "duration": {"type": "enum", "values": [4, 6, 8], "aliases": ["seconds"]},
                "aspect_ratio": {"type": "string", "enum": ["16:9", "9:16"]},
                "resolution": {"type": "string", "enum": ["720p", "1080p"], "default": "720p"},
                "seed": {"type": "integer", "min": 0, "max": 4294967295},
            },
        },
        {
            "model": "acme/strings",
            "name": "String durations",
            "supported_params": ["prompt", "seconds", "aspect_ratio"],
            "supported_params_detail": {
                "seconds": {"type": "string", "enum": ["6", "10"], "default": "6"},
                "aspect_ratio": {"type": "enum", "values": ["1:1"]},
            },
        },
        {
            "model": "acme/range",
            "name": "Range of durations",
            "supported_params": ["prompt", "duration", "aspect_ratio", "generate_audio"],
            "supported_params_detail": {
                "duration": {"type": "number", "min": 1, "max": 20},
                "aspect_ratio": {
                    "type": "string",
                    "enum": ["16:9", "9:16", "1:1"],
                    "default": "9:16",
                },
                "generate_audio": {"type": "boolean", "default": False},
            },
        },
        {
            "model": "acme/fixed",
            "name": "No aspect choice",
            "supported_params": ["prompt", "duration", "resolution"],
            "supported_params_detail": {
                "duration": {"type": "enum", "values": [6, 10]},
                "resolution": {"type": "string", "enum": ["768P", "1080P"]},
            },
        },
        {
            "model": "acme/sized",
            "name": "Size only (like Sora)",
            "supported_params": ["prompt", "duration", "size"],
            "supported_params_detail": {
                "duration": {"type": "enum", "values": [4, 8, 12]},
                "size": {
                    "type": "string",
                    "enum": ["1280x720", "720x1280", "1792x1024", "1024x1792"],
                    "default": "1280x720",
                },
            },
        },
    ],
}
MODELS = parse_catalogue(CATALOGUE)


@pytest.fixture
def composer(qtbot: Any) -> Composer:
    widget = Composer()
    qtbot.addWidget(widget)
    widget.set_models(MODELS, "live")
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def choose(composer: Composer, model_id: str) -> None:
    composer.model_combo.setCurrentIndex(composer.model_combo.findData(model_id))


def aspects(composer: Composer) -> list[str]:
    combo = composer.aspect_combo
    return [combo.itemData(i) for i in range(combo.count())]


def test_each_model_offers_exactly_its_durations_and_aspect_ratios(composer: Composer) -> None:
    choose(composer, "acme/enum")
    duration = composer.findChild(QComboBox, "durationInput")
    assert duration is not None and duration is composer.duration_input
    assert [duration.itemData(i) for i in range(duration.count())] == [4, 6, 8]
    assert aspects(composer) == ["16:9", "9:16"]

    choose(composer, "acme/strings")
    duration = composer.findChild(QComboBox, "durationInput")
    assert duration is not None
    assert [duration.itemData(i) for i in range(duration.count())] == [6, 10]
    assert aspects(composer) == ["1:1"]

    choose(composer, "acme/range")
    spin = composer.findChild(QSpinBox, "durationInput")
    assert spin is not None and composer.findChild(QComboBox, "durationInput") is None
    assert (spin.minimum(), spin.maximum()) == (1, 20)
    assert aspects(composer) == ["16:9", "9:16", "1:1"]
    assert composer.aspect_combo.currentData() == "1:1"  # still allowed, so kept


def test_advanced_options_appear_only_where_the_model_supports_them(composer: Composer) -> None:
    composer.advanced_toggle.setChecked(True)
    advanced = composer.advanced
    choose(composer, "acme/enum")
    assert advanced.resolution_combo.isVisible() and advanced.seed_edit.isVisible()
    assert not advanced.audio_check.isVisible()
    resolutions = [advanced.resolution_combo.itemData(i) for i in range(3)]
    assert resolutions == [None, "720p", "1080p"]
    choose(composer, "acme/range")
    assert advanced.audio_check.isVisible()
    assert not advanced.resolution_combo.isVisible() and not advanced.seed_edit.isVisible()
    choose(composer, "acme/strings")
    assert not composer.advanced_toggle.isEnabled()


def test_invalid_prompts_disable_submit_and_say_why(composer: Composer, qtbot: Any) -> None:
    problem = composer.prompt_problem
    sent: list[object] = []
    composer.submit_requested.connect(lambda *args: sent.append(args))
    # A window just opened says nothing in red; pressing Generate says what is missing.
    assert not problem.isVisible() and composer.submit_button.isEnabled()
    qtbot.mouseClick(composer.submit_button, Qt.MouseButton.LeftButton)
    assert sent == []
    assert not composer.submit_button.isEnabled()
    assert problem.isVisible() and "Write a prompt" in problem.text()

    composer.prompt_edit.setPlainText("x" * 32_001)
    assert not composer.submit_button.isEnabled()
    assert composer.counter.text() == "32,001 / 32,000"
    assert composer.counter.property("tone") == "problem"
    assert problem.isVisible() and "32,000" in problem.text()

    composer.prompt_edit.setPlainText("x" * 32_000)
    assert composer.submit_button.isEnabled()
    assert not problem.isVisible()
    assert composer.counter.text() == "32,000 / 32,000"
    assert composer.counter.property("tone") is None


def test_a_bad_seed_is_explained_next_to_the_seed(composer: Composer) -> None:
    choose(composer, "acme/enum")
    composer.prompt_edit.setPlainText("A lighthouse")
    composer.advanced.seed_edit.setText("9999999999")
    assert not composer.submit_button.isEnabled()
    assert composer.advanced_toggle.isChecked()
    assert "seed" in composer.advanced.problems["seed"].text()


def test_ctrl_enter_submits_a_valid_request(composer: Composer, qtbot: Any) -> None:
    choose(composer, "acme/enum")
    composer.duration.set_value(6)
    with qtbot.assertNotEmitted(composer.submit_requested):
        qtbot.keyClick(composer.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    composer.prompt_edit.setPlainText("A paper boat on a river")
    with qtbot.waitSignal(composer.submit_requested) as blocker:
        qtbot.keyClick(composer.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    params, parent = blocker.args
    assert params == JobParams(
        model="acme/enum", prompt="A paper boat on a river", duration=6, aspect_ratio="16:9"
    )
    assert parent is None
    assert composer.prompt_edit.toPlainText() == "A paper boat on a river"  # no newline added


def test_resubmit_fills_the_form_and_links_the_parent(composer: Composer, qtbot: Any) -> None:
    params = JobParams(
        model="acme/range", prompt="Again, but slower", duration=13, aspect_ratio="1:1"
    )
    composer.fill_from(params, parent_id="parent-1")
    assert composer.current_model().id == "acme/range"
    assert composer.duration.value() == 13
    assert composer.aspect_combo.currentData() == "1:1"
    with qtbot.waitSignal(composer.submit_requested) as blocker:
        composer.submit_button.click()
    assert blocker.args == [params, "parent-1"]


def test_last_settings_are_restored_when_the_models_arrive(qtbot: Any) -> None:
    widget = Composer()
    qtbot.addWidget(widget)
    widget.restore({"model": "acme/enum", "duration": 8, "aspect_ratio": "9:16", "seed": 7})
    widget.set_models(MODELS, "live")
    assert widget.current_model().id == "acme/enum"
    assert widget.duration.value() == 8
    assert widget.aspect_combo.currentData() == "9:16"
    assert widget.advanced.seed_edit.text() == "7"


def test_the_built_in_list_is_marked_when_the_gateway_cannot_be_reached(
    tmp_path: Path, qtbot: Any
) -> None:
    context = open_context(
        data_dir=tmp_path,
        base_url="http://127.0.0.1:9/v1",
        demo=False,
        secrets=MemorySecretStore("phaseo_v1_sk_OFFLINE"),
    )
    controller = Controller(context)
    composer = Composer()
    qtbot.addWidget(composer)
    controller.catalogue_loaded.connect(composer.set_models)
    try:
        with qtbot.waitSignal(controller.catalogue_loaded, timeout=10_000) as blocker:
            controller.load_catalogue()
    finally:
        controller.close()
    models, source = blocker.args
    assert source == "built-in list (offline)"
    assert [m.id for m in models] == [m.id for m in FALLBACK_MODELS]
    assert "built-in list (offline)" in composer.source_label.text()
    assert composer.model_combo.count() == len(FALLBACK_MODELS)


@pytest.mark.parametrize(
    ("keyword", "words", "status"),
    [
        ("[policy]", "content policy", "HTTP 403"),
        ("[funds]", "out of credit", "HTTP 402"),
        ("[disabled]", "The video API is not enabled for this account", "HTTP 501"),
    ],
)
def test_a_refused_submission_is_explained_and_the_prompt_kept(
    window: MainWindow, wait_for: Any, keyword: str, words: str, status: str
) -> None:
    composer = window.composer
    choose(composer, "demo/test-pattern")
    prompt = f"{keyword} A parade of elephants"
    composer.prompt_edit.setPlainText(prompt)
    composer.submit_button.click()
    wait_for(lambda: composer.submit_error.isVisible())
    text = composer.submit_error.text()
    assert words in text and status in text
    assert "allowed values" not in text
    assert composer.prompt_edit.toPlainText() == prompt
    assert composer.submit_button.isEnabled()
    rejected = window.jobs_view.selected_job()
    assert rejected is not None and rejected.state is JobState.REJECTED


def test_a_model_without_aspect_choice_sends_none(composer: Composer) -> None:
    composer.prompt_edit.setPlainText("A kite over the dunes")
    choose(composer, "acme/fixed")
    assert not composer.aspect_combo.isEnabled()
    assert composer.aspect_combo.currentText() == "Model default"
    params = composer.params()
    assert params.aspect_ratio is None and "aspect_ratio" not in params.to_request()
    assert composer.submit_button.isEnabled()


def test_a_size_only_model_offers_every_listed_size_and_sends_size_not_aspect(
    composer: Composer,
) -> None:
    choose(composer, "acme/enum")
    assert composer.aspect_combo.accessibleName() == "Aspect ratio"
    choose(composer, "acme/sized")
    # Two sizes share 16:9 and two 9:16: each stays a choice of its own.
    assert aspects(composer) == ["1280x720", "720x1280", "1792x1024", "1024x1792"]
    assert composer.aspect_combo.itemText(2) == "1792x1024 (16:9)"
    assert composer.aspect_combo.accessibleName() == "Size"
    assert composer.aspect_label.text() == "&Size:"
    composer.aspect_combo.setCurrentIndex(3)
    composer.prompt_edit.setPlainText("a tall waterfall")
    params = composer.params()
    assert params.size == "1024x1792" and params.aspect_ratio is None
    assert "aspect_ratio" not in params.to_request() and composer.problems() == []
    choose(composer, "acme/range")
    params = composer.params()
    assert params.size is None and params.aspect_ratio is not None
