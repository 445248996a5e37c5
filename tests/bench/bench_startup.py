"""Start-up: process start to the full main window painted (offscreen), app vs bare PySide6.

``startup_probe.py`` runs either a bare PySide6 program (QApplication + an empty QMainWindow)
or ``main.main(["--demo", "--data-dir", DIR])`` exactly as ``main.py`` does, and prints the
monotonic time of the first main window's paint (for the app, its light start-up frame) and
of the app's full main window (composer, job table, toolbar). The time runs from just before
``subprocess.Popen``. The headline figure and its goal are the full main window; the start-up
frame's time is reported beside it. The app is measured with an empty journal and with
10,000 jobs in it; one untimed warm-up run of each prepares the data folder and the OS file
cache, then the three are run interleaved and the median kept.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from benchlib import BENCH_DIR, ROOT, Figure, bench_env, fill_journal, say, scratch

#: The full main window's start-up against the bare window's.
GOALS = {"empty": 2.0, "10k": 2.0}
#: The start-up frame's former goals (the first thing on screen), reported beside the headline.
FRAME_GOALS = {"empty": 1.3, "10k": 1.5}
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
        frame = statistics.median(times[name])
        whole = statistics.median(full[name])
        ratio = whole / bare
        figures.append(
            Figure(
                name=f"start-up, {label}",
                value=f"{ratio:.2f}x bare",
                detail=f"full main window {whole * 1000:.0f} ms vs bare PySide6 window "
                f"{bare * 1000:.0f} ms; start-up frame at {frame * 1000:.0f} ms "
                f"({frame / bare:.2f}x, former goal <= {FRAME_GOALS[name]:.1f}x); "
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
