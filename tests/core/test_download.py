"""Tests for streamed, verified downloads and atomic copies: real files, fake streams."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import pytest

import core.safe_write as safe_write_module
from core.download import download
from core.errors import ErrorKind, GatewayError
from core.files import cleanup_partials
from core.safe_write import DownloadError, DownloadErrorKind, copy_file, write_json_atomic

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
BODY = MP4_HEAD + bytes(range(256)) * 400  # ~100 KB of "video"


def gateway_error(
    kind: ErrorKind, status: int, code: str | None = None, **extra: Any
) -> GatewayError:
    """A gateway error as the client would raise it."""
    return GatewayError(kind=kind, message=f"HTTP {status}", status=status, code=code, **extra)


class FakeStream:
    """A content response: yields ``body`` in chunks, optionally failing after some bytes."""

    def __init__(
        self,
        body: bytes,
        *,
        content_length: int | None = None,
        fail_after: int | None = None,
        error: BaseException | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self.body = body
        self.content_length = content_length
        self.fail_after = fail_after
        self.error = error
        self.on_chunk = on_chunk
        self.entered = False
        self.closed = False

    def __enter__(self) -> FakeStream:
        self.entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closed = True

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        sent = 0
        for start in range(0, len(self.body), chunk_size):
            if self.fail_after is not None and sent >= self.fail_after:
                assert self.error is not None
                raise self.error
            chunk = self.body[start : start + chunk_size]
            sent += len(chunk)
            if self.on_chunk is not None:
                self.on_chunk(sent)
            yield chunk


class Factory:
    """An ``open_stream`` callable that hands out prepared streams (or raises) in order."""

    def __init__(self, *items: FakeStream | BaseException) -> None:
        self.items = list(items)
        self.calls = 0
        self.opened: list[FakeStream] = []

    def __call__(self) -> FakeStream:
        item = self.items[min(self.calls, len(self.items) - 1)]
        self.calls += 1
        if isinstance(item, BaseException):
            raise item
        self.opened.append(item)
        return item


class FakeClock:
    """Advances only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Usage(NamedTuple):
    total: int
    used: int
    free: int


def leftovers(folder: Path) -> list[str]:
    """Every file in ``folder`` (to assert nothing half-written stayed)."""
    return sorted(p.name for p in folder.iterdir())


# --- success ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content_length", [len(BODY), None])
def test_download_success(tmp_path: Path, content_length: int | None) -> None:
    dest = tmp_path / "videos" / "cat.mp4"  # the folder is created on demand
    factory = Factory(FakeStream(BODY, content_length=content_length))
    result = download(factory, dest, chunk_size=4096, min_free_bytes=0, digest=True)
    assert dest.read_bytes() == BODY
    assert result.path == dest
    assert result.size == len(BODY)
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert leftovers(dest.parent) == ["cat.mp4"]
    assert factory.calls == 1
    assert factory.opened[0].closed


def test_download_hashes_only_when_asked(tmp_path: Path) -> None:
    result = download(Factory(FakeStream(BODY)), tmp_path / "v.mp4", min_free_bytes=0)
    assert result.sha256 is None
    assert (tmp_path / "v.mp4").read_bytes() == BODY


def test_download_replaces_an_existing_file_only_when_complete(tmp_path: Path) -> None:
    dest = tmp_path / "cat.mp4"
    dest.write_bytes(b"old video")
    download(Factory(FakeStream(BODY)), dest, min_free_bytes=0)
    assert dest.read_bytes() == BODY


