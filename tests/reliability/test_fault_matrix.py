"""Fault matrix: the whole job loop over real loopback HTTP under every fault, 50 jobs a run.

Each run sends its jobs through the real engine, client and journal to the demo gateway,
through a fault-injecting proxy (``faultproxy.py``), on a virtual clock (``harness.py``).
For every job the verdict must hold: completed jobs saved with the server's exact bytes,
failed jobs with the provider's detail and a request id, no job lost, no create sent twice,
no network fault reported as a job failure. The default test run uses a sample (one run
that carries every fault kind, plus the disk runs); ``REELGATE_RELIABILITY=full`` runs every
fault kind alone and several random mixes as well.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway

from .faultproxy import FAULTS
from .figures import FIGURES, FULL, sized
from .harness import (
    DEMO_CONTENT,
    DEMO_CREATE,
    DEMO_OUTCOMES,
    DEMO_STATUS,
    HARNESS,
    MatrixRun,
    RunReport,
    RunSpec,
    mixed_prompts,
    random_profile,
    sha256_file,
    single_fault_prompts,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(sized(150, 900))]

ROOT = Path(__file__).resolve().parents[2]
JOBS = 50
#: Every fault the matrix knows: the proxy's, the demo gateway's keywords, the harness's.
ALL_FAULTS = [
    *("{px:" + name + "}" for name in FAULTS),
    *DEMO_CREATE,
    *DEMO_STATUS,
    *DEMO_CONTENT,
    *DEMO_OUTCOMES,
    *HARNESS,
]
#: One-kind-at-a-time runs: all of them in full mode, a few representative ones otherwise.
SINGLE = (
    ALL_FAULTS
    if FULL
    else ["{px:create-drop-after}", "{px:status-504}", "{px:content-truncated}", "[fail-string]"]
)


def record(report: RunReport) -> None:
    """Add a run's counts to the suite's figures."""
    FIGURES.add(
        runs=1,
        jobs=report.jobs,
        jobs_lost=len(report.lost),
        duplicate_creates=len(report.duplicate_creates),
        false_failures=len(report.false_failures),
        wrong_outcomes=len(report.wrong_outcomes) + len(report.missing_detail),
        partial_files=len(report.partial_files),
        uncertain_matches=report.uncertain,
        uncertain_wrong=report.uncertain_wrong,
        wrong_classes=len(report.wrong_classes),
    )
    FIGURES.add_faults(report.faults)
    FIGURES.add_classes(report.classes)
    for kind, items in report.problems.items():
        for item in items:
            FIGURES.problem(f"{report.name}: {kind}: {item}")


def every_kind_prompts(rng: random.Random) -> list[str]:
    """50 prompts that between them carry every fault kind (two each, in turn) and extras."""
    prompts = []
    for i in range(JOBS):
        kinds = [ALL_FAULTS[(2 * i) % len(ALL_FAULTS)], ALL_FAULTS[(2 * i + 1) % len(ALL_FAULTS)]]
        if rng.random() < 0.3:
            kinds.append(rng.choice(ALL_FAULTS))
        prompts.append(f"job {i}: {' '.join(kinds)} a red kite over a wheat field")
    return prompts


def test_every_fault_kind_in_one_run_of_50_jobs_with_a_revoked_key(tmp_path: Path) -> None:
    """All fault kinds at once, the demo's random faults on top, and the key revoked mid-run."""
    spec = RunSpec(
        "every-kind",
        every_kind_prompts(random.Random(11)),
        profile=random_profile(11),
        revoke_after=0.4,
        seed=11,
    )
    report = MatrixRun(spec, tmp_path).run()
    record(report)
    report.assert_clean()
    assert report.outcomes["completed"] >= 15, report.outcomes
    kinds = {k.split(":", 1)[-1] for k in report.faults}
    assert {"status-504", "content-409", "create-drop-before", "drop-create"} <= kinds


@pytest.mark.parametrize("seed", range(sized(0, 5)) if FULL else [3])
def test_random_mixes_of_faults(tmp_path: Path, seed: int) -> None:
    """Random faults per job (create, status, content, outcome), 50 jobs a run."""
    spec = RunSpec(
        f"mixed-{seed}",
        mixed_prompts(sized(20, JOBS), random.Random(seed)),
        profile=random_profile(seed),
        revoke_after=0.5 if seed % 2 == 0 else None,
        seed=seed,
    )
    report = MatrixRun(spec, tmp_path).run()
    record(report)
    report.assert_clean()


