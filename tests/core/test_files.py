"""Durable small files: atomic text writes, folder fsync, stale ``.part`` cleanup, sizes."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

import core.files as files_module
from core.files import cleanup_partials, human_size, part_path, write_text_atomic, writer_pid

BODY = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- write_text_atomic -----------------------------------------------------------------------


def test_write_text_atomic_creates_the_folder_and_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    write_text_atomic(path, "first")
    write_text_atomic(path, "second, ünïcode")
    assert path.read_text(encoding="utf-8") == "second, ünïcode"
    assert leftovers(path.parent) == ["settings.json"]


def test_write_text_atomic_keeps_line_endings_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "spend.csv"
    write_text_atomic(path, "a,b\r\n1,2\r\n", newline="")
    assert path.read_bytes() == b"a,b\r\n1,2\r\n"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("old")

    def full_disk(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files_module.os, "fsync", full_disk)
    with pytest.raises(OSError) as caught:
        write_text_atomic(path, "new")
    assert caught.value.errno == errno.ENOSPC
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == ["state.json"]


def test_the_file_and_then_its_folder_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.json"
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(files_module.os, "fsync", spy)
    write_text_atomic(path, "{}")
    assert len(synced) == 2
    assert synced[0].startswith(f"{tmp_path}/.cache.json.") and synced[0].endswith(".tmp")
    assert synced[1] == str(tmp_path)


def test_part_names_carry_the_writer_and_differ_each_time(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    first, second = part_path(dest), part_path(dest)
    assert first != second and first.name.endswith(".part")
    assert writer_pid(first) == os.getpid()
    assert writer_pid(tmp_path / "v.mp4.part") is None


# --- cleanup_partials ------------------------------------------------------------------------


def test_cleanup_partials_removes_only_stale_part_files(tmp_path: Path) -> None:
    (tmp_path / "a.mp4.part").write_bytes(b"half")
    (tmp_path / "b.json.part").write_text("{")
    (tmp_path / "keep.mp4").write_bytes(BODY)
    (tmp_path / "dir.part").mkdir()  # not a file: left alone
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.mp4.part").write_bytes(b"x")  # not recursive
    removed = cleanup_partials(tmp_path)
    assert removed == [tmp_path / "a.mp4.part", tmp_path / "b.json.part"]
    assert leftovers(tmp_path) == ["dir.part", "keep.mp4", "sub"]
    assert (tmp_path / "sub" / "deep.mp4.part").exists()


def test_cleanup_partials_spares_fresh_files_when_asked(tmp_path: Path) -> None:
    old = tmp_path / "old.mp4.part"
    fresh = tmp_path / "fresh.mp4.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert cleanup_partials(tmp_path, older_than=600) == [old]
    assert fresh.exists()


def test_cleanup_partials_on_a_missing_folder(tmp_path: Path) -> None:
    assert cleanup_partials(tmp_path / "nope") == []


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1500, "1.5 KB"),
        (30_000_000, "30 MB"),
        (120_000_000, "120 MB"),
        (3_400_000_000, "3.4 GB"),
        (5 * 10**15, "5000 TB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_a_killed_writers_part_of_the_same_file_is_removed_when_it_is_written_again(
    tmp_path: Path,
) -> None:
    """A copy to ``clip.mp4`` killed half way left its ``.part``; the next copy removes it and
    nothing else: not a running writer's, not another file's, not a browser's download."""
    import subprocess
    import sys

    from core.safe_write import copy_file

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    dest = tmp_path / "clip.mp4"
    orphan = tmp_path / f"clip.mp4.{dead_pid}-0badc0de.part"
    running = tmp_path / f"clip.mp4.{os.getpid()}-1234abcd.part"
    other_file = tmp_path / f"other.mp4.{dead_pid}-0badc0de.part"
    browser = tmp_path / "clip.mp4.part"
    for path in (orphan, running, other_file, browser):
        path.write_bytes(b"half")
    source = tmp_path / "source.mp4"
    source.write_bytes(BODY)
    copy_file(source, dest)
    assert dest.read_bytes() == BODY
    assert not orphan.exists()
    assert running.exists() and other_file.exists() and browser.exists()
