"""Download memory: peak resident memory growth while downloading 64 MiB and 512 MiB.

Each measurement is a separate, fresh process (peak RSS cannot be reset): a baseline process
imports the client, opens a connection and reads the job's status, everything but the
download; the others do the same and then download 64 MiB or 512 MiB (chunked, no
Content-Length) through ``core.download.download``. Growth is the download process's peak
RSS minus the baseline's. Streaming keeps it small and the same for both sizes; a buffered
download would grow by the file size. The gateway runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchlib import (
    DEMO_KEY,
    MIB,
    ROOT,
    Figure,
    GatewayProcess,
    bench_env,
    completed_job,
    say,
    scratch,
)

GOAL_GROWTH = 64 * MIB
#: "The same for both sizes": a buffering download differs by hundreds of MiB.
SAME_WITHIN = 8 * MIB


def _peak_rss() -> int:
    """This process's peak resident set size in bytes (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _probe(base_url: str, job_id: str, dest: Path, download_it: bool) -> dict[str, int]:
    """The child's work: set up like a download, then download (or not); peak RSS figures."""
    from core.download import download
    from core.gateway import GatewayClient

    with GatewayClient(base_url, DEMO_KEY) as client:
        client.get(job_id)  # connection open, JSON path warmed
        before = _peak_rss()
        size = 0
        if download_it:
            size = download(lambda: client.open_content(job_id), dest).size
        after = _peak_rss()
    return {"peak_before": before, "peak_after": after, "bytes": size}


def _measure(base_url: str, job_id: str, dest: Path, download_it: bool) -> dict[str, int]:
    """Run one probe in a fresh interpreter."""
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--probe",
        base_url,
        job_id,
        str(dest),
        "download" if download_it else "baseline",
    ]
    done = subprocess.run(
        args, cwd=ROOT, env=bench_env(), capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    if dest.exists():
        dest.unlink()
    return result


def run(quick: bool) -> dict[str, Any]:
    """Baseline, 64 MiB and 512 MiB probes (each twice, lowest peak kept)."""
    sizes = (64, 512)
    repeats = 1 if quick else 2
    peaks: dict[str, int] = {}
    raw: dict[str, list[dict[str, int]]] = {}
    with (
        GatewayProcess(queued_seconds=0, processing_seconds=0, video_scale=0.25) as gateway,
        scratch("download-memory") as folder,
    ):
        from core.gateway import GatewayClient

        with GatewayClient(gateway.base_url, DEMO_KEY) as client:
            jobs = {mib: completed_job(client, f"memory [size={mib}MiB]") for mib in sizes}
        for label, mib, download_it in [("baseline", 64, False)] + [
            (f"{mib} MiB", mib, True) for mib in sizes
        ]:
            runs = [
                _measure(gateway.base_url, jobs[mib], folder / "video.mp4", download_it)
                for _ in range(repeats)
            ]
            raw[label] = runs
            peaks[label] = min(run["peak_after"] for run in runs)
            say(f"{label}: peak RSS {peaks[label] / MIB:.1f} MiB")
    growth = {mib: peaks[f"{mib} MiB"] - peaks["baseline"] for mib in sizes}
    spread = abs(growth[512] - growth[64])
    figures = []
    for mib in sizes:
        figures.append(
            Figure(
                name=f"download memory {mib} MiB",
                value=f"{growth[mib] / MIB:+.1f} MiB peak RSS",
                detail=f"{peaks[f'{mib} MiB'] / MIB:.1f} MiB vs baseline "
                f"{peaks['baseline'] / MIB:.1f} MiB",
                goal="< 64 MiB growth",
                passed=growth[mib] < GOAL_GROWTH,
                ratio=growth[mib] / GOAL_GROWTH,
                data={"growth_bytes": growth[mib], "runs": raw[f"{mib} MiB"]},
            )
        )
    figures.append(
        Figure(
            name="download memory: streaming",
            value=f"{spread / MIB:.1f} MiB apart",
            detail="growth for 512 MiB minus growth for 64 MiB",
            goal=f"same (within {SAME_WITHIN // MIB} MiB)",
            passed=spread <= SAME_WITHIN,
            data={"baseline_runs": raw["baseline"]},
        )
    )
    return {"figures": [figure.as_dict() for figure in figures]}


def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", nargs=4, metavar=("BASE_URL", "JOB", "DEST", "MODE"))
    args = parser.parse_args()
    base_url, job_id, dest, mode = args.probe
    print(json.dumps(_probe(base_url, job_id, Path(dest), mode == "download")))


if __name__ == "__main__":
    _main()