@pytest.mark.parametrize("fault", SINGLE)
def test_one_fault_kind_at_a_time(tmp_path: Path, fault: str) -> None:
    """One fault kind on every other job of a 50-job run (the rest are the control group)."""
    spec = RunSpec(f"single {fault}", single_fault_prompts(fault, sized(12, JOBS)))
    report = MatrixRun(spec, tmp_path).run()
    record(report)
    report.assert_clean()
    assert sum(report.faults.values()) >= 1, f"{fault} was never injected"


def test_key_revoked_mid_run_stops_everything_then_resumes(tmp_path: Path) -> None:
    """A 401 on every call: polling and downloads stop, no job fails, a new key resumes."""
    spec = RunSpec("revoked key", single_fault_prompts("", sized(12, JOBS)), revoke_after=0.3)
    run = MatrixRun(spec, tmp_path)
    report = run.run()
    record(report)
    report.assert_clean()
    assert run.revoked_once and report.faults["proxy:key-revoked-401"] >= 1
    assert report.outcomes["completed"] == len(spec.prompts)


@pytest.mark.parametrize("disk", ["full", "unwritable", "not-a-folder"])
def test_disk_full_or_unwritable_then_repaired(tmp_path: Path, disk: str) -> None:
    """Downloads fail with a plain message and no partial file; after the repair all save.

    ``not-a-folder`` is a regression test: the engine created the videos folder itself and a
    file in its place raised a bare OSError out of the job loop.
    """
    spec = RunSpec(f"disk {disk}", single_fault_prompts("", sized(8, JOBS)), disk=disk)
    run = MatrixRun(spec, tmp_path)
    report = run.run()
    record(report)
    report.assert_clean()
    assert report.outcomes["completed"] == len(spec.prompts)
    assert any(k.startswith(f"disk {disk}") for k in report.faults), report.faults