def test_download_writes_its_own_part_and_start_up_cleanup_removes_a_crashs(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "cat.mp4"
    (tmp_path / "cat.mp4.part").write_bytes(b"garbage from last time" * 1000)
    download(Factory(FakeStream(BODY)), dest, min_free_bytes=0)
    assert dest.read_bytes() == BODY
    assert leftovers(tmp_path) == ["cat.mp4", "cat.mp4.part"]  # another writer's: untouched
    cleanup_partials(tmp_path)
    assert leftovers(tmp_path) == ["cat.mp4"]


def test_the_file_and_its_folder_are_fsynced_before_the_rename_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "v.mp4"
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else "?"
        synced.append(f"{target} exists={dest.exists()}")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    download(Factory(FakeStream(BODY)), dest, min_free_bytes=0)
    assert len(synced) == (2 if os.name == "posix" else 1)
    if os.path.exists("/proc/self/fd"):
        data, exists = synced[0].rsplit(" ", 1)
        assert data.startswith(f"{dest}.") and data.endswith(".part")  # its own .part name
        assert exists == "exists=False"  # the data, before the rename
        assert synced[1] == f"{tmp_path} exists=True"  # the folder entry, after it


# --- progress --------------------------------------------------------------------------------


@pytest.mark.parametrize("content_length", [len(BODY), None])
def test_progress_is_monotonic_throttled_and_ends_at_the_size(
    tmp_path: Path, content_length: int | None
) -> None:
    clock = FakeClock()

    def tick(_sent: int) -> None:
        clock.now += 0.01  # each 1 KiB chunk takes 10 ms

    calls: list[tuple[int, int | None]] = []
    stream = FakeStream(BODY, content_length=content_length, on_chunk=tick)
    download(
        Factory(stream),
        tmp_path / "v.mp4",
        progress=lambda done, total: calls.append((done, total)),
        chunk_size=1024,
        min_free_bytes=0,
        clock=clock,
    )
    chunks = -(-len(BODY) // 1024)
    done = [c[0] for c in calls]
    assert done == sorted(done)
    assert calls[0] == (0, content_length)
    assert calls[-1] == (len(BODY), content_length)
    assert {c[1] for c in calls} == {content_length}
    # ~1 s of transfer at most 20 reports a second: about 20, never one per chunk.
    assert 10 <= len(calls) <= chunks * 0.01 / 0.05 + 3
    assert len(calls) < chunks / 3


def test_progress_with_a_frozen_clock_reports_only_start_and_end(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    download(
        Factory(FakeStream(BODY)),
        tmp_path / "v.mp4",
        progress=lambda d, t: calls.append((d, t)),
        chunk_size=512,
        min_free_bytes=0,
        clock=FakeClock(),
    )
    assert calls == [(0, None), (len(BODY), None)]


# --- verification and retries ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"error":"upstream_error","message":"provider refused"}',
        b"<html>502 Bad Gateway</html>" * 10,
        b"abc",
    ],
)
def test_a_body_that_is_not_mp4_is_refused_and_nothing_is_left(tmp_path: Path, body: bytes) -> None:
    dest = tmp_path / "v.mp4"
    factory = Factory(FakeStream(body))
    with pytest.raises(DownloadError) as caught:
        download(factory, dest, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.VERIFY
    assert "not an MP4" in caught.value.message
    assert not caught.value.retryable
    assert factory.calls == 1  # refetching the same wrong thing would not help
    assert leftovers(tmp_path) == []


def test_a_short_body_is_retried_from_zero_and_then_succeeds(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    short = FakeStream(BODY[:5000], content_length=len(BODY))
    full = FakeStream(BODY, content_length=len(BODY))
    factory = Factory(short, full)
    calls: list[tuple[int, int | None]] = []
    result = download(
        factory,
        dest,
        chunk_size=1000,
        progress=lambda d, t: calls.append((d, t)),
        clock=FakeClock(),
    )
    assert factory.calls == 2
    assert short.closed and full.closed
    assert dest.read_bytes() == BODY  # not the short body with the rest appended
    assert result.size == len(BODY)
    assert calls.count((0, len(BODY))) == 2  # the second attempt restarted from zero
    assert calls[-1] == (len(BODY), len(BODY))
    assert leftovers(tmp_path) == ["v.mp4"]


def test_an_empty_body_is_retried(tmp_path: Path) -> None:
    factory = Factory(FakeStream(b""), FakeStream(BODY))
    download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert factory.calls == 2


def test_a_body_that_keeps_coming_short_gives_up_after_the_attempts(tmp_path: Path) -> None:
    factory = Factory(FakeStream(BODY[:100], content_length=len(BODY)))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", attempts=4, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.VERIFY
    assert "stopped early" in caught.value.message
    assert "4 attempts" in caught.value.message
    assert caught.value.retryable
    assert factory.calls == 4
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "error",
    [
        gateway_error(ErrorKind.NETWORK, 0),
        gateway_error(ErrorKind.TIMEOUT, 0),
        gateway_error(ErrorKind.TRANSIENT, 502, "upstream_error"),
        gateway_error(ErrorKind.TRANSIENT, 503, "gateway_error"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    ],
)
def test_a_transfer_that_always_breaks_midway_gives_up_cleanly(
    tmp_path: Path, error: BaseException
) -> None:
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"the previous good video")
    factory = Factory(FakeStream(BODY, fail_after=20_000, error=error))
    with pytest.raises(DownloadError) as caught:
        download(factory, dest, attempts=3, chunk_size=4096, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.NETWORK
    assert caught.value.retryable
    assert "3 attempts" in caught.value.message
    assert factory.calls == 3
    assert all(s.closed for s in factory.opened)
    assert leftovers(tmp_path) == ["v.mp4"]
    assert dest.read_bytes() == b"the previous good video"


def test_a_transfer_that_breaks_once_succeeds_on_the_next_attempt(tmp_path: Path) -> None:
    broken = FakeStream(BODY, fail_after=8192, error=gateway_error(ErrorKind.NETWORK, 0))
    factory = Factory(broken, FakeStream(BODY))
    result = download(factory, tmp_path / "v.mp4", chunk_size=4096, min_free_bytes=0, digest=True)
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert factory.calls == 2


def test_open_failing_transiently_is_retried(tmp_path: Path) -> None:
    factory = Factory(gateway_error(ErrorKind.TRANSIENT, 504), FakeStream(BODY))
    download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert factory.calls == 2


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (gateway_error(ErrorKind.NOT_FOUND, 404, "not_found"), ErrorKind.NOT_FOUND),
        (gateway_error(ErrorKind.AUTH, 401, "unauthorised"), ErrorKind.AUTH),
    ],
)
def test_job_level_gateway_errors_propagate_at_once(
    tmp_path: Path, error: GatewayError, kind: ErrorKind
) -> None:
    factory = Factory(error)
    with pytest.raises(GatewayError) as caught:
        download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert caught.value is error
    assert caught.value.kind is kind
    assert factory.calls == 1
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            gateway_error(ErrorKind.POLICY_BLOCK, 403, "guardrail_blocked"),
            DownloadErrorKind.REFUSED,
            "refused to hand over",
        ),
        (
            gateway_error(ErrorKind.VALIDATION, 400, "validation_error"),
            DownloadErrorKind.REFUSED,
            "refused the download request",
        ),
        (
            GatewayError(
                kind=ErrorKind.INSECURE, message="to http://cdn", code="insecure_redirect"
            ),
            DownloadErrorKind.INSECURE,
            "insecure address",
        ),
        (
            GatewayError(
                kind=ErrorKind.TRANSIENT,
                message="upstream",
                status=502,
                code="upstream_error",
                reason="video_content_too_large",
            ),
            DownloadErrorKind.TOO_LARGE,
            "larger than",
        ),
    ],
)
def test_content_errors_no_retry_can_change_stop_at_once_and_say_why(
    tmp_path: Path, error: GatewayError, kind: DownloadErrorKind, words: str
) -> None:
    factory = Factory(error, FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert caught.value.kind is kind and not caught.value.retryable
    assert words in caught.value.message
    assert factory.calls == 1  # not retried
    assert leftovers(tmp_path) == []


def test_a_broken_transfer_never_quotes_a_signed_query(tmp_path: Path) -> None:
    def broken() -> FakeStream:
        leak = OSError("Max retries exceeded with url: /videos/G-1/content?signature=s3cr3t")
        return FakeStream(BODY, fail_after=0, error=leak)

    factory = Factory(broken(), broken(), broken())
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert "s3cr3t" not in caught.value.message
    assert "/videos/G-1/content" in caught.value.message


def test_a_non_retryable_error_midway_is_raised_once_and_cleaned(tmp_path: Path) -> None:
    error = gateway_error(ErrorKind.NOT_FOUND, 404, "not_found")
    factory = Factory(FakeStream(BODY, fail_after=10_000, error=error))
    with pytest.raises(GatewayError):
        download(factory, tmp_path / "v.mp4", chunk_size=4096, min_free_bytes=0)
    assert factory.calls == 1
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("error", "kind", "retryable", "words"),
    [
        (
            gateway_error(ErrorKind.NOT_READY, 409, "not_ready"),
            DownloadErrorKind.NOT_READY,
            True,
            "not ready",
        ),
        (
            gateway_error(ErrorKind.TRANSIENT, 502, "video_content_too_large"),
            DownloadErrorKind.TOO_LARGE,
            False,
            "512 MiB",
        ),
        (
            gateway_error(ErrorKind.RATE_LIMITED, 429, "key_limit_exceeded", retry_after=30.0),
            DownloadErrorKind.NETWORK,
            True,
            "slow down",
        ),
    ],
)
def test_gateway_answers_that_retrying_now_cannot_fix_are_not_retried(
    tmp_path: Path, error: GatewayError, kind: DownloadErrorKind, retryable: bool, words: str
) -> None:
    factory = Factory(error, FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", min_free_bytes=0)
    assert caught.value.kind is kind
    assert caught.value.retryable is retryable
    assert words in caught.value.message
    assert caught.value.__cause__ is error
    assert factory.calls == 1
    if kind is DownloadErrorKind.NETWORK:
        assert caught.value.retry_after == 30.0
    assert leftovers(tmp_path) == []


def test_the_clients_own_size_cap_midway_is_too_large_and_not_retried(tmp_path: Path) -> None:
    error = gateway_error(ErrorKind.UNEXPECTED, 200, "content_too_large")  # ContentStream's cap
    factory = Factory(FakeStream(BODY, fail_after=8192, error=error))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", chunk_size=4096, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.TOO_LARGE
    assert not caught.value.retryable
    assert factory.calls == 1
    assert leftovers(tmp_path) == []


def test_an_announced_size_over_the_cap_is_refused_before_writing(tmp_path: Path) -> None:
    factory = Factory(FakeStream(BODY, content_length=600 * 1024 * 1024))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4")
    assert caught.value.kind is DownloadErrorKind.TOO_LARGE
    assert factory.calls == 1
    assert leftovers(tmp_path) == []


def test_a_body_running_past_the_cap_is_cut_off(tmp_path: Path) -> None:
    factory = Factory(FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", max_bytes=10_000, chunk_size=4096, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.TOO_LARGE
    assert factory.calls == 1
    assert leftovers(tmp_path) == []


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_midway_stops_and_cleans_up(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"keep me")
    cancel = threading.Event()
    seen: list[int] = []

    def cancel_after_some(sent: int) -> None:
        seen.append(sent)
        if sent >= 16_384:
            cancel.set()

    stream = FakeStream(BODY, on_chunk=cancel_after_some)
    with pytest.raises(DownloadError) as caught:
        download(Factory(stream), dest, cancel=cancel, chunk_size=4096, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.CANCELLED
    assert not caught.value.retryable
    assert max(seen) < len(BODY)  # it stopped, it did not read the rest
    assert stream.closed
    assert leftovers(tmp_path) == ["v.mp4"]
    assert dest.read_bytes() == b"keep me"


def test_cancel_before_start_never_opens_the_stream(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    factory = Factory(FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", cancel=cancel, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.CANCELLED
    assert factory.calls == 0
    assert leftovers(tmp_path) == []


def test_a_crashing_progress_callback_still_leaves_nothing_behind(tmp_path: Path) -> None:
    def explode(done: int, total: int | None) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(
            Factory(FakeStream(BODY)),
            tmp_path / "v.mp4",
            progress=explode,
            chunk_size=1024,
            min_free_bytes=0,
            progress_interval=0.0,
        )
    assert leftovers(tmp_path) == []


# --- disk trouble ----------------------------------------------------------------------------


def test_destination_under_a_regular_file_fails_in_plain_words(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("I am a file")
    factory = Factory(FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, blocker / "sub" / "v.mp4", min_free_bytes=0)
    assert caught.value.kind in (DownloadErrorKind.PERMISSION, DownloadErrorKind.OTHER)
    assert "not a folder" in caught.value.message
    assert str(blocker) in caught.value.message
    assert factory.calls == 0
    assert leftovers(tmp_path) == ["not-a-folder"]


def test_not_enough_space_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        shutil,
        "disk_usage",
        lambda _p: Usage(10**9, 10**9 - 30_000_000, 30_000_000),
    )
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"older")
    factory = Factory(FakeStream(BODY, content_length=120_000_000))
    with pytest.raises(DownloadError) as caught:
        download(factory, dest)
    error = caught.value
    assert error.kind is DownloadErrorKind.NO_SPACE
    assert not error.retryable
    assert error.message == f"Not enough free space in {tmp_path}: 120 MB needed, 30 MB free."
    assert leftovers(tmp_path) == ["v.mp4"]
    assert dest.read_bytes() == b"older"


def test_expected_size_refuses_before_even_opening_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(100, 90, 10))
    factory = Factory(FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, tmp_path / "v.mp4", expected_size=5_000)
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert factory.calls == 0


def test_unknown_size_needs_the_minimum_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(10**9, 0, 10**6))
    with pytest.raises(DownloadError) as caught:
        download(Factory(FakeStream(BODY)), tmp_path / "v.mp4", min_free_bytes=2 * 10**6)
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert "2.0 MB needed" in caught.value.message
    download(Factory(FakeStream(BODY)), tmp_path / "v.mp4", min_free_bytes=10**5)  # enough


class FailingWriter:
    """A file whose writes fail with ``code`` once ``limit`` bytes are written."""

    def __init__(self, real: Any, code: int, limit: int) -> None:
        self.real = real
        self.code = code
        self.limit = limit
        self.written = 0

    def write(self, data: bytes) -> int:
        if self.written + len(data) > self.limit:
            raise OSError(self.code, os.strerror(self.code))
        self.written += len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int, limit: int = 10_000) -> None:
    real_open = open

    def fake_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(path, mode, *args, **kwargs)
        return FailingWriter(handle, code, limit) if "w" in mode else handle

    monkeypatch.setattr(safe_write_module, "open", fake_open, raising=False)


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (errno.ENOSPC, DownloadErrorKind.NO_SPACE, "is full"),
        (errno.EDQUOT, DownloadErrorKind.NO_SPACE, "quota"),
        (errno.EACCES, DownloadErrorKind.PERMISSION, "not allowed"),
        (errno.EPERM, DownloadErrorKind.PERMISSION, "not allowed"),
        (errno.EROFS, DownloadErrorKind.PERMISSION, "read-only"),
        (errno.EIO, DownloadErrorKind.OTHER, "Could not write"),
    ],
)
def test_write_errors_become_typed_errors_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, kind: DownloadErrorKind, words: str
) -> None:
    fail_writes(monkeypatch, code)
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"previous")
    factory = Factory(FakeStream(BODY))
    with pytest.raises(DownloadError) as caught:
        download(factory, dest, chunk_size=4096, min_free_bytes=0)
    assert caught.value.kind is kind
    assert words in caught.value.message
    assert str(tmp_path) in caught.value.message
    assert not caught.value.retryable
    assert factory.calls == 1  # disk trouble is not retried by refetching
    assert leftovers(tmp_path) == ["v.mp4"]
    assert dest.read_bytes() == b"previous"


