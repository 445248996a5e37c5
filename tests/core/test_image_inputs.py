"""Image inputs: which models take them, the create body they make, the checks and the journal."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.catalogue import parse_catalogue
from core.demo_gateway.catalogue import catalogue_json
from core.image_files import ImageError, data_url_bytes, read_image_file, sniff_image_type
from core.image_inputs import MAX_BODY_BYTES, MAX_DATA_URL_CHARS, ImageInput
from core.image_rules import body_bytes, check_image_url, image_support, with_images
from core.jobs import Created, Job, JobParams, JobState, apply
from core.journal import Journal
from core.journal_codec import job_from_dict, job_from_json, job_to_doc, params_from_dict
from core.validation import validate
from core.wire import parse_job
from tests.image_server import png_bytes

RED = "https://images.example/red.png"
MODELS = {model.id: model for model in parse_catalogue(catalogue_json())}


def _params(model: str, *images: ImageInput, **changes: object) -> JobParams:
    info = MODELS[model]
    durations = info.durations.options() if info.durations else [8]
    base = JobParams(model=model, prompt="A red ball rolls", duration=int(durations[0]))
    ratios = info.aspect_ratios.options() if info.aspect_ratios else []
    base = replace(base, aspect_ratio=str(ratios[0]) if ratios else None)
    return replace(with_images(base, images, info), **changes)  # type: ignore[arg-type]


def _messages(params: JobParams) -> list[str]:
    return [p.message for p in validate(params, MODELS[params.model]) if p.field == "images"]


# --- the catalogue says which models take images ---------------------------------------------


def test_catalogue_names_image_models_however_the_gateway_spells_them() -> None:
    BOTH = ["text", "image"]
    document = {
        "data": [
            {"model": "a/text", "input_types": ["text"], "supported_params": ["prompt"]},
            {
                "model": "g/veo",
                "input_types": BOTH,
                "supported_params": ["input_image", "last_frame"],
            },
            {"model": "g/any", "input_types": BOTH, "supported_params": ["prompt"]},
            {"model": "o/sora", "input_types": BOTH, "supported_params": ["input_reference"]},
            {"model": "m/fast", "input_types": ["image"], "supported_params": ["input_image"]},
            {"model": "x/refs", "supported_params": ["reference_images"]},
        ]
    }
    support = {model.id: image_support(model) for model in parse_catalogue(document)}
    assert not support["a/text"].accepts
    assert support["g/veo"].roles == ("first_frame", "last_frame")
    assert support["g/veo"].field == "input_references" and not support["g/veo"].accepts_data_url
    assert support["g/any"].roles == ("first_frame", "last_frame", "reference")
    assert support["o/sora"].field == "input_reference" and support["o/sora"].accepts_data_url
    assert support["o/sora"].max_images == 1
    assert support["m/fast"].requires and support["m/fast"].accepts
    assert support["x/refs"].accepts and support["x/refs"].roles == ("reference",)
    assert not support["g/veo"].requires


def test_the_demo_catalogue_marks_image_models_like_the_real_one() -> None:
    items = {item["model"]: item for item in catalogue_json()["data"]}
    assert items["google/veo-3.1-preview"]["input_types"] == ["text", "image"]
    assert items["minimax/hailuo-2.3-fast"]["input_types"] == ["image"]
    assert items["minimax/hailuo-02"]["input_types"] == ["text"]
    assert "input_reference" in items["openai/sora-2"]["supported_params"]
    assert image_support(MODELS["minimax/hailuo-2.3-fast"]).requires


# --- the create body ------------------------------------------------------------------------


def test_input_references_body_is_exactly_the_documented_shape() -> None:
    params = _params(
        "demo/test-pattern",
        ImageInput(RED, "first_frame"),
        ImageInput("https://images.example/b.png"),
    )
    body = params.to_request()
    assert body["input_references"] == [
        {"type": "image_url", "role": "first_frame", "image_url": {"url": RED}},
        {"type": "image_url", "image_url": {"url": "https://images.example/b.png"}},
    ]
    assert "images" not in body and "image_field" not in body and "input_reference" not in body


def test_openai_native_models_get_one_input_reference() -> None:
    params = _params("openai/sora-2", ImageInput(RED))
    body = params.to_request()
    assert body["input_reference"] == {"image_url": RED}
    assert "input_references" not in body


def test_a_request_without_images_is_unchanged() -> None:
    params = _params("demo/test-pattern")
    assert set(params.to_request()) == {"model", "prompt", "duration", "aspect_ratio"}


def test_body_size_counts_the_data_url_as_sent() -> None:
    data = "data:image/png;base64," + "A" * 5000
    params = _params("openai/sora-2", ImageInput(data, file="/tmp/x.png"))
    assert body_bytes(params) == len(json.dumps(params.to_request()))


# --- checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://images.example/a.png", "http://"),
        ("ftp://images.example/a.png", "https://"),
        ("images.example/a.png", "https://"),
        ("https:///a.png", "host"),
        ("https://images.example/a b.png", "spaces"),
        ("", "Enter"),
    ],
)
def test_image_urls_must_be_https(url: str, words: str) -> None:
    problem = check_image_url(url)
    assert problem is not None and words in problem
    assert any(
        words in message for message in _messages(_params("demo/test-pattern", ImageInput(url)))
    )


def test_a_good_https_url_passes() -> None:
    assert check_image_url(RED) is None
    assert _messages(_params("demo/test-pattern", ImageInput(RED, "first_frame"))) == []


def test_a_text_only_model_refuses_images() -> None:
    params = _params("minimax/hailuo-02", ImageInput(RED))
    assert _messages(replace(params, image_field="input_references")) == [
        "minimax/hailuo-02 does not take images; remove the image or choose a model that does."
    ]


def test_an_image_to_video_only_model_needs_a_first_frame() -> None:
    assert "add a first-frame image" in _messages(_params("minimax/hailuo-2.3-fast"))[0]
    assert _messages(_params("minimax/hailuo-2.3-fast", ImageInput(RED))) == []


def test_roles_must_be_known_and_offered_by_the_model() -> None:
    odd = _messages(_params("demo/test-pattern", ImageInput(RED, "mask")))
    assert odd and "first frame, last frame or reference" in odd[0]
    lite = _messages(_params("google/veo-3.1-lite-preview", ImageInput(RED, "reference")))
    assert lite == ["google/veo-3.1-lite-preview does not take a reference image."]
    two = _messages(
        _params("demo/test-pattern", ImageInput(RED, "first_frame"), ImageInput(RED, "first_frame"))
    )
    assert two == ["Give only one first frame image."]


def test_local_files_only_for_models_taking_a_data_url() -> None:
    data = "data:image/png;base64,iVBORw0KGgo="
    veo = _messages(_params("google/veo-3.1-preview", ImageInput(data, file="/tmp/a.png")))
    assert veo == [
        "google/veo-3.1-preview needs an image on the web (an https:// URL); it cannot take a "
        "local file."
    ]
    assert _messages(_params("openai/sora-2", ImageInput(data, file="/tmp/a.png"))) == []


def test_data_urls_must_be_images_and_within_the_limits() -> None:
    text = _messages(
        _params("openai/sora-2", ImageInput("data:text/plain;base64,aGk=", file="/a.txt"))
    )
    assert text and "is not an image (text/plain)" in text[0]
    huge = "data:image/png;base64," + "A" * (MAX_DATA_URL_CHARS + 1 - 22)
    over = _messages(_params("openai/sora-2", ImageInput(huge, file="/tmp/big.png")))
    assert over and "28,000,000" in over[0]
    body = "data:image/png;base64," + "A" * (MAX_BODY_BYTES + 10)
    too_big = _messages(_params("openai/sora-2", ImageInput(body, file="/tmp/big.png")))
    assert too_big and "16.0 MiB" in too_big[0] and "smaller file" in too_big[0]


def test_sora_takes_one_image() -> None:
    params = _params("openai/sora-2", ImageInput(RED), ImageInput("https://images.example/b.png"))
    messages = _messages(params)
    assert "openai/sora-2 takes 1 image; remove the others." in messages


# --- local files ----------------------------------------------------------------------------


def test_reading_a_local_image_makes_a_data_url(tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes(4, 4, (255, 0, 0)))
    image = read_image_file(path, "first_frame")
    assert image.url.startswith("data:image/png;base64,iVBORw0KGgo")
    assert image.file == str(path.resolve()) and image.role == "first_frame"
    assert data_url_bytes(image.url) == path.read_bytes()  # the file comes back whole


def test_a_data_url_that_is_not_base64_is_refused_in_words() -> None:
    with pytest.raises(ImageError, match="not valid base64"):
        data_url_bytes("data:image/png;base64,not*base64!")


def test_a_file_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ImageError, match=r"notes\.txt is not a PNG, JPEG, WebP or GIF image"):
        read_image_file(path)
    with pytest.raises(ImageError, match="does not exist"):
        read_image_file(tmp_path / "gone.png")
    assert sniff_image_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"


# --- kept with the job ----------------------------------------------------------------------


def test_images_survive_the_journal_but_a_data_url_is_not_stored(tmp_path: Path) -> None:
    data = "data:image/png;base64," + "A" * 1000
    params = _params("openai/sora-2", ImageInput(data, "first_frame", file="/pics/a.png"))
    job = Job(
        local_id="j1", params=params, state=JobState.SUBMITTING, created_at=1.0, updated_at=1.0
    )
    doc = job_to_doc(job)
    assert "AAAA" not in doc
    back = job_from_json(doc)
    assert back.params.images == (ImageInput("", "first_frame", file="/pics/a.png"),)
    assert back.params.image_field == "input_reference"
    with Journal.open(tmp_path / "journal.db") as journal:
        url_job = replace(
            job, local_id="j2", params=_params("demo/test-pattern", ImageInput(RED, "last_frame"))
        )
        journal.insert(url_job)
        assert journal.get("j2").params == url_job.params  # type: ignore[union-attr]


def test_old_journal_records_without_images_still_load() -> None:
    old = {"model": "demo/test-pattern", "prompt": "p", "duration": 4, "aspect_ratio": "16:9"}
    assert params_from_dict(old).images == ()
    record = {
        "local_id": "x",
        "params": {**old, "images": [{"url": RED}, 7, "junk"]},
        "created_at": 1,
    }
    images = job_from_dict(record).params.images
    assert images == (ImageInput(RED), ImageInput("junk"))


def test_sent_jobs_drop_the_inline_data_but_keep_the_file() -> None:
    data = "data:image/png;base64,AAAA"
    params = _params("openai/sora-2", ImageInput(data, file="/pics/a.png"))
    job = Job(
        local_id="j", params=params, state=JobState.SUBMITTING, created_at=1.0, updated_at=1.0
    )
    created = apply(job, Created(parse_job({"id": "G-1", "status": "queued"}), 2.0))
    assert created.params.images == (ImageInput("", file="/pics/a.png"),)
    assert _params("openai/sora-2", ImageInput("", file="/pics/a.png")).images[0].describe() == (
        "Image: local file /pics/a.png (sent as a data: URL)"
    )
    reread = _messages(replace(created.params))
    assert reread == ["The image file /pics/a.png is still being read, or could not be read."]


def test_params_round_trip_through_to_dict() -> None:
    params = _params("demo/test-pattern", ImageInput(RED, "first_frame"))
    assert JobParams.from_dict(params.to_dict()) == params


def test_diagnostics_show_the_images_without_inline_data() -> None:
    from core.diagnostics import build_diagnostics

    data = "data:image/png;base64," + "B" * 500
    params = _params("openai/sora-2", ImageInput(data, file="/pics/a.png"))
    job = Job(local_id="j", params=params, state=JobState.FAILED, created_at=1.0, updated_at=1.0)
    document = build_diagnostics(job, [])
    assert document["parameters"]["images"] == [{"url": "", "file": "/pics/a.png"}]
    assert document["parameters"]["image_field"] == "input_reference"
    assert "BBBB" not in json.dumps(document)


def test_the_built_in_list_knows_the_image_models_too() -> None:
    from core.catalogue import FALLBACK_MODELS

    support = {model.id: image_support(model) for model in FALLBACK_MODELS}
    assert support["openai/sora-2"].accepts_data_url
    assert support["google/veo-3.1-preview"].roles == ("first_frame", "last_frame", "reference")
    assert not support["minimax/hailuo-02"].accepts


def test_a_compare_set_sends_images_the_way_each_model_takes_them() -> None:
    from core.job_sets import compare_plan

    params = _params("google/veo-3.1-preview", ImageInput(RED, "first_frame"))
    models = [
        MODELS["google/veo-3.1-preview"],
        MODELS["openai/sora-2"],
        MODELS["minimax/hailuo-02"],
    ]
    veo, sora, hailuo = compare_plan(params, models)
    assert veo.params.to_request()["input_references"][0]["image_url"] == {"url": RED}
    assert sora.params.to_request()["input_reference"] == {"image_url": RED}
    assert hailuo.params.images == () and "no images" in hailuo.adjusted
    assert all(_messages(job.params) == [] for job in (veo, sora, hailuo))