# -- the command line under faults -----------------------------------------------------------------


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "PHASEO_API_KEY"}
    env.update(REELGATE_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_export_to_an_unwritable_destination_keeps_the_video(tmp_path: Path) -> None:
    """``--output`` under a file (not a folder): exit 6, a clear message, the video kept."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "video.mp4"
    with DemoGateway(queued_seconds=0.1, processing_seconds=0.2, video_scale=0.25) as gw:
        result = _cli(
            tmp_path / "data", "generate", "--base-url", gw.base_url, "--prompt", "a quiet harbour",
            "--duration", "1", "--output", str(target),
        )  # fmt: skip
        FIGURES.add(runs=1, jobs=1)
        FIGURES.add_faults({"unwritable --output destination": 1})
        assert result.returncode == 6, result.stdout + result.stderr
        assert "could not save to" in result.stdout and "not a folder" in result.stdout
        with sqlite3.connect(tmp_path / "data" / "journal.db") as conn:
            ((remote_id, state, download),) = conn.execute(
                "SELECT remote_id, state, download FROM jobs"
            )
        assert (state, download) == ("completed", "done")
        kept = tmp_path / "data" / "videos" / f"{remote_id}-1.mp4"
        assert sha256_file(kept) == gw.job_sha256(remote_id)
        assert gw.stats["create"] == 1


def test_cli_sends_the_catalogues_own_model_id_not_an_alias(tmp_path: Path) -> None:
    """``--model demo/latest`` is sent as ``demo/test-pattern``: the gateway answers with its
    own id, and a lost create is found again by comparing models (regression: an alias made
    every lost create unfindable, so its paid video was never fetched)."""
    import io

    from core.cli import run_command
    from main import make_parser

    with DemoGateway(queued_seconds=0.1, processing_seconds=0.2, video_scale=0.25, fps=4) as gw:
        args = ["generate", "--base-url", gw.base_url, "--prompt", "an alias", "--model",
                "demo/latest", "--duration", "1", "--data-dir", str(tmp_path)]  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        assert run_command(make_parser().parse_args(args), out, err) == 0, out.getvalue()
        sent = [job.params.spec.model for job in gw._api.store.ordered(False)]
    FIGURES.add(runs=1, jobs=1)
    assert sent == ["demo/test-pattern"]
    with sqlite3.connect(tmp_path / "journal.db") as conn:
        assert conn.execute("SELECT model FROM jobs").fetchone()[0] == "demo/test-pattern"


def test_the_disk_filling_up_mid_download_leaves_nothing_and_the_job_completed(
    tmp_path: Path,
) -> None:
    """Room enough at the start, not at the end: ENOSPC mid-write, no ``.part``, job intact.

    A 66 MiB tmpfs (root and ``mount`` available) passes the 64 MiB free-space check, then
    fills up; elsewhere the ``.part`` file is pointed at ``/dev/full``.
    """
    import time

    from core.engine import Engine
    from core.gateway import GatewayClient
    from core.jobs import DownloadState, JobParams, JobState
    from core.journal import Journal

    from .harness import DiskTrouble

    videos = tmp_path / "videos"
    disk = DiskTrouble(videos)
    with (
        DemoGateway(queued_seconds=0.05, processing_seconds=0.05, video_scale=0.25, fps=4) as gw,
        Journal.open(tmp_path / "journal.db") as journal,
        GatewayClient(gw.base_url, "demo") as client,
    ):
        engine = Engine(journal, client, videos)
        job = engine.submit(JobParams("demo/test-pattern", "[size=68MiB] big", 1, "16:9"))
        time.sleep(0.2)
        job = engine.poll_once(job.local_id)
        assert job.state is JobState.COMPLETED and job.remote_id
        mounted = disk._mount("size=66m,mode=0755")
        if not mounted:
            videos.mkdir(parents=True, exist_ok=True)
            part = engine.output_file(job, 0).with_name(engine.output_file(job, 0).name + ".part")
            part.symlink_to("/dev/full")
        try:
            engine._busy.add(job.local_id)
            failed = engine.download(job)
            FIGURES.add(runs=1, jobs=1)
            FIGURES.add_faults(
                {f"disk full mid-write ({'tmpfs 66m' if mounted else '/dev/full'})": 1}
            )
            assert failed.state is JobState.COMPLETED and failed.download is DownloadState.FAILED
            assert failed.download_error == "no_space", failed.download_problem
            assert "full" in (failed.download_problem or "").lower()
            assert not list(videos.iterdir()), "no partial file (nor the .part) is left"
        finally:
            disk.repair()
        done = engine.retry_download(job.local_id)
        assert done.download is DownloadState.DONE
        assert sha256_file(Path(done.files[0])) == gw.job_sha256(job.remote_id)


def test_resume_with_a_refused_key_ends_every_job_instead_of_waiting_forever(
    tmp_path: Path,
) -> None:
    """Regression: one job's 401 stopped all polling, and ``resume`` waited for the others
    forever. Now every open job is reported with exit 4 and how to continue."""
    import io
    import time

    from core.cli import run_command
    from core.engine import Engine
    from core.gateway import GatewayClient
    from core.jobs import JobParams
    from core.journal import Journal
    from core.poll_policy import PollPolicy
    from main import make_parser

    with DemoGateway(queued_seconds=30, processing_seconds=30, video_scale=0.25, fps=4) as gw:
        with (
            Journal.open(tmp_path / "journal.db") as journal,
            GatewayClient(gw.base_url, "demo") as client,
        ):
            engine = Engine(journal, client, tmp_path / "videos", policy=PollPolicy(0.1))
            for prompt in ("[revoked] a key that dies", "a job that is fine"):
                engine.submit(JobParams("demo/test-pattern", prompt, 1, "16:9"))
        started = time.monotonic()
        out, err = io.StringIO(), io.StringIO()
        args = make_parser().parse_args(
            ["resume", "--base-url", gw.base_url, "--data-dir", str(tmp_path)]
        )
        code = run_command(args, out, err)
    FIGURES.add(runs=1, jobs=2)
    FIGURES.add_faults({"key refused during resume": 1})
    assert code == 4, out.getvalue() + err.getvalue()
    assert out.getvalue().count("The API key was refused") == 2
    assert time.monotonic() - started < 20
