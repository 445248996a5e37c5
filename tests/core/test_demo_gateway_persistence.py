"""Demo gateway persistence: jobs saved by one gateway are served again by the next one."""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import av
import pytest
import requests

import core.demo_gateway.persistence as persistence
import core.demo_gateway.video as video
from core.demo_gateway import DemoGateway
from core.demo_gateway.video import ClipCache

from .conftest import T0, FakeClock


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state" / "demo-gateway.json"


def gateway(clock: FakeClock, state: Path) -> DemoGateway:
    return DemoGateway(
        queued_seconds=1.0,
        processing_seconds=4.0,
        video_scale=0.125,
        clock=clock,
        state_path=state,
    )


def create(http: requests.Session, gw: DemoGateway, prompt: str = "a red fox", **extra: Any) -> str:
    body: dict[str, Any] = {"model": "demo/test-pattern", "prompt": prompt, "duration": 2}
    body.update(extra)
    response = http.post(f"{gw.base_url}/videos", json=body, timeout=10)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def get(http: requests.Session, gw: DemoGateway, job_id: str) -> requests.Response:
    return http.get(f"{gw.base_url}/videos/{job_id}", timeout=10)


def job(http: requests.Session, gw: DemoGateway, job_id: str) -> dict[str, Any]:
    response = get(http, gw, job_id)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def listed(http: requests.Session, gw: DemoGateway) -> list[str]:
    response = http.get(f"{gw.base_url}/videos", params={"limit": 100}, timeout=10)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def content(http: requests.Session, gw: DemoGateway, job_id: str) -> bytes:
    response = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def probe(data: bytes) -> tuple[float, int, int]:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert container.duration is not None
        return container.duration / 1_000_000, stream.width, stream.height


TIMELINE = ("status", "progress", "created_at", "started_at", "completed_at", "error", "asset")


def timeline(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body.get(key) for key in TIMELINE}


