"""Cross-process locks: one holder at a time, lock files removed by their holder, no race."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from core.joblock import FileLock

ROOT = Path(__file__).resolve().parents[2]


def hold_in_another_process(path: Path, *, remove: bool) -> subprocess.Popen[str]:
    """A process that takes the lock, says "held", and releases it when told (stdin line)."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from core.joblock import FileLock
        lock = FileLock(Path({str(path)!r}))
        lock.acquire()
        print("held", flush=True)
        sys.stdin.readline()
        lock.release(remove={remove!r})
        print("released", flush=True)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def let_go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "released"
    process.wait(timeout=10)


def test_a_lock_held_by_another_process_is_refused_then_free_and_its_file_gone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locks" / "job-abc.lock"
    other = hold_in_another_process(path, remove=True)
    lock = FileLock(path)
    try:
        assert not lock.acquire(blocking=False)  # the other process holds it
    finally:
        let_go(other)
    assert not path.exists()  # the holder removed its lock file
    assert lock.acquire(blocking=False)
    lock.release(remove=True)
    assert not path.exists()


def test_a_waiter_on_a_removed_lock_file_locks_the_new_one_so_only_one_holds_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "job-abc.lock"
    other = hold_in_another_process(path, remove=True)
    waiter = FileLock(path)
    got = threading.Event()

    def wait_for_it() -> None:
        waiter.acquire()  # opens the file the other process holds, then waits
        got.set()

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    assert not got.wait(0.3)  # still held by the other process
    let_go(other)  # removes the file the waiter opened, then unlocks it
    assert got.wait(10)
    thread.join()
    try:
        # The waiter holds the lock on the file now at the path: a third process is refused.
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from core.joblock import FileLock; "
                f"sys.exit(0 if FileLock(Path({str(path)!r})).acquire(blocking=False) else 3)",
            ],
            cwd=ROOT,
            timeout=30,
        )
        assert check.returncode == 3
        assert path.exists()
    finally:
        waiter.release(remove=True)
    assert not path.exists()
