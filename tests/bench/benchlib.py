"""Shared plumbing for the benchmark modules: figures, scratch folders, a demo gateway process.

Each ``bench_<name>.py`` module exposes ``run(quick: bool) -> dict`` returning
``{"figures": [Figure.as_dict(), ...], ...extra data}``; ``run.py`` runs every module in a
fresh interpreter and prints one line per figure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = ROOT / "bench-results"
#: Scratch files live on the same disk as the results (not a tmpfs), so fsync costs are real.
SCRATCH_ROOT = RESULTS_DIR / "scratch"
DEMO_KEY = "demo"
MIB = 1024 * 1024

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Figure:
    """One measured figure: the value, its baseline, the goal and whether it was met."""

    name: str
    #: The headline number, e.g. ``"1.02x curl"`` or ``"0.21 ms median"``.
    value: str
    #: The comparison behind it, e.g. ``"612 MB/s vs 600 MB/s"``.
    detail: str
    #: The goal in words, e.g. ``">= 0.90x"``.
    goal: str
    passed: bool
    #: The ratio against the same-run baseline, when the figure has one.
    ratio: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def say(message: str) -> None:
    """A progress line on stderr (stdout is kept for the results)."""
    print(f"  [bench] {message}", file=sys.stderr, flush=True)


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (zeros where unsupported)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


@contextlib.contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh folder under ``bench-results/scratch/`` that is removed afterwards."""
    folder = SCRATCH_ROOT / f"{name}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in [0, 1]) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: offscreen Qt, quiet multimedia, repo on the path."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    # Run from cached bytecode as an installed app does (cache kept outside the source tree).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(RESULTS_DIR / "pycache"))
    env.update(extra)
    return env


