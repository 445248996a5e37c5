"""Tests for core.validation: every rule, with the exact message a person reads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalogue import FALLBACK_MODELS, ModelInfo, find_model, parse_catalogue
from core.demo_gateway.models import catalogue_json
from core.jobs import MAX_PROMPT_CHARS, JobParams
from core.validation import Problem, check_prompt, parse_duration, validate

LITE_ID = "google/veo-3.1-lite-preview"


def _model(model_id: str) -> ModelInfo:
    model = find_model(FALLBACK_MODELS, model_id)
    assert model is not None
    return model


LITE = _model(LITE_ID)
SORA = _model("openai/sora-2")
HAILUO = _model("minimax/hailuo-02")
DEMO = find_model(parse_catalogue(catalogue_json()), "demo/test-pattern")
assert DEMO is not None


def _params(**changes: Any) -> JobParams:
    base = JobParams(model=LITE_ID, prompt="A red fox in snow", duration=8, aspect_ratio="16:9")
    return replace(base, **changes)


# --- prompt ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t", "\u200b\u200f", "\u3000"])
def test_blank_prompt(text: str) -> None:
    assert check_prompt(text) == "Write a prompt describing the video."


def test_prompt_length_limit() -> None:
    assert MAX_PROMPT_CHARS == 32_000
    assert check_prompt("a" * 32_000) is None
    assert check_prompt("a" * 32_001) == "The prompt is 32,001 characters; the limit is 32,000."
    # counted in code points: 32,000 emoji are fine, one more is not
    assert check_prompt("🌅" * 32_000) is None
    assert check_prompt("🌅" * 32_001) == "The prompt is 32,001 characters; the limit is 32,000."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\x07", "The prompt contains a control character (U+0007) at position 1."),
        ("A fox\x00", "The prompt contains a control character (U+0000) at position 6."),
        (
            "sunrise ov\x07r a lake",
            "The prompt contains a control character (U+0007) at position 11.",
        ),
        ("abc\x7f", "The prompt contains a control character (U+007F) at position 4."),
        ("abc\x85", "The prompt contains a control character (U+0085) at position 4."),
        ("x\x1b[31m", "The prompt contains a control character (U+001B) at position 2."),
        (
            "fox \ud800",
            "The prompt contains an invalid character (U+D800, half of a broken pair) "
            "at position 5.",
        ),
    ],
)
def test_prompt_control_characters(text: str, message: str) -> None:
    assert check_prompt(text) == message


@pytest.mark.parametrize(
    "text",
    [
        "شروق الشمس فوق بحيرة جبلية",  # Arabic
        "זריחה מעל אגם הררי",  # Hebrew
        "\u200fזריחה\u200e over a lake",  # with bidi marks
        "A sunrise 🌅 over a lake 🏔️ with a family 👨‍👩‍👧",  # emoji with ZWJ and variation selectors
        "Line one\nLine two\r\n\tindented",
        "日の出、山の湖",
        "Ñandú corriendo — «cinemático»",
    ],
)
def test_prompt_any_script_and_emoji_accepted(text: str) -> None:
    assert check_prompt(text) is None
    assert validate(_params(prompt=text), LITE) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_check_prompt_never_raises(text: str) -> None:
    result = check_prompt(text)
    assert result is None or result.endswith(".")


# --- model, duration, aspect ratio, resolution ---------------------------------------------------


def test_valid_request_has_no_problems() -> None:
    assert validate(_params(), LITE) == []
    full = _params(
        resolution="1080p",
        negative_prompt="blur",
        seed=4_294_967_295,
        generate_audio=True,
        sample_count=4,
    )
    assert validate(full, LITE) == []


def test_unknown_model() -> None:
    assert validate(_params(model="google/veo-3.1-lite"), None) == [
        Problem(
            "model",
            "The model google/veo-3.1-lite is not in the catalogue. Choose one from the list.",
        )
    ]
    assert validate(_params(model="  "), None) == [Problem("model", "Choose a model.")]


def test_unknown_model_still_checks_general_limits() -> None:
    problems = validate(_params(model="x/y", duration=121, sample_count=5), None)
    assert [p.field for p in problems] == ["model", "duration", "sample_count"]


def test_duration_outside_model_enum() -> None:
    assert validate(_params(duration=5), LITE) == [
        Problem("duration", "Choose 4, 6 or 8 seconds for google/veo-3.1-lite-preview.")
    ]
    assert validate(_params(model=HAILUO.id, duration=8), HAILUO) == [
        Problem("duration", "Choose 6 or 10 seconds for minimax/hailuo-02.")
    ]


def test_duration_outside_model_range() -> None:
    assert DEMO is not None
    assert validate(_params(model=DEMO.id, duration=20), DEMO) == []
    assert validate(_params(model=DEMO.id, duration=21), DEMO) == [
        Problem("duration", "Choose between 1 and 20 seconds for demo/test-pattern.")
    ]


@pytest.mark.parametrize("duration", [0, -1, 121, 10**9])
def test_duration_general_limits(duration: int) -> None:
    assert validate(_params(duration=duration), LITE) == [
        Problem("duration", "The duration must be between 1 and 120 seconds.")
    ]


@pytest.mark.parametrize("duration", [8.0, "8", True, None])
def test_duration_must_be_an_int(duration: object) -> None:
    assert validate(_params(duration=duration), LITE) == [
        Problem("duration", "The duration must be a whole number of seconds.")
    ]


def test_aspect_ratio() -> None:
    assert validate(_params(aspect_ratio="1:1"), LITE) == [
        Problem(
            "aspect_ratio",
            "Choose an aspect ratio of 16:9 or 9:16 for google/veo-3.1-lite-preview.",
        )
    ]
    assert validate(_params(aspect_ratio=""), LITE) == [
        Problem("aspect_ratio", "Choose an aspect ratio.")
    ]


def test_size_only_models_take_a_listed_size_and_never_an_aspect_ratio() -> None:
    params = _params(model=SORA.id, duration=4, aspect_ratio=None)
    assert validate(replace(params, size="720x1280"), SORA) == []
    assert validate(replace(params, size="640x480"), SORA) == [
        Problem("size", "Choose a size of 1280x720 or 720x1280 for openai/sora-2.")
    ]
    assert validate(params, SORA) == [
        Problem("size", "Choose a size of 1280x720 or 720x1280 for openai/sora-2.")
    ]
    assert validate(replace(params, aspect_ratio="9:16"), SORA) == [
        Problem(
            "aspect_ratio",
            "openai/sora-2 takes a size, not an aspect ratio: choose 1280x720 or 720x1280.",
        )
    ]
    assert validate(_params(size="1280x720"), LITE) == [
        Problem(
            "size",
            "google/veo-3.1-lite-preview does not let you choose a size; leave it unset.",
        )
    ]


def test_resolution() -> None:
    assert validate(_params(resolution="4k"), LITE) == [
        Problem(
            "resolution",
            "Choose a resolution of 720p or 1080p for google/veo-3.1-lite-preview.",
        )
    ]
    assert validate(
        _params(model=SORA.id, duration=4, aspect_ratio=None, size="1280x720", resolution="720p"),
        SORA,
    ) == [Problem("resolution", "openai/sora-2 does not support choosing a resolution.")]
    assert validate(_params(resolution=" "), LITE) == [
        Problem("resolution", "Choose a resolution, or leave it unset.")
    ]


# --- optional parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("negative_prompt", "blur", "openai/sora-2 does not support negative prompts."),
        ("seed", 7, "openai/sora-2 does not support a fixed seed."),
        ("generate_audio", False, "openai/sora-2 does not support generating audio."),
        ("sample_count", 2, "openai/sora-2 does not support choosing the number of videos."),
        ("enhance_prompt", True, "openai/sora-2 does not support prompt enhancement."),
    ],
)
def test_unsupported_parameters(field: str, value: object, message: str) -> None:
    params = _params(
        model=SORA.id, duration=4, aspect_ratio=None, size="1280x720", **{field: value}
    )
    assert validate(params, SORA) == [Problem(field, message)]


def test_unsupported_reported_once_even_if_value_is_also_bad() -> None:
    params = _params(model=SORA.id, duration=4, aspect_ratio=None, size="1280x720", seed=-5)
    assert validate(params, SORA) == [
        Problem("seed", "openai/sora-2 does not support a fixed seed.")
    ]


@pytest.mark.parametrize("count", [0, 5, -1, True, 2.0])
def test_sample_count_limits(count: object) -> None:
    assert validate(_params(sample_count=count), LITE) == [
        Problem("sample_count", "The number of videos must be between 1 and 4.")
    ]


def test_sample_count_narrower_model_rule() -> None:
    model = parse_catalogue(
        {
            "data": [
                {
                    "model": "x/y",
                    "supported_params_detail": {
                        "duration": {"type": "number", "min": 1, "max": 10},
                        "sample_count": {"type": "number", "min": 1, "max": 2},
                    },
                }
            ]
        }
    )[0]
    assert validate(_params(model="x/y", sample_count=3), model) == [
        Problem("sample_count", "Choose between 1 and 2 videos for x/y.")
    ]


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", False])
def test_seed_limits(seed: object) -> None:
    assert validate(_params(seed=seed), LITE) == [
        Problem("seed", "The seed must be a whole number from 0 to 4,294,967,295.")
    ]


def test_seed_bounds_accepted() -> None:
    assert validate(_params(seed=0), LITE) == []
    assert validate(_params(seed=2**32 - 1), LITE) == []


def test_switches_must_be_booleans() -> None:
    assert validate(_params(generate_audio=1), LITE) == [
        Problem("generate_audio", "Audio generation must be either on or off.")
    ]
    assert DEMO is not None
    assert validate(_params(model=DEMO.id, enhance_prompt="yes"), DEMO) == [
        Problem("enhance_prompt", "Prompt enhancement must be either on or off.")
    ]


def test_negative_prompt_rules() -> None:
    assert validate(_params(negative_prompt="a" * 32_000), LITE) == []
    assert validate(_params(negative_prompt="a" * 32_001), LITE) == [
        Problem("negative_prompt", "The negative prompt is 32,001 characters; the limit is 32,000.")
    ]
    assert validate(_params(negative_prompt="no \x07 beeps"), LITE) == [
        Problem(
            "negative_prompt",
            "The negative prompt contains a control character (U+0007) at position 4.",
        )
    ]
    assert validate(_params(negative_prompt="بدون ضباب 🌫️"), LITE) == []


def test_negative_prompt_model_max_length() -> None:
    assert DEMO is not None  # the demo catalogue says max_length 2000
    params = _params(model=DEMO.id, duration=4)
    assert validate(replace(params, negative_prompt="a" * 2000), DEMO) == []
    assert validate(replace(params, negative_prompt="a" * 2001), DEMO) == [
        Problem("negative_prompt", "The negative prompt is 2,001 characters; the limit is 2,000.")
    ]


def test_problems_come_in_form_order() -> None:
    params = _params(
        prompt="",
        duration=5,
        aspect_ratio="1:1",
        resolution="4k",
        seed=-1,
        sample_count=9,
    )
    assert [p.field for p in validate(params, LITE)] == [
        "prompt",
        "duration",
        "aspect_ratio",
        "resolution",
        "seed",
        "sample_count",
    ]


# --- parse_duration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("8", 8),
        ("8s", 8),
        (" 8 ", 8),
        ("8 S", 8),
        ("12 seconds", 12),
        ("+4", 4),
        ("010", 10),
        ("1", 1),
        ("120", 120),
    ],
)
def test_parse_duration_accepts(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The duration is missing; give whole seconds, for example 8."),
        ("   ", "The duration is missing; give whole seconds, for example 8."),
        ("abc", '"abc" is not a duration; give whole seconds, for example 8.'),
        ("8.5", '"8.5" is not a whole number of seconds; give whole seconds, for example 8.'),
        ("8,5s", '"8,5s" is not a whole number of seconds; give whole seconds, for example 8.'),
        ("-1", '"-1" is not a duration; it must be between 1 and 120 seconds.'),
        ("0", "0 is out of range; the duration must be between 1 and 120 seconds."),
        ("121s", "121s is out of range; the duration must be between 1 and 120 seconds."),
        ("8m", '"8m" is not a duration; give whole seconds, for example 8.'),
        ("٨", '"٨" is not a duration; give whole seconds, for example 8.'),
        (
            "9" * 5000,
            f"{'9' * 20}… is out of range; the duration must be between 1 and 120 seconds.",
        ),
        ("8\x00", '"8?" is not a duration; give whole seconds, for example 8.'),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    assert parse_duration(text) == Problem("duration", message)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_parse_duration_never_raises(text: str) -> None:
    result = parse_duration(text)
    assert isinstance(result, Problem) or 1 <= result <= 120
