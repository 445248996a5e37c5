"""Image-to-video end to end: real HTTP, the demo gateway fetching from a local HTTPS server.

What the gateway received is asserted from its own record of create bodies, and the first
frame of the saved MP4 is decoded with PyAV to show the image's colour.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import av
import pytest

from core.catalogue import ModelInfo, find_model, parse_catalogue
from core.demo_gateway import DemoGateway
from core.engine import Engine
from core.image_files import read_image_file
from core.image_inputs import ImageInput
from core.image_rules import with_images
from core.jobs import Cause, DownloadState, JobParams, JobState
from tests.e2e.conftest import build_engine
from tests.e2e.test_cli_e2e import journal_rows, run_cli
from tests.image_server import ImageServer, png_bytes

pytestmark = pytest.mark.e2e

GREEN = (30, 200, 60)


@pytest.fixture
def image_gateway(images: ImageServer) -> Iterator[DemoGateway]:
    with DemoGateway(
        queued_seconds=0.2,
        processing_seconds=0.5,
        poll_after_seconds=1,
        video_scale=0.25,
        image_ca_bundle=images.ca_bundle,
    ) as gw:
        yield gw


def first_frame_colour(path: Path) -> tuple[int, ...]:
    with av.open(io.BytesIO(path.read_bytes())) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return tuple(int(v) for v in frame[frame.shape[0] * 2 // 5, frame.shape[1] // 2])


def close_to(colour: tuple[int, ...], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 20 for a, b in zip(colour, wanted, strict=True))


def model_info(engine: Engine, params: JobParams) -> ModelInfo | None:
    """The gateway's catalogue entry for the model of ``params``."""
    return find_model(parse_catalogue(engine.client.models()), params.model)


def run_until_saved(engine: Engine, local_id: str) -> Path:
    cancel = threading.Event()
    for _ in range(400):
        engine.run_due(cancel)
        job = engine.job(local_id)
        assert job is not None
        if job.download is DownloadState.DONE:
            return Path(job.files[0])
        assert job.state not in (JobState.FAILED, JobState.REJECTED), job
        cancel.wait(0.05)
    raise AssertionError("the job did not finish")


def test_an_image_to_video_job_sends_the_right_body_and_shows_the_image(
    tmp_path: Path, image_gateway: DemoGateway, images: ImageServer
) -> None:
    url = images.add_png("/green.png", GREEN)
    engine = build_engine(tmp_path, image_gateway.base_url)
    try:
        params = JobParams(model="minimax/hailuo-2.3-fast", prompt="The field sways", duration=6)
        params = with_images(params, (ImageInput(url, "first_frame"),), model_info(engine, params))
        job = engine.submit(params)
        saved = run_until_saved(engine, job.local_id)
        assert image_gateway.create_bodies[-1] == {
            "model": "minimax/hailuo-2.3-fast",
            "prompt": "The field sways",
            "duration": 6,
            "input_references": [
                {"type": "image_url", "role": "first_frame", "image_url": {"url": url}}
            ],
        }
        assert images.hits == ["/green.png"]
        assert close_to(first_frame_colour(saved), GREEN)
        kept = engine.journal.get(job.local_id)
        assert kept is not None and kept.params.images == (ImageInput(url, "first_frame"),)
    finally:
        engine.client.close()
        engine.journal.close()


def test_a_local_file_reaches_sora_as_a_data_url(
    tmp_path: Path, image_gateway: DemoGateway
) -> None:
    picture = tmp_path / "green.png"
    picture.write_bytes(png_bytes(64, 36, GREEN))
    engine = build_engine(tmp_path, image_gateway.base_url)
    try:
        image = read_image_file(picture)
        params = JobParams(model="openai/sora-2", prompt="Zoom in", duration=4, size="1280x720")
        params = with_images(params, (image,), model_info(engine, params))
        job = engine.submit(params)
        saved = run_until_saved(engine, job.local_id)
        assert image_gateway.create_bodies[-1]["input_reference"] == {"image_url": image.url}
        assert close_to(first_frame_colour(saved), GREEN)
        kept = engine.journal.get(job.local_id)
        assert kept is not None
        assert kept.params.images == (ImageInput("", file=str(picture.resolve())),)
    finally:
        engine.client.close()
        engine.journal.close()