def _try_mount(target: Path, options: str) -> bool:
    if shutil.which("mount") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB filesystem (root only; skipped where mounting is not allowed)."""
    target = tmp_path / "tiny"
    target.mkdir()
    if not _try_mount(target, "size=1m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_really_full_disk_is_no_space_and_leaves_nothing(tiny_fs: Path) -> None:
    big = MP4_HEAD + os.urandom(3 * 1024 * 1024)
    dest = tiny_fs / "v.mp4"
    # No Content-Length and no space minimum: only the write itself can find out.
    with pytest.raises(DownloadError) as caught:
        download(Factory(FakeStream(big)), dest, chunk_size=64 * 1024, min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert str(tiny_fs) in caught.value.message
    assert leftovers(tiny_fs) == []
    # ...and the pre-check catches it when the size is announced.
    factory = Factory(FakeStream(big, content_length=len(big)))
    with pytest.raises(DownloadError) as caught:
        download(factory, dest)
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert "needed" in caught.value.message
    assert leftovers(tiny_fs) == []
    # A video that fits still works.
    download(Factory(FakeStream(BODY)), dest, min_free_bytes=0)
    assert dest.read_bytes() == BODY


def test_a_read_only_filesystem_is_a_permission_error(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    if not _try_mount(target, "size=1m,ro"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(DownloadError) as caught:
            download(Factory(FakeStream(BODY)), target / "v.mp4", min_free_bytes=0)
        assert caught.value.kind is DownloadErrorKind.PERMISSION
        assert "read-only" in caught.value.message
        assert str(target) in caught.value.message
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_folder_in_the_way_of_the_destination(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").mkdir()
    with pytest.raises(DownloadError) as caught:
        download(Factory(FakeStream(BODY)), tmp_path / "v.mp4", min_free_bytes=0)
    assert caught.value.kind is DownloadErrorKind.OTHER
    assert "folder" in caught.value.message
    assert leftovers(tmp_path) == ["v.mp4"]


def test_attempts_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        download(Factory(FakeStream(BODY)), tmp_path / "v.mp4", attempts=0)


# --- copy_file -------------------------------------------------------------------------------


def test_copy_file_success(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    dest = tmp_path / "elsewhere" / "saved.mp4"
    calls: list[tuple[int, int | None]] = []
    result = copy_file(src, dest, progress=lambda d, t: calls.append((d, t)), digest=True)
    assert dest.read_bytes() == BODY
    assert result.size == len(BODY)
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert calls[0] == (0, len(BODY))
    assert calls[-1] == (len(BODY), len(BODY))
    assert leftovers(dest.parent) == ["saved.mp4"]
    assert src.read_bytes() == BODY


def test_copy_file_over_an_existing_file_and_onto_itself(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    dest = tmp_path / "dest.mp4"
    dest.write_bytes(b"old")
    copy_file(src, dest)
    assert dest.read_bytes() == BODY
    copy_file(src, src)
    assert src.read_bytes() == BODY
    assert leftovers(tmp_path) == ["dest.mp4", "src.mp4"]


def test_copy_file_missing_source_says_so(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as caught:
        copy_file(tmp_path / "gone.mp4", tmp_path / "dest.mp4")
    assert caught.value.kind is DownloadErrorKind.OTHER
    assert "no longer there" in caught.value.message
    assert str(tmp_path / "gone.mp4") in caught.value.message
    assert leftovers(tmp_path) == []


def test_copy_file_into_a_path_under_a_file(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DownloadError) as caught:
        copy_file(src, tmp_path / "file" / "dest.mp4")
    assert "not a folder" in caught.value.message
    assert leftovers(tmp_path) == ["file", "src.mp4"]


def test_copy_file_cancel_keeps_the_old_destination(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    dest = tmp_path / "dest.mp4"
    dest.write_bytes(b"old")
    cancel = threading.Event()

    def progress(done: int, _total: int | None) -> None:
        if done >= 4096:
            cancel.set()

    with pytest.raises(DownloadError) as caught:
        copy_file(src, dest, progress=progress, cancel=cancel, chunk_size=4096, progress_interval=0)
    assert caught.value.kind is DownloadErrorKind.CANCELLED
    assert dest.read_bytes() == b"old"
    assert leftovers(tmp_path) == ["dest.mp4", "src.mp4"]


def test_copy_file_no_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(10**9, 0, 1000))
    with pytest.raises(DownloadError) as caught:
        copy_file(src, tmp_path / "out" / "dest.mp4")
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert str(tmp_path / "out") in caught.value.message
    assert leftovers(tmp_path / "out") == []


def test_copy_file_write_failure_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(BODY)
    fail_writes(monkeypatch, errno.ENOSPC)
    with pytest.raises(DownloadError) as caught:
        copy_file(src, tmp_path / "dest.mp4", chunk_size=4096)
    assert caught.value.kind is DownloadErrorKind.NO_SPACE
    assert leftovers(tmp_path) == ["src.mp4"]


# --- write_json_atomic -----------------------------------------------------------------------


def test_write_json_atomic_writes_and_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "meta" / "v.json"
    write_json_atomic(dest, {"prompt": "un chat à Paris", "n": 1})
    assert json.loads(dest.read_text(encoding="utf-8")) == {"prompt": "un chat à Paris", "n": 1}
    write_json_atomic(dest, [1, 2, 3])
    assert json.loads(dest.read_text(encoding="utf-8")) == [1, 2, 3]
    assert leftovers(dest.parent) == ["v.json"]


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}])
def test_write_json_atomic_refuses_unserialisable_data_without_touching_disk(
    tmp_path: Path, bad: object
) -> None:
    dest = tmp_path / "v.json"
    dest.write_text('{"old": true}')
    with pytest.raises((TypeError, ValueError)):
        write_json_atomic(dest, bad)
    assert dest.read_text() == '{"old": true}'
    assert leftovers(tmp_path) == ["v.json"]


def test_write_json_atomic_disk_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(_src: object, _dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(DownloadError) as caught:
        write_json_atomic(tmp_path / "v.json", {"a": 1})
    assert caught.value.kind is DownloadErrorKind.PERMISSION
    assert leftovers(tmp_path) == []


# --- plain words -----------------------------------------------------------------------------


def test_download_error_reads_as_its_message() -> None:
    error = DownloadError(DownloadErrorKind.OTHER, "This video has not been downloaded yet.")
    assert str(error) == "This video has not been downloaded yet."
    assert not error.retryable
    assert DownloadError(DownloadErrorKind.NETWORK, "x").retryable
    assert not DownloadError(DownloadErrorKind.NETWORK, "x", retryable=False).retryable
