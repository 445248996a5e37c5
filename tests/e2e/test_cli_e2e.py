"""The command line end to end: real processes, real HTTP, real journal, SIGKILL recovery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow_gateway() -> Iterator[DemoGateway]:
    """Jobs take a few seconds, so a process can be killed while it polls."""
    with DemoGateway(
        queued_seconds=1.0, processing_seconds=2.5, poll_after_seconds=1, video_scale=0.25
    ) as gw:
        yield gw


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PHASEO_API_KEY"}
    env.update(
        REELGATE_DATA_DIR=str(data_dir),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_cli(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def journal_rows(data_dir: Path) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(data_dir / "journal.db", timeout=10) as conn:
        try:
            return list(conn.execute("SELECT local_id, remote_id, state FROM jobs"))
        except sqlite3.OperationalError as exc:
            # The file appears a moment before the CLI has created its tables.
            if "no such table" in str(exc):
                return []
            raise


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_generate_saves_the_video(tmp_path: Path, gateway: DemoGateway) -> None:
    out = tmp_path / "out" / "sunrise.mp4"
    result = run_cli(
        tmp_path / "data",
        "generate",
        "--base-url",
        gateway.base_url,
        "--prompt",
        "A cinematic sunrise",
        "--duration",
        "2",
        "--output",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Saved {out}" in result.stdout
    rows = journal_rows(tmp_path / "data")
    assert len(rows) == 1 and rows[0][2] == "completed"
    assert out.read_bytes() == gateway.job_bytes(rows[0][1])  # type: ignore[arg-type]
    assert "queued" in result.stdout.lower() and "completed" in result.stdout.lower()


def test_failed_job_prints_status_detail_and_request_id(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    result = run_cli(
        tmp_path,
        "generate",
        "--base-url",
        gateway.base_url,
        "--prompt",
        "[fail] x",
        "--duration",
        "2",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    remote_id = journal_rows(tmp_path)[0][1]
    assert "Failed" in result.stdout and f"request id: {remote_id}" in result.stdout
    assert "provider detail:" in result.stdout


@pytest.mark.parametrize(
    ("keyword", "code", "cause"),
    [
        ("[policy]", 3, "cause: Blocked by a safety or content policy."),
        ("[disabled]", 3, "cause: Video API not enabled. The video API is not enabled for"),
        ("[funds]", 3, "cause: Out of credit."),
        ("[fail]", 3, "cause: Provider fault."),
    ],
)
def test_the_cause_line_tells_failures_apart(
    tmp_path: Path, gateway: DemoGateway, keyword: str, code: int, cause: str
) -> None:
    result = run_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", f"{keyword} x"
    )
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert cause in output
    assert "next step:" in output and "allowed values" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prompt", "   "], "Write a prompt"),
        (["--prompt", "x" * 32_001], "32,000"),
        (["--prompt", "bell \x07 here"], "control character"),
        (["--prompt", "ok", "--duration", "abc"], "Duration"),
        (["--prompt", "ok", "--duration", "999"], "Duration"),
        (["--prompt", "ok", "--aspect-ratio", "4:3"], "Aspect ratio"),
        (["--prompt", "ok", "--model", "nope/none"], "not offered"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    tmp_path: Path, gateway: DemoGateway, args: list[str], message: str
) -> None:
    result = run_cli(tmp_path, "generate", "--base-url", gateway.base_url, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message.lower() in result.stderr.lower()
    assert gateway.stats.get("create", 0) == 0


def test_policy_block_and_revoked_key_exit_codes(tmp_path: Path, gateway: DemoGateway) -> None:
    blocked = run_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", "[policy] x"
    )
    assert blocked.returncode == 3, blocked.stdout + blocked.stderr
    revoked = run_cli(
        tmp_path,
        "generate",
        "--base-url",
        gateway.base_url,
        "--prompt",
        "[revoked] x",
        "--duration",
        "2",
    )
    assert revoked.returncode == 4, revoked.stdout + revoked.stderr


def test_unreachable_gateway_sends_nothing_and_says_so(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "generate",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--prompt",
        "x",
        "--duration",
        "4",
    )
    assert result.returncode == 5, result.stdout + result.stderr
    assert "nothing was sent" in result.stdout + result.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "jobs", "--base-url", "http://example.com/v1")
    assert result.returncode == 2
    assert "unencrypted" in result.stderr


def test_jobs_lists_the_journal(tmp_path: Path, gateway: DemoGateway) -> None:
    run_cli(tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", "[policy] listed")
    listing = run_cli(tmp_path, "jobs", "--base-url", gateway.base_url)
    assert listing.returncode == 0 and "[policy] listed" in listing.stdout
    # Each failure says which kind it was, as the review panel does.
    assert "(Blocked by a safety or content policy)" in listing.stdout


def test_sigkill_mid_poll_then_resume_finishes_and_saves(
    tmp_path: Path, slow_gateway: DemoGateway
) -> None:
    data, out = tmp_path / "data", tmp_path / "video.mp4"
    url = slow_gateway.base_url
    proc = start_cli(
        data, "generate", "--base-url", url, "--prompt", "kill me", "--duration", "2",
        "--output", str(out),
    )  # fmt: skip
    try:
        wait_for(lambda: (data / "journal.db").exists() and any(r[1] for r in journal_rows(data)))
        wait_for(lambda: slow_gateway.stats.get("get", 0) >= 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    rows = journal_rows(data)
    assert len(rows) == 1 and rows[0][2] in ("queued", "processing")
    assert not out.exists()
    resumed = run_cli(data, "resume", "--base-url", slow_gateway.base_url)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert out.read_bytes() == slow_gateway.job_bytes(rows[0][1])  # type: ignore[arg-type]
    assert slow_gateway.stats["create"] == 1
    with sqlite3.connect(data / "journal.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sigkill_mid_download_leaves_no_partial_file_under_a_final_name(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    data, out = tmp_path / "data", tmp_path / "big.mp4"
    proc = start_cli(
        data, "generate", "--base-url", gateway.base_url, "--prompt", "[size=384MiB] big",
        "--duration", "2", "--output", str(out),
    )  # fmt: skip
    videos = data / "videos"
    try:
        wait_for(lambda: videos.exists() and any(videos.glob("*.part")), timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert not out.exists()
    assert not [p for p in videos.iterdir() if p.suffix == ".mp4"], "no file under a final name"
    resumed = run_cli(data, "resume", "--base-url", gateway.base_url, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    remote_id = journal_rows(data)[0][1]
    assert out.stat().st_size == gateway.job_size(remote_id)  # type: ignore[arg-type]
    assert gateway.job_sha256(remote_id) is not None  # type: ignore[arg-type]
    import hashlib

    digest = hashlib.sha256()
    with open(out, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    assert digest.hexdigest() == gateway.job_sha256(remote_id)  # type: ignore[arg-type]
    assert not list(videos.glob("*.part"))


def test_size_only_models_get_a_size_from_the_command_line(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    from core.journal import Journal

    data = tmp_path / "data"
    base = ("generate", "--base-url", gateway.base_url, "--model", "openai/sora-2")
    refused = run_cli(data, *base, "--prompt", "a tall tower", "--aspect-ratio", "9:16")
    assert refused.returncode == 2
    assert "takes a size, not an aspect ratio: choose 1280x720 or 720x1280" in refused.stderr
    made = run_cli(data, *base, "--prompt", "a tall tower", "--duration", "4", "--size", "720x1280")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "720x1280" in made.stdout
    with Journal.open(data / "journal.db") as journal:
        [job] = journal.jobs()
    assert job.params.size == "720x1280" and job.params.aspect_ratio is None
    assert gateway.job_status(job.remote_id or "") == "completed"
