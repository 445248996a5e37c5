"""Demo gateway contract tests: real HTTP over 127.0.0.1 against core.demo_gateway."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from core.demo_gateway import DemoGateway
from core.demo_gateway.video import ClipKey, encode_clip

from .conftest import AUTH, T0, FakeClock

ROOT = Path(__file__).resolve().parents[2]


def create(
    http: requests.Session, gw: DemoGateway, prefix: str = "/videos", **fields: Any
) -> requests.Response:
    body: dict[str, Any] = {"model": "demo/test-pattern", "prompt": "a red fox", "duration": 2}
    body.update(fields)
    return http.post(gw.base_url + prefix, json=body, timeout=10)


def job(http: requests.Session, gw: DemoGateway, job_id: str) -> dict[str, Any]:
    response = http.get(f"{gw.base_url}/videos/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def finished(http: requests.Session, gw: DemoGateway, clock: FakeClock, **fields: Any) -> str:
    response = create(http, gw, **fields)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    clock.advance(10)
    return job_id


def probe(data: bytes) -> tuple[float, int, int]:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert container.duration is not None
        return container.duration / 1_000_000, stream.width, stream.height


# -- create and validation ----------------------------------------------------------------


def test_create_answers_200_with_the_slim_object(gw: DemoGateway, http: requests.Session) -> None:
    response = create(http, gw, model="google/veo-3.1-lite-preview", duration=4)
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("G-01K") and len(body["id"]) == 28
    assert body["id"][5:].isalnum() and body["id"][5:].upper() == body["id"][5:]
    assert body["object"] == "video" and body["status"] == "queued" and body["progress"] == 0
    assert body["model"] == "google/veo-3.1-lite-preview"
    assert body["created_at"] == int(T0) and body["error"] is None
    assert "poll_after_seconds" not in body and "polling_url" not in body
    assert gw.stats["create"] == 1


def test_alias_and_second_route_prefix(gw: DemoGateway, http: requests.Session) -> None:
    response = create(
        http, gw, prefix="/video/generations", model="google/veo-lite-latest", duration=6
    )
    assert response.status_code == 200
    job_id = response.json()["id"]
    assert response.json()["model"] == "google/veo-3.1-lite-preview"
    other = http.get(f"{gw.base_url}/video/generations/{job_id}", timeout=10).json()
    assert other["content_url"].endswith(f"/v1/video/generations/{job_id}/content")
    assert job(http, gw, job_id)["seconds"] == 6


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"style": "noir"}, "validation_error", "style"),
        ({"duration_seconds": 4}, "validation_error", "duration_seconds"),
        ({"size": "1280x720", "aspect_ratio": "16:9"}, "validation_error", "size"),
        ({"model": "openai/sora-2", "size": "1280x720", "resolution": "720p"}, None, "size"),
        ({"model": "google/veo-3.1-lite-preview", "duration": 5}, "validation_error", "duration"),
        ({"model": "minimax/hailuo-02", "seconds": "8", "duration": None}, None, "seconds"),
        ({"duration": 21}, "validation_error", "duration"),
        ({"duration": "4"}, "validation_error", "duration"),
        ({"model": "google/veo-3.1-lite"}, "unsupported_model_or_endpoint", "model"),
        ({"prompt": ""}, "validation_error", "prompt"),
        ({"prompt": "x" * 32_001}, "validation_error", "prompt"),
        ({"sample_count": 5}, "validation_error", "sample_count"),
        ({"aspect_ratio": "4:3"}, "validation_error", "aspect_ratio"),
        ({"model": "openai/sora-2", "duration": 4, "seed": 3}, "not_supported", "seed"),
        ({"prompt": "fox [size=lots]"}, "validation_error", "prompt"),
    ],
)
def test_create_validation_errors(
    gw: DemoGateway,
    http: requests.Session,
    fields: dict[str, Any],
    code: str | None,
    field: str,
) -> None:
    response = create(http, gw, **fields)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == (code or "validation_error")
    assert body["status_code"] == 400 and body["request_id"].startswith("req_")
    assert any(detail["field"] == field for detail in body["details"]), body
    for key in ("error_type", "error_origin", "reason", "message", "description"):
        assert key in body
    assert http.get(gw.base_url + "/videos", timeout=10).json()["data"] == []


def test_invalid_json_and_non_object(gw: DemoGateway, http: requests.Session) -> None:
    bad = http.post(gw.base_url + "/videos", data=b"{nope", timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"
    listed = http.post(gw.base_url + "/videos", json=[1], timeout=10)
    assert listed.status_code == 400 and listed.json()["error"] == "validation_error"


# -- auth ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}, {"Authorization": "x"}],
)
def test_missing_or_malformed_auth_is_401(gw: DemoGateway, headers: dict[str, str]) -> None:
    response = requests.get(gw.base_url + "/videos/models", headers=headers, timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "unauthorised" and body["reason"]
    assert gw.stats["unauthorised"] == 1


def test_configured_api_key_must_match() -> None:
    with DemoGateway(api_key="phaseo_v1_sk_right") as gateway:
        url = gateway.base_url + "/videos/models"
        wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401 and wrong.json()["reason"] == "invalid API key"
        right = requests.get(
            url, headers={"Authorization": "Bearer phaseo_v1_sk_right"}, timeout=10
        )
        assert right.status_code == 200


# -- lifecycle ----------------------------------------------------------------------------


def test_google_lifecycle_queued_processing_completed(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = create(http, gw, model="google/veo-3.1-lite-preview", duration=4).json()["id"]
    queued = job(http, gw, job_id)
    assert queued["status"] == "queued" and queued["progress"] == 0
    assert queued["poll_after_seconds"] == 2
    assert isinstance(queued["created_at"], str) and queued["created_at"].endswith("Z")
    assert queued["content_url"] == f"{gw.base_url}/videos/{job_id}/content"
    assert queued["download_url"] is None and queued["asset"] is None
    # 720p (the model's default) without audio: 4 s x $0.03; credit reserved at create
    assert queued["billing"]["state"] == "estimated"
    assert queued["billing"]["estimated_user_cost"] == "0.12"
    clock.advance(2)
    running = job(http, gw, job_id)
    assert running["status"] == "processing" and running["progress"] == 0
    assert running["started_at"] is not None and running["completed_at"] is None
    clock.advance(3)
    done = job(http, gw, job_id)
    assert done["status"] == "completed" and done["progress"] == 100
    assert done["billing"]["state"] == "settled"
    assert done["billing"]["settled_user_cost"] == "0.12"
    assert done["billing"]["total_nanos"] == 117_600_000  # billed on the 3.92 s delivered
    assert done["seconds"] == 4 and done["size"] == "1280x720"
    assert done["asset"]["bytes"] == gw.job_size(job_id)
    assert done["asset"]["duration_seconds"] == 4
    assert done["expires_at"] == int(clock()) + 900
    assert done["outputs"][0]["bytes_available"] is True
    again = job(http, gw, job_id)
    assert again["download_url"] != done["download_url"]


def test_openai_progress_rises_and_types_differ(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    response = create(http, gw, model="openai/sora-2", duration=8, size="720x1280")
    job_id = response.json()["id"]
    clock.advance(2)
    first = job(http, gw, job_id)
    clock.advance(2)
    second = job(http, gw, job_id)
    assert first["status"] == second["status"] == "in_progress"
    assert 0 < first["progress"] < second["progress"] < 100
    assert first["seconds"] == "8" and isinstance(first["created_at"], int)
    clock.advance(5)
    done = job(http, gw, job_id)
    assert done["status"] == "completed" and isinstance(done["completed_at"], int)
    data = http.get(done["content_url"], timeout=10).content
    _, width, height = probe(data)
    assert height > width


def test_minimax_has_empty_outputs_and_string_errors(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = finished(http, gw, clock, model="minimax/hailuo-02", duration=6)
    done = job(http, gw, job_id)
    assert done["outputs"] == [] and done["download_url"]
    assert requests.get(done["download_url"], timeout=10).content == gw.job_bytes(job_id)
    failing = finished(http, gw, clock, model="minimax/hailuo-02", duration=6)
    gw.fail_now(failing)
    failed = job(http, gw, failing)
    assert failed["status"] == "failed" and isinstance(failed["error"], str)
    assert failed["billing"]["state"] == "void"


def test_complete_now_forces_completion(gw: DemoGateway, http: requests.Session) -> None:
    job_id = create(http, gw).json()["id"]
    gw.complete_now(job_id)
    assert job(http, gw, job_id)["status"] == "completed"


# -- content --------------------------------------------------------------------------------


def test_content_is_409_then_a_real_mp4_without_content_length(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = create(http, gw, duration=3, aspect_ratio="9:16", resolution="720p").json()["id"]
    early = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10)
    assert early.status_code == 409 and early.json()["error"] == "not_ready"
    clock.advance(10)
    response = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10)
    assert response.status_code == 200
    assert "Content-Length" not in response.headers
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Cache-Control"] == "private, no-store"
    data = response.content
    assert data[4:8] == b"ftyp" and data == gw.job_bytes(job_id)
    duration, width, height = probe(data)
    assert abs(duration - 3) <= 0.1
    assert width % 2 == 0 and height % 2 == 0
    assert abs(width / height - 9 / 16) < 0.02
    ranged = http.get(
        f"{gw.base_url}/videos/{job_id}/content", headers={"Range": "bytes=0-9"}, timeout=10
    )
    assert ranged.status_code == 200 and ranged.content == data


@pytest.mark.parametrize(("aspect", "ratio"), [("16:9", 16 / 9), ("1:1", 1.0)])
def test_aspect_ratio_and_duration_match(
    gw: DemoGateway, http: requests.Session, clock: FakeClock, aspect: str, ratio: float
) -> None:
    job_id = finished(http, gw, clock, duration=1, aspect_ratio=aspect)
    duration, width, height = probe(gw.job_bytes(job_id))
    assert abs(duration - 1) <= 0.1 and abs(width / height - ratio) < 0.03


def test_close_delimited_mode_streams_whole_file(clock: FakeClock) -> None:
    with (
        DemoGateway(video_scale=0.125, clock=clock, chunked_content=False) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        job_id = finished(http, gateway, clock)
        response = http.get(f"{gateway.base_url}/videos/{job_id}/content", timeout=10)
        assert "Content-Length" not in response.headers
        assert response.headers.get("Connection") == "close"
        assert response.content == gateway.job_bytes(job_id)


def test_sample_count_gives_distinct_outputs(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = finished(
        http, gw, clock, model="google/veo-3.1-lite-preview", sample_count=2, duration=4
    )
    done = job(http, gw, job_id)
    assert [item["index"] for item in done["outputs"]] == [0, 1]
    first = http.get(f"{gw.base_url}/videos/{job_id}/content?index=0", timeout=10).content
    second = http.get(f"{gw.base_url}/videos/{job_id}/content?index=1", timeout=10).content
    assert first == gw.job_bytes(job_id, 0) and second == gw.job_bytes(job_id, 1)
    assert first[: len(first) // 2] != second[: len(second) // 2]
    assert requests.get(done["outputs"][1]["download_url"], timeout=10).content == second
    bad = http.get(f"{gw.base_url}/videos/{job_id}/content?index=2", timeout=10)
    assert bad.status_code == 400


def test_size_keyword_streams_exact_padded_size(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = finished(http, gw, clock, prompt="benchmark [size=64MiB]")
    assert job(http, gw, job_id)["asset"]["bytes"] == 64 * 1024 * 1024
    digest, total, head = hashlib.sha256(), 0, b""
    started = time.perf_counter()
    with http.get(f"{gw.base_url}/videos/{job_id}/content", stream=True, timeout=30) as response:
        assert "Content-Length" not in response.headers
        for chunk in response.iter_content(1024 * 1024):
            head = head or chunk[:8]
            digest.update(chunk)
            total += len(chunk)
    elapsed = time.perf_counter() - started
    assert total == gw.job_size(job_id) == 64 * 1024 * 1024
    assert digest.hexdigest() == gw.job_sha256(job_id)
    assert head[4:8] == b"ftyp"
    assert total / elapsed > 50e6


def test_content_above_512_mib_is_502(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = finished(http, gw, clock, prompt="too big [size=513MiB]")
    response = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10)
    assert response.status_code == 502 and response.json()["error"] == "video_content_too_large"
    assert gw.job_size(job_id) == 513 * 1024 * 1024
    with pytest.raises(ValueError):
        gw.job_bytes(job_id)


# -- signed links -----------------------------------------------------------------------


def test_signed_links_work_without_auth_and_expire(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = create(http, gw).json()["id"]
    early = http.post(f"{gw.base_url}/videos/{job_id}/download_url", json={}, timeout=10)
    assert early.status_code == 400
    clock.advance(10)
    minted = http.post(
        f"{gw.base_url}/videos/{job_id}/download_url",
        json={"ttl_seconds": 60, "disposition": "attachment"},
        timeout=10,
    ).json()
    assert minted["expires_at"] == int(clock()) + 60
    fetched = requests.get(minted["download_url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == gw.job_bytes(job_id)
    assert fetched.headers["Content-Disposition"].startswith("attachment")
    tampered = requests.get(minted["download_url"].replace("index=0", "index=1"), timeout=10)
    assert tampered.status_code == 403 and tampered.json()["error"] == "invalid_signature"
    clock.advance(61)
    expired = requests.get(minted["download_url"], timeout=10)
    assert expired.status_code == 410 and expired.json()["error"] == "link_expired"
    signed_requests = [entry for entry in gw.requests_log if "signature=" in entry[1]]
    assert signed_requests
    assert all("Authorization" not in headers for _, _, headers in signed_requests)
    for ttl in (59, 3601, "900"):
        bad = http.post(
            f"{gw.base_url}/videos/{job_id}/download_url", json={"ttl_seconds": ttl}, timeout=10
        )
        assert bad.status_code == 400


# -- list, delete, cancel, models -------------------------------------------------------


def test_list_pagination_order_and_filter(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    ids = [create(http, gw).json()["id"] for _ in range(5)]
    clock.advance(10)
    first = http.get(gw.base_url + "/videos?limit=2", timeout=10).json()
    assert first["object"] == "list" and first["has_more"] is True
    assert [item["id"] for item in first["data"]] == ids[::-1][:2]
    assert first["first_id"] == ids[4] and first["last_id"] == ids[3]
    second = http.get(
        gw.base_url + "/videos", params={"limit": 2, "after": first["last_id"]}, timeout=10
    ).json()
    assert [item["id"] for item in second["data"]] == [ids[2], ids[1]]
    last = http.get(gw.base_url + f"/videos?limit=2&after={ids[1]}", timeout=10).json()
    assert [item["id"] for item in last["data"]] == [ids[0]] and last["has_more"] is False
    ascending = http.get(gw.base_url + "/videos?order=asc&limit=100", timeout=10).json()
    assert [item["id"] for item in ascending["data"]] == ids
    assert ascending["data"][0]["status"] == "completed"
    assert http.get(gw.base_url + "/videos?status=queued", timeout=10).json()["data"] == []
    for query in ("limit=101", "limit=0", "order=sideways", "after=G-01KNOPE"):
        assert http.get(gw.base_url + "/videos?" + query, timeout=10).status_code == 400


def test_delete_rules_then_404(gw: DemoGateway, http: requests.Session, clock: FakeClock) -> None:
    job_id = create(http, gw).json()["id"]
    early = http.delete(f"{gw.base_url}/videos/{job_id}", timeout=10)
    assert early.status_code == 400
    clock.advance(10)
    deleted = http.delete(f"{gw.base_url}/videos/{job_id}", timeout=10)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    gone = http.get(f"{gw.base_url}/videos/{job_id}", timeout=10)
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10).status_code == 404


def test_cancel_is_always_501(gw: DemoGateway, http: requests.Session) -> None:
    job_id = create(http, gw).json()["id"]
    response = http.post(f"{gw.base_url}/videos/{job_id}/cancel", timeout=10)
    assert response.status_code == 501
    body = response.json()
    assert body["error"] == "not_implemented_yet"
    assert body["reason"] == "video_cancellation_disabled"
    assert job(http, gw, job_id)["status"] == "queued"


def test_models_catalogue_shapes(gw: DemoGateway, http: requests.Session) -> None:
    body = http.get(gw.base_url + "/videos/models", timeout=10).json()
    assert body["object"] == "list"
    by_id = {item["model"]: item for item in body["data"]}
    for name in (
        "google/veo-3.1-lite-preview",
        "google/veo-3.1-fast-preview",
        "openai/sora-2",
        "minimax/hailuo-02",
        "demo/test-pattern",
    ):
        for key in ("name", "status", "input_types", "output_types", "providers", "pricing"):
            assert key in by_id[name]
    veo = by_id["google/veo-3.1-lite-preview"]["supported_params_detail"]
    assert veo["duration"]["type"] == "enum" and veo["duration"]["values"] == [4, 6, 8]
    assert veo["resolution"] == {"type": "string", "enum": ["720p", "1080p"], "default": "720p"}
    demo = by_id["demo/test-pattern"]["supported_params_detail"]["duration"]
    assert (demo["type"], demo["min"], demo["max"]) == ("number", 1, 20)
    assert "google/veo-lite-latest" in by_id["google/veo-3.1-lite-preview"]["aliases"]


def test_unknown_route_and_method(gw: DemoGateway, http: requests.Session) -> None:
    assert http.get(gw.base_url + "/images", timeout=10).status_code == 404
    response = http.put(gw.base_url + "/videos", timeout=10)
    assert response.status_code == 405 and "Allow" in response.headers


# -- scale and process --------------------------------------------------------------------


def test_two_hundred_concurrent_jobs(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    with ThreadPoolExecutor(32) as pool:
        ids = list(pool.map(lambda _: create(http, gw).json()["id"], range(200)))
        clock.advance(10)
        statuses = list(pool.map(lambda job_id: job(http, gw, job_id)["status"], ids))
    assert len(set(ids)) == 200 and statuses == ["completed"] * 200
    assert gw.stats["get"] == 200


def test_encoding_is_fast() -> None:
    started = time.perf_counter()
    data = encode_clip(ClipKey(320, 180, 4, 12, 3))
    assert time.perf_counter() - started < 1.0
    assert probe(data) == (4.0, 320, 180)


def test_command_line_prints_base_url_and_stops_on_interrupt() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "core.demo_gateway", "--port", "0", "--video-scale", "0.25"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = requests.get(base_url + "/videos/models", headers=AUTH, timeout=10)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_outputs_expire_after_output_ttl_and_forced_states(
    clock: FakeClock, http: requests.Session
) -> None:
    with DemoGateway(video_scale=0.125, clock=clock, output_ttl_seconds=60) as gateway:
        job_id = finished(http, gateway, clock)
        assert job(http, gateway, job_id)["status"] == "completed"
        clock.advance(61)
        expired = job(http, gateway, job_id)
        assert expired["status"] == "expired" and expired["billing"]["state"] == "void"
        content = http.get(f"{gateway.base_url}/videos/{job_id}/content", timeout=10)
        assert content.status_code == 409
        other = create(http, gateway).json()["id"]
        gateway.cancel_now(other)
        assert gateway.job_status(other) == "cancelled"
        assert http.delete(f"{gateway.base_url}/videos/{other}", timeout=10).status_code == 400