def test_jobs_continue_on_the_same_timeline_after_a_restart(
    clock: FakeClock, state: Path, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(clock, state) as a:
        done = create(http, a, seed=3)
        gone = create(http, a)
        clock.advance(5)  # both completed
        done_bytes = content(http, a, done)
        done_body = job(http, a, done)
        link = done_body["download_url"]
        a_url = a.base_url
        assert http.delete(f"{a.base_url}/videos/{gone}", timeout=10).status_code == 200
        normal = create(http, a)  # queued until T0+6, completed at T0+10
        failing = create(http, a, "a red fox [fail]")
        forced = create(http, a)
        a.fail_now(forced, code="boom", message="forced failure")
        clock.advance(3)  # T0+8: both processing
        before = {job_id: job(http, a, job_id) for job_id in (normal, failing, forced)}
        assert before[normal]["status"] == before[failing]["status"] == "processing"
        order_before = listed(http, a)
    assert order_before == [forced, failing, normal, done]
    assert state.is_file()

    # A fresh clip cache: B must render the video again, and get the very same bytes.
    monkeypatch.setattr(video, "CLIPS", ClipCache())
    with gateway(clock, state) as b:
        assert b.job_ids() == [done, normal, failing, forced]
        assert listed(http, b) == order_before
        for job_id, body in before.items():
            assert timeline(job(http, b, job_id)) == timeline(body)
        assert get(http, b, gone).status_code == 404
        assert timeline(job(http, b, done)) == timeline(done_body)
        assert job(http, b, forced)["error"] == {"code": "boom", "message": "forced failure"}

        clock.advance(2)  # T0+10: the same instant A would have finished them
        finished = job(http, b, normal)
        assert finished["status"] == "completed"
        assert finished["completed_at"] == int(T0 + 10)
        assert finished["started_at"] == int(T0 + 6)
        failed = job(http, b, failing)
        assert failed["status"] == "failed" and failed["error"]["code"] == "provider_error"

        again = content(http, b, done)
        assert again == done_bytes
        asset = done_body["asset"]
        seconds, width, height = probe(again)
        assert seconds == pytest.approx(2.0, abs=0.2)
        assert (width, height) == (asset["width"], asset["height"])
        assert probe(content(http, b, normal))[0] == pytest.approx(2.0, abs=0.2)

        # The signing secret was kept, so a link minted by A still works on B.
        signed = requests.get(link.replace(a_url, b.base_url), timeout=30)
        assert signed.status_code == 200 and signed.content == done_bytes

        # Sequence numbers carry on: a new job sorts after every restored one.
        newest = create(http, b)
        assert listed(http, b)[:2] == [newest, forced]


def test_a_third_gateway_sees_deletes_and_forced_states_made_by_the_second(
    clock: FakeClock, state: Path, http: requests.Session
) -> None:
    with gateway(clock, state) as a:
        first = create(http, a)
        second = create(http, a)
        third = create(http, a)
    with gateway(clock, state) as b:
        b.complete_now(first)
        b.cancel_now(second)
        b.expire_now(third)
        assert http.delete(f"{b.base_url}/videos/{first}", timeout=10).status_code == 200
    with gateway(clock, state) as c:
        assert get(http, c, first).status_code == 404
        assert job(http, c, second)["status"] == "cancelled"
        assert job(http, c, third)["status"] == "expired"
        assert c.job_ids() == [second, third]
    saved = json.loads(state.read_text())
    assert [record["deleted"] for record in saved["jobs"]] == [True, False, False]


def test_the_file_format(clock: FakeClock, state: Path, http: requests.Session) -> None:
    with gateway(clock, state) as a:
        assert not state.exists()
        job_id = create(http, a, "a red fox [429] [size=1MiB]", seed=9)
        clock.advance(5)
        assert get(http, a, job_id).status_code == 429  # the scripted fault
        asset = job(http, a, job_id)["asset"]
    saved = json.loads(state.read_text())
    assert saved["format"] == "reelgate-demo-gateway-state" and saved["version"] == 1
    assert saved["last_seq"] == 1 and len(bytes.fromhex(saved["signing_secret"])) == 32
    (record,) = saved["jobs"]
    assert record["id"] == job_id and record["seq"] == 1
    assert record["created"] == T0 and record["queued_until"] == T0 + 1
    assert record["done_at"] == T0 + 5 and record["terminal"] == "completed"
    assert record["params"]["model"] == "demo/test-pattern" and record["params"]["seed"] == 9
    assert record["params"]["faults"]["status_script"] == ["429"]
    assert record["params"]["faults"]["size_bytes"] == 1024 * 1024
    assert (record["width"], record["height"], record["fps"]) == (
        asset["width"],
        asset["height"],
        12,
    )
    assert record["deleted"] is False and record["forced_kind"] is None
    assert not list(state.parent.glob("*.tmp"))


def test_status_gets_do_not_write_the_file(
    clock: FakeClock, state: Path, http: requests.Session
) -> None:
    with gateway(clock, state) as a:
        job_id = create(http, a)
        before = state.stat()
        for _ in range(5):
            clock.advance(1)
            job(http, a, job_id)
        listed(http, a)
        after = state.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_corrupt_file_is_moved_aside_and_the_gateway_starts_empty(
    clock: FakeClock, state: Path, http: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    state.parent.mkdir(parents=True)
    state.write_text('{"format": "reelgate-demo-gateway-state", "jobs": [')
    with caplog.at_level(logging.WARNING), gateway(clock, state) as b:
        assert b.job_ids() == [] and listed(http, b) == []
        aside = state.with_name(state.name + ".corrupt")
        assert aside.read_text().endswith('"jobs": [')
        assert not state.exists()
        assert any("corrupt" in record.getMessage() for record in caplog.records)
        job_id = create(http, b)
    with gateway(clock, state) as c:
        assert c.job_ids() == [job_id]


def test_missing_file_starts_empty(clock: FakeClock, state: Path, http: requests.Session) -> None:
    with gateway(clock, state) as a:
        assert a.job_ids() == [] and listed(http, a) == []
    assert not state.exists()


def test_unusable_records_are_skipped(
    clock: FakeClock, state: Path, http: requests.Session
) -> None:
    with gateway(clock, state) as a:
        kept = create(http, a)
        broken = create(http, a)
    saved = json.loads(state.read_text())
    saved["jobs"][1]["params"]["model"] = "nobody/no-such-model"
    state.write_text(json.dumps(saved))
    with gateway(clock, state) as b:
        assert b.job_ids() == [kept]
        assert get(http, b, broken).status_code == 404


def test_only_the_newest_jobs_are_kept(
    clock: FakeClock, state: Path, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(persistence, "MAX_SAVED_JOBS", 3)
    with gateway(clock, state) as a:
        ids = [create(http, a) for _ in range(5)]
        assert a.job_ids() == ids  # the running gateway forgets nothing
    assert [record["id"] for record in json.loads(state.read_text())["jobs"]] == ids[2:]
    with gateway(clock, state) as b:
        assert b.job_ids() == ids[2:]
        newest = create(http, b)
        assert listed(http, b) == [newest, *reversed(ids[2:])]
    assert json.loads(state.read_text())["last_seq"] == 6


def test_without_a_state_path_nothing_is_written(
    clock: FakeClock, tmp_path: Path, http: requests.Session
) -> None:
    with DemoGateway(video_scale=0.125, clock=clock) as a:
        create(http, a)
    assert list(tmp_path.iterdir()) == []


def test_demo_jobs_survive_an_app_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.context import open_context
    from core.jobs import JobParams

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)
    overrides = {"queued_seconds": 0.2, "processing_seconds": 0.6, "poll_after_seconds": 1}
    ctx = open_context(data_dir=tmp_path, demo=True, demo_overrides=overrides)
    try:
        submitted = ctx.engine.submit(
            JobParams(model="demo/test-pattern", prompt="x", duration=2, aspect_ratio="16:9")
        )
        assert submitted.remote_id is not None
    finally:
        ctx.close()
    assert (tmp_path / "demo-gateway.json").is_file()

    ctx = open_context(data_dir=tmp_path, demo=True, demo_overrides=overrides)
    try:
        assert ctx.demo is not None and ctx.demo.job_ids() == [submitted.remote_id]
        deadline = time.monotonic() + 20
        job = ctx.journal.get(submitted.local_id)
        while time.monotonic() < deadline:
            ctx.engine.run_due()
            job = ctx.journal.get(submitted.local_id)
            assert job is not None
            assert job.state.value != "gone", job
            if job.state.value == "completed" and job.download.value == "done":
                break
            time.sleep(0.05)
        assert job is not None
        assert job.state.value == "completed" and job.download.value == "done", job
    finally:
        ctx.close()