class GatewayProcess:
    """The demo gateway in its own process, so its CPU time is not charged to the client."""

    def __init__(self, **options: float | int | str) -> None:
        """``options`` become ``--name value`` flags of ``python -m core.demo_gateway``."""
        self._options = options
        self._proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def __enter__(self) -> GatewayProcess:
        """Start the server and wait for its base URL."""
        args = [sys.executable, "-m", "core.demo_gateway"]
        for key, value in self._options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        self._proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=bench_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line.startswith("http"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the demo gateway did not start (said {line!r})")
        self.base_url = line
        return self

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None
        return self._proc.pid

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def demo_params(prompt: str, duration: int = 1) -> Any:
    """Create parameters for the demo model (a short, small test-pattern clip)."""
    from core.jobs import JobParams

    return JobParams(
        model="demo/test-pattern",
        prompt=prompt,
        duration=duration,
        aspect_ratio="16:9",
        resolution="360p",
    )


def completed_job(client: Any, prompt: str, timeout: float = 60.0) -> str:
    """Create a demo job and wait until the gateway says it is completed; returns its id."""
    remote = client.create(demo_params(prompt))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(remote.id).status_text
        if status == "completed":
            return str(remote.id)
        time.sleep(0.05)
    raise TimeoutError(f"demo job {remote.id} did not complete within {timeout} s")


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


# ---------------------------------------------------------------------------------------------
# Synthetic jobs and journals

_PROMPT_TEXT = (
    "sunrise mountain lake cinematic drone slow motion city night rain neon forest fog ocean "
    "waves aerial portrait close-up golden hour timelapse desert storm snow river bridge "
    "market crowd festival lanterns train station cat dog horse garden spring autumn winter "
    "summer robot spaceship galaxy nebula underwater coral reef whale castle ruins volcano "
    "lava waterfall canyon street food chef kitchen dancer stage concert guitar piano violin"
)
_WORDS = tuple(_PROMPT_TEXT.split(" "))
_MODELS = (
    "google/veo-3.1-lite-preview",
    "google/veo-3.1-fast-preview",
    "openai/sora-2",
    "minimax/hailuo-02",
    "demo/test-pattern",
)


def status_document(remote_id: str, status: str, now: float, progress: int) -> dict[str, Any]:
    """A gateway status answer shaped like the real one (about 1.3 KB of JSON)."""
    done = status == "completed"
    base = "https://api.phaseo.app/v1/videos"
    return {
        "id": remote_id,
        "object": "video",
        "status": status,
        "lifecycle_status": "succeeded" if done else "running",
        "progress": progress,
        "progress_source": "provider",
        "provider": "openai",
        "model": "openai/sora-2",
        "seconds": "8",
        "size": "1280x720",
        "audio": True,
        "poll_after_seconds": 20,
        "created_at": int(now) - 60,
        "started_at": int(now) - 50,
        "completed_at": int(now) if done else None,
        "content_url": f"{base}/{remote_id}/content",
        "download_url": f"{base}/{remote_id}/content?expires=1&signature=abc" if done else None,
        "expires_at": int(now) + 900 if done else None,
        "outputs": [
            {
                "index": 0,
                "mime_type": "video/mp4",
                "bytes_available": done,
                "content_url": f"{base}/{remote_id}/content?index=0",
                "download_url": None,
                "expires_at": None,
            }
        ],
        "asset": None,
        "usage": {"cost": None},
        "billing": {"state": "estimated", "cost": "0.40", "currency": "USD"},
        "error": None,
        "provider_status": "RUNNING",
        "estimated_completion_at": int(now) + 60,
    }


def synthetic_jobs(count: int, *, seed: int = 7, now: float | None = None) -> list[Any]:
    """``count`` finished jobs as a long-time user's journal holds them, newest last.

    About 80% completed and downloaded, the rest failed, expired, cancelled or rejected; a
    handful (0.5%) still running on the real gateway (not polled in demo mode).
    """
    import random
    import uuid

    from core.jobs import (
        Cause,
        DownloadState,
        Job,
        JobFailure,
        JobParams,
        JobState,
    )

    rng = random.Random(seed)
    now = time.time() if now is None else now
    start = now - 365 * 86400
    step = (now - start) / max(1, count)
    jobs = []
    for index in range(count):
        created = start + index * step
        roll = rng.random()
        if roll < 0.80:
            state = JobState.COMPLETED
        elif roll < 0.90:
            state = JobState.FAILED
        elif roll < 0.94:
            state = JobState.EXPIRED
        elif roll < 0.97:
            state = JobState.CANCELLED
        elif roll < 0.995:
            state = JobState.REJECTED
        else:
            state = JobState.PROCESSING
        prompt = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 30)))
        remote_id = None
        if state is not JobState.REJECTED:
            remote_id = f"G-{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}"
        failure = None
        if state in (JobState.FAILED, JobState.REJECTED, JobState.EXPIRED, JobState.CANCELLED):
            failure = JobFailure(
                cause={
                    JobState.FAILED: Cause.PROVIDER,
                    JobState.REJECTED: Cause.POLICY,
                    JobState.EXPIRED: Cause.EXPIRED,
                    JobState.CANCELLED: Cause.CANCELLED,
                }[state],
                code="provider_error",
                message="The provider failed to render the video.",
                provider="openai",
                http_status=200,
                request_id=remote_id,
                raw={"code": "provider_error", "message": "The provider failed."},
            )
        done = state is JobState.COMPLETED
        jobs.append(
            Job(
                local_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                params=JobParams(
                    model=rng.choice(_MODELS),
                    prompt=prompt,
                    duration=rng.choice((4, 6, 8)),
                    aspect_ratio=rng.choice(("16:9", "9:16")),
                ),
                state=state,
                created_at=created,
                updated_at=created + 90,
                remote_id=remote_id,
                remote_status=state.value,
                progress=100 if done else 40,
                submitted_at=created + 1,
                finished_at=None if state is JobState.PROCESSING else created + 90,
                poll_after=20.0,
                failure=failure,
                request_ids=(remote_id,) if remote_id else (),
                billing_state="settled" if done else "void",
                cost="0.40" if done else "0.00",
                download=DownloadState.DONE if done else DownloadState.NONE,
                files=(f"/home/user/Videos/Reelgate/{remote_id}-1.mp4",) if done else (),
                gateway_label="default",
            )
        )
    return jobs


def fill_journal(path: Path, count: int, *, events_per_job: int = 3) -> None:
    """Write ``count`` synthetic jobs (and a few events each) into the journal at ``path``.

    Uses the journal's own row codec and statements, in one transaction: 100,000 jobs take a
    few seconds instead of 100,000 synced commits.
    """
    import json

    from core.journal import Journal
    from core.journal_codec import job_row
    from core.journal_schema import APPEND_EVENT, INSERT_JOB, transaction

    jobs = synthetic_jobs(count)
    journal = Journal.open(path)
    try:
        conn = journal._conn  # the bench fills in bulk; the app never needs to
        with transaction(conn):
            conn.executemany(INSERT_JOB, (job_row(job) for job in jobs))
            for job in jobs:
                events = []
                for index in range(events_per_job):
                    kind = "created" if index == 0 else "status"
                    raw = json.dumps({"id": job.remote_id, "status": job.state.value})
                    events.append(
                        (
                            job.local_id,
                            job.created_at + index * 20,
                            kind,
                            job.state.value,
                            200,
                            job.remote_id,
                            raw,
                            None,
                        )
                    )
                conn.executemany(APPEND_EVENT, events)
    finally:
        journal.close()
