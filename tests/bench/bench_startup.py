"""Start-up: process start to the first main window exposed (offscreen), app vs bare PySide6.

``startup_probe.py`` runs either a bare PySide6 program (QApplication + an empty QMainWindow)
or ``main.main(["--demo", "--data-dir", DIR])`` exactly as ``main.py`` does, and prints the
monotonic time of the first main window's expose (for the app, its start-up frame) and of
the app's full main window. The time runs from just before ``subprocess.Popen``; the goal is
on the first window, the full window's time is reported beside it. The app is measured with
an empty journal and with 10,000 jobs in it; one untimed warm-up run of each prepares the
data folder and the OS file cache, then the three are run interleaved and the median kept.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from benchlib import BENCH_DIR, ROOT, Figure, bench_env, fill_journal, say, scratch

GOALS = {"empty": 1.3, "10k": 1.5}
PROBE = BENCH_DIR / "startup_probe.py"


def _launch(args: list[str]) -> tuple[float, float]:
    """Seconds from Popen to the first window's expose, and to the main window's."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(PROBE), *args],
        cwd=ROOT,
        env=bench_env(BENCH_WAIT_WINDOW="1" if args[0] == "app" else "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    seen = {}
    for line in out.splitlines():
        word, _, value = line.partition(" ")
        seen[word] = float(value) - started if word in ("exposed", "window") else 0.0
    if "exposed" not in seen:
        raise RuntimeError(f"no expose from {args[:1]}: {err[-2000:]}")
    return seen["exposed"], seen.get("window", seen["exposed"])


def run(quick: bool) -> dict[str, Any]:
    """Median start-up of the bare window and the app with 0 and 10,000 jobs."""
    rounds = 3 if quick else 7
    with scratch("startup") as folder:
        empty, big = folder / "empty", folder / "10k"
        say("filling a journal with 10,000 jobs")
        fill_journal(big / "journal.db", 10_000)
        variants = {
            "bare": ["bare"],
            "empty": ["app", "--demo", "--data-dir", str(empty)],
            "10k": ["app", "--demo", "--data-dir", str(big)],
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        full: dict[str, list[float]] = {name: [] for name in variants}
        for args in variants.values():
            _launch(args)  # warm-up: data folder, caches
        for index in range(rounds):
            for name, args in variants.items():
                first, whole = _launch(args)
                times[name].append(first)
                full[name].append(whole)
            say(
                f"round {index + 1}: "
                + ", ".join(f"{name} {times[name][-1] * 1000:.0f} ms" for name in variants)
            )
    bare = statistics.median(times["bare"])
    figures = []
    for name, label in (("empty", "empty journal"), ("10k", "10,000 jobs")):
        app = statistics.median(times[name])
        whole = statistics.median(full[name])
        ratio = app / bare
        figures.append(
            Figure(
                name=f"start-up, {label}",
                value=f"{ratio:.2f}x bare",
                detail=f"{app * 1000:.0f} ms vs bare PySide6 window {bare * 1000:.0f} ms; "
                f"full main window at {whole * 1000:.0f} ms ({whole / bare:.1f}x); "
                f"median of {rounds}",
                goal=f"<= {GOALS[name]:.1f}x",
                passed=ratio <= GOALS[name],
                ratio=ratio,
                data={
                    "seconds": times[name],
                    "main_window_seconds": full[name],
                    "bare_seconds": times["bare"],
                },
            )
        )
    return {"figures": [figure.as_dict() for figure in figures]}