# --- the command line -----------------------------------------------------------------------


def test_cli_generate_with_an_image_url_and_role(
    tmp_path: Path, image_gateway: DemoGateway, images: ImageServer
) -> None:
    url = images.add_png("/green.png", GREEN)
    out = tmp_path / "clip.mp4"
    result = run_cli(
        tmp_path / "data",
        "generate",
        "--base-url", image_gateway.base_url,
        "--model", "demo/test-pattern",
        "--prompt", "Grass",
        "--duration", "1",
        "--image-url", url,
        "--image-role", "first_frame",
        "--image-url", images.add_png("/ref.png", (0, 0, 0)),
        "--image-role", "reference",
        "--output", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    refs = image_gateway.create_bodies[-1]["input_references"]
    assert [(item["role"], item["image_url"]["url"]) for item in refs] == [
        ("first_frame", url),
        ("reference", images.url("/ref.png")),
    ]
    assert close_to(first_frame_colour(out), GREEN)
    assert f"image: First frame: {url}" in result.stdout


def test_cli_sends_a_local_file_to_a_model_that_takes_one(
    tmp_path: Path, image_gateway: DemoGateway
) -> None:
    picture = tmp_path / "green.png"
    picture.write_bytes(png_bytes(32, 18, GREEN))
    out = tmp_path / "clip.mp4"
    result = run_cli(
        tmp_path / "data",
        "generate",
        "--base-url", image_gateway.base_url,
        "--model", "openai/sora-2",
        "--prompt", "Grass",
        "--duration", "4",
        "--image", str(picture),
        "--output", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    sent = image_gateway.create_bodies[-1]["input_reference"]["image_url"]
    assert sent.startswith("data:image/png;base64,")
    assert close_to(first_frame_colour(out), GREEN)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "demo/test-pattern", "--image-url", "http://x.test/a.png"], "https://"),
        (["--model", "google/veo-3.1-preview", "--image", "IMAGE"], "needs an image on the web"),
        (["--model", "minimax/hailuo-02", "--image-url", "https://x.test/a.png"], "does not take"),
        (["--model", "minimax/hailuo-2.3-fast"], "image only"),
        (["--model", "openai/sora-2", "--image", "MISSING"], "does not exist"),
        (["--image-role", "first_frame"], "must follow"),
        (["--image-url", "https://x.test/a.png", "--image-role", "side"], "invalid choice"),
    ],
)
def test_cli_image_mistakes_exit_2_and_send_nothing(
    tmp_path: Path, image_gateway: DemoGateway, args: list[str], message: str
) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(png_bytes(8, 8, GREEN))
    args = [
        str(picture) if a == "IMAGE" else str(tmp_path / "gone.png") if a == "MISSING" else a
        for a in args
    ]
    result = run_cli(
        tmp_path / "data", "generate", "--base-url", image_gateway.base_url, "--prompt", "x", *args
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert image_gateway.stats["create"] == 0
    assert not (tmp_path / "data" / "journal.db").exists() or journal_rows(tmp_path / "data") == []


def test_a_body_over_16_mib_is_a_rejected_job_not_a_lost_one(
    tmp_path: Path, image_gateway: DemoGateway
) -> None:
    huge = "data:image/png;base64," + "A" * (16 * 1024 * 1024)
    params = JobParams(model="openai/sora-2", prompt="Zoom in", duration=4, size="1280x720")
    params = replace(params, images=(ImageInput(huge),), image_field="input_reference")
    engine = build_engine(tmp_path, image_gateway.base_url)
    try:
        job = engine.submit(params)  # the engine sends what it is given: validation is upstream
    finally:
        engine.client.close()
        engine.journal.close()
    assert job.state is JobState.REJECTED and job.failure is not None
    assert job.failure.http_status == 413 and job.failure.cause is Cause.INVALID
    assert image_gateway.job_ids() == []
