"""The demo gateway's image inputs over real HTTP: the gateway's checks, fetch rules and renders."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from core.demo_gateway import DemoGateway
from tests.image_server import ImageServer, Route, png_bytes

AUTH = {"Authorization": "Bearer demo"}
RED = (220, 30, 30)
BLUE = (20, 40, 230)


@pytest.fixture
def gateway(images: ImageServer, tmp_path: Path) -> Iterator[DemoGateway]:
    with DemoGateway(
        queued_seconds=0.0,
        processing_seconds=0.0,
        video_scale=0.25,
        image_ca_bundle=images.ca_bundle,
        state_path=tmp_path / "state.json",
    ) as gw:
        yield gw


def create(gw: DemoGateway, **fields: Any) -> requests.Response:
    body = {"model": "demo/test-pattern", "prompt": "A ball", "duration": 1, **fields}
    return requests.post(f"{gw.base_url}/videos", json=body, headers=AUTH, timeout=30)


def ref(url: str, role: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if role:
        item["role"] = role
    return item


def pixel(mp4: bytes, index: int = 0, at: tuple[float, float] = (0.5, 0.4)) -> tuple[int, ...]:
    """The RGB colour at a point of frame ``index`` of an MP4, decoded with PyAV."""
    with av.open(io.BytesIO(mp4)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                rgb = frame.to_ndarray(format="rgb24")
                y, x = int(rgb.shape[0] * at[1]), int(rgb.shape[1] * at[0])
                return tuple(int(v) for v in rgb[y, x])
    raise AssertionError("no such frame")


def close_to(colour: tuple[int, ...], wanted: tuple[int, int, int], slack: int = 20) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour, wanted, strict=True))


def error_of(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    details = " ".join(str(d.get("message")) for d in body.get("details") or [])
    return response.status_code, body["error"], f"{body.get('message')} {details}"


def test_first_frame_image_is_fetched_and_drawn_into_the_clip(
    gateway: DemoGateway, images: ImageServer
) -> None:
    url = images.add_png("/red.png", RED)
    response = create(gateway, input_references=[ref(url, "first_frame")])
    assert response.status_code == 200, response.text
    assert images.hits == ["/red.png"]
    mp4 = gateway.job_bytes(response.json()["id"])
    assert close_to(pixel(mp4), RED)
    plain = create(gateway)
    assert not close_to(pixel(gateway.job_bytes(plain.json()["id"])), RED)


def test_a_last_frame_image_is_faded_into(gateway: DemoGateway, images: ImageServer) -> None:
    first, last = images.add_png("/red.png", RED), images.add_png("/blue.png", BLUE)
    response = create(gateway, duration=2, input_references=[ref(first), ref(last, "last_frame")])
    assert response.status_code == 200, response.text
    mp4 = gateway.job_bytes(response.json()["id"])
    frames = 2 * gateway.config.fps
    assert close_to(pixel(mp4, 0), RED) and close_to(pixel(mp4, frames - 1), BLUE)


def test_openai_models_take_a_data_url(gateway: DemoGateway) -> None:
    data = "data:image/png;base64," + base64.b64encode(png_bytes(32, 18, BLUE)).decode()
    response = create(
        gateway, model="openai/sora-2", duration=4, input_reference={"image_url": data}
    )
    assert response.status_code == 200, response.text
    assert close_to(pixel(gateway.job_bytes(response.json()["id"])), BLUE)
    assert gateway.create_bodies[-1]["input_reference"] == {"image_url": data}


URL = "https://x.test/a.png"
BAD = "validation_error"
VIDEO = {"type": "video_url", "media_url": {"url": "https://x.test/a.mp4"}}


@pytest.mark.parametrize(
    ("fields", "status", "code", "words"),
    [
        ({"input_references": [ref("http://127.0.0.1/a.png")]}, 400, BAD, "https"),
        ({"input_references": [ref("data:image/png;base64,AAAA")]}, 400, BAD, "https"),
        ({"input_references": [ref(URL, "side")]}, 400, BAD, "role"),
        ({"input_references": [{**ref(URL), "detail": 1}]}, 400, BAD, "detail"),
        ({"input_references": [{"type": "image_url", "image_url": URL}]}, 400, BAD, "url"),
        ({"input_references": {"url": URL}}, 400, BAD, "array"),
        ({"input_references": [VIDEO]}, 400, "not_supported", "video_url"),
        ({"input_reference": {"image_url": URL}}, 400, "not_supported", "OpenAI"),
        ({"input_references": [ref(URL), ref(URL, "first_frame")]}, 400, BAD, "one first_frame"),
        ({"images": []}, 400, BAD, "unrecognized"),
    ],
)
def test_image_inputs_get_the_gateways_validation(
    gateway: DemoGateway, fields: dict[str, Any], status: int, code: str, words: str
) -> None:
    got_status, got_code, text = error_of(create(gateway, **fields))
    assert (got_status, got_code) == (status, code)
    assert words.lower() in text.lower()
    assert gateway.job_ids() == []


def test_models_that_take_no_images_or_no_such_role_refuse_them(gateway: DemoGateway) -> None:
    text_only = create(
        gateway,
        model="minimax/hailuo-02",
        duration=6,
        input_references=[ref("https://x.test/a.png")],
    )
    assert error_of(text_only)[:2] == (400, "not_supported")
    lite = create(
        gateway,
        model="google/veo-3.1-lite-preview",
        duration=4,
        input_references=[ref("https://x.test/a.png", "reference")],
    )
    assert error_of(lite)[:2] == (400, "not_supported")


def test_an_image_to_video_only_model_needs_an_image(
    gateway: DemoGateway, images: ImageServer
) -> None:
    response = create(gateway, model="minimax/hailuo-2.3-fast", duration=6)
    assert error_of(response)[:2] == (400, "validation_error")
    assert "image-to-video only" in error_of(response)[2]
    url = images.add_png("/red.png", RED)
    ok = create(gateway, model="minimax/hailuo-2.3-fast", duration=6, input_references=[ref(url)])
    assert ok.status_code == 200, ok.text


def test_data_urls_over_28_million_characters_are_refused(gateway: DemoGateway) -> None:
    data = "data:image/png;base64," + "A" * 28_000_000
    response = create(
        gateway, model="openai/sora-2", duration=4, input_reference={"image_url": data}
    )
    assert response.status_code in (400, 413)
    assert gateway.job_ids() == []


def test_bodies_over_16_mib_are_refused_whole(gateway: DemoGateway) -> None:
    data = "data:image/png;base64," + "A" * (16 * 1024 * 1024)
    response = create(
        gateway, model="openai/sora-2", duration=4, input_reference={"image_url": data}
    )
    assert error_of(response)[:2] == (413, "payload_too_large")
    assert gateway.job_ids() == []


@pytest.mark.parametrize(
    ("route", "words"),
    [
        (Route(b"<html>", "text/html"), "not an image (it is text/html)"),
        (Route(b"", status=302, headers={"Location": "/red.png"}), "redirects"),
        (Route(b"gone", "text/plain", status=404), "HTTP 404"),
        (Route(b"", headers={"Content-Length": str(26 * 1024 * 1024)}), "larger than 25 MiB"),
        (Route(b"not really a png"), "not a decodable image"),
    ],
)
def test_the_gateway_fetches_images_with_its_own_rules(
    gateway: DemoGateway, images: ImageServer, route: Route, words: str
) -> None:
    images.routes["/thing"] = route
    status, code, text = error_of(create(gateway, input_references=[ref(images.url("/thing"))]))
    assert (status, code) == (400, "validation_error")
    assert words in text
    assert gateway.job_ids() == []


def test_an_untrusted_certificate_is_refused(images: ImageServer) -> None:
    url = images.add_png("/red.png", RED)
    with DemoGateway(queued_seconds=0.0, processing_seconds=0.0, video_scale=0.25) as plain:
        status, code, text = error_of(create(plain, input_references=[ref(url)]))
    assert (status, code) == (400, "validation_error") and "not trusted" in text


def test_a_restarted_gateway_renders_the_same_image(
    gateway: DemoGateway, images: ImageServer, tmp_path: Path
) -> None:
    url = images.add_png("/red.png", RED)
    job_id = create(gateway, input_references=[ref(url)]).json()["id"]
    before = gateway.job_sha256(job_id)
    gateway.stop()
    with DemoGateway(video_scale=0.25, state_path=tmp_path / "state.json") as again:
        assert again.job_sha256(job_id) == before
