"""Download speed: 512 MiB without Content-Length through the app's download path vs ``curl``.

The demo gateway runs in its own process and streams a ``[size=512MiB]`` job with chunked
transfer encoding (no Content-Length). Both contenders write into the same scratch folder on
the real disk: ``curl -s -o FILE URL`` followed by an ``fsync`` of its file (the baseline of
equal durability: the app's file is on the disk when it says "downloaded"), and
``core.download.download(lambda: client.open_content(id), dest)`` (which fsyncs, verifies
and renames atomically). Each run starts from an empty folder after ``sync``; after one
untimed warm-up of each, three runs each, interleaved, best kept. curl without the fsync is
reported beside the figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from benchlib import DEMO_KEY, MIB, Figure, GatewayProcess, completed_job, say, scratch

GOAL = 0.9


def _fresh(folder: Path) -> None:
    """Empty the folder and flush dirty pages, so no run pays for the previous one."""
    for path in folder.iterdir():
        path.unlink()
    os.sync()


def _curl(curl: str, url: str, dest: Path) -> tuple[float, float]:
    """Seconds for curl alone, and for curl followed by an fsync of the file it wrote."""
    started = time.perf_counter()
    subprocess.run(
        [curl, "-s", "-f", "-o", str(dest), url, "-H", f"Authorization: Bearer {DEMO_KEY}"],
        check=True,
    )
    fetched = time.perf_counter()
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return fetched - started, time.perf_counter() - started


def _app(client: Any, job_id: str, dest: Path) -> float:
    from core.download import download

    started = time.perf_counter()
    download(lambda: client.open_content(job_id), dest)
    return time.perf_counter() - started


def run(quick: bool) -> dict[str, Any]:
    """Best-of-N throughput of curl and of the app's download, interleaved."""
    from core.gateway import GatewayClient

    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("curl is needed for the download speed baseline (apt-get install curl)")
    size_mib = 128 if quick else 512
    rounds = 2 if quick else 3
    size = size_mib * MIB
    curl_times: list[float] = []
    synced_times: list[float] = []
    app_times: list[float] = []
    with (
        GatewayProcess(queued_seconds=0, processing_seconds=0, video_scale=0.25) as gateway,
        GatewayClient(gateway.base_url, DEMO_KEY) as client,
        scratch("download-speed") as folder,
    ):
        job_id = completed_job(client, f"download speed [size={size_mib}MiB]")
        url = f"{gateway.base_url}/videos/{job_id}/content"
        # Untimed warm-ups: first-use costs (connections, caches) are not the figure.
        _fresh(folder)
        _curl(curl, url, folder / "warm-up.mp4")
        _fresh(folder)
        _app(client, job_id, folder / "warm-up.mp4")
        for index in range(rounds):
            order = ("curl", "app") if index % 2 == 0 else ("app", "curl")
            for who in order:
                _fresh(folder)
                dest = folder / f"{who}.mp4"
                if who == "curl":
                    alone, synced = _curl(curl, url, dest)
                    curl_times.append(alone)
                    synced_times.append(synced)
                else:
                    app_times.append(_app(client, job_id, dest))
                got = dest.stat().st_size
                if got != size:
                    raise RuntimeError(f"{who} saved {got} bytes, expected {size}")
                seconds = (synced_times if who == "curl" else app_times)[-1]
                say(f"{who}{' + fsync' if who == 'curl' else ''}: {size / seconds / 1e6:.0f} MB/s")
    curl_rate = size / min(curl_times) / 1e6
    synced_rate, app_rate = size / min(synced_times) / 1e6, size / min(app_times) / 1e6
    ratio = app_rate / synced_rate
    figure = Figure(
        name="download speed",
        value=f"{ratio:.2f}x curl+fsync",
        detail=f"{app_rate:.0f} MB/s vs {synced_rate:.0f} MB/s, {size_mib} MiB chunked, "
        f"best of {rounds}; curl without fsync {curl_rate:.0f} MB/s "
        f"({app_rate / curl_rate:.2f}x)",
        goal=f">= {GOAL:.2f}x",
        passed=ratio >= GOAL,
        ratio=ratio,
        data={
            "bytes": size,
            "app_seconds": app_times,
            "curl_seconds": curl_times,
            "curl_fsync_seconds": synced_times,
            "curl": subprocess.run(
                [curl, "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
        },
    )
    return {"figures": [figure.as_dict()]}
