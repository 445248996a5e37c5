"""GUI stall under load: event-loop delay while 200 jobs poll, 512 MiB downloads, the table moves.

The real window runs in demo mode (``ui.app.run_window`` over ``core.context.open_context``,
the demo gateway in-process as the app runs it) with ``poll_after_seconds`` 1. 200 jobs are
submitted, plus one ``[size=512MiB]`` job that is completed at once so the poller downloads
it while the others keep polling. Meanwhile the table is searched, filtered and scrolled every
250 ms, and a 5 ms heartbeat ``QTimer`` records how late each beat fires.

The naive baseline is the same run with the controller's background calls (the poller's status
reads and its download) executed right on the GUI thread, as a program that does its HTTP
there would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchlib import (
    MIB,
    ROOT,
    Figure,
    bench_env,
    demo_params,
    percentile,
    say,
    scratch,
)

JOBS = 200
HEARTBEAT_MS = 5
P99_GOAL_MS = 16.0
WORST_GOAL_MS = 50.0
BIG = 512


class Driver:
    """Runs inside the app: loads it with jobs, drives the table, records the heartbeat."""

    def __init__(self, context: Any, naive: bool, seconds: float, jobs: int, big_mib: int) -> None:
        """Remember the plan; :meth:`begin` starts it once the window is up."""
        self.context = context
        self.naive = naive
        self.seconds = seconds
        self.jobs = jobs
        self.big_mib = big_mib
        self.beats: list[float] = []
        self.window: Any = None

    def begin(self) -> None:
        """Find the window, submit the jobs (off the GUI thread), then measure."""
        from PySide6.QtWidgets import QApplication, QMainWindow

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)]
        if not windows:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(10, self.begin)
            return
        self.window = windows[0]
        if self.naive:
            self._make_naive(self.window.controller)
        engine = self.context.engine
        # The big job first: the request budget polls jobs in due order, so it is seen
        # completed (and downloaded) early in the run while the others keep polling.
        big = engine.submit(demo_params(f"stall big [size={self.big_mib}MiB]"))
        assert big.remote_id is not None
        self.context.demo.complete_now(big.remote_id)
        self.big_id = big.local_id
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: engine.submit(demo_params(f"stall job {i}")), range(self.jobs)))
        self._measure()

    @staticmethod
    def _make_naive(controller: Any) -> None:
        """Run the poller's HTTP (status reads, downloads) on the GUI thread."""

        def run_here(fn: Any, *args: Any) -> Future[Any]:
            future: Future[Any] = Future()
            try:
                future.set_result(fn(*args))
            except Exception as error:  # the poller looks at the future's exception
                future.set_exception(error)
            return future

        controller.run_background = run_here
        controller.download_in_background = lambda job: run_here(
            controller.engine.download, job, None
        )

    def _measure(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer
        from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView

        window = self.window
        search = window.findChild(QLineEdit, "searchEdit")
        combo = window.findChild(QComboBox, "jobFilter")
        table = window.findChild(QTableView, "jobsTable")
        clock = QElapsedTimer()
        clock.start()
        last = [0.0]
        stats_before = self.context.demo.stats

        def beat() -> None:
            now = clock.nsecsElapsed() / 1e6
            self.beats.append(now - last[0] - HEARTBEAT_MS)
            last[0] = now

        heartbeat = QTimer(window)
        heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(beat)
        step = [0]
        words = ["stall", "job 1", "job 12", "", "big", ""]

        def act() -> None:
            index = step[0]
            step[0] += 1
            kind = index % 3
            if kind == 0:
                search.setText(words[(index // 3) % len(words)])
            elif kind == 1:
                combo.setCurrentIndex((index // 3) % combo.count())
            else:
                bar = table.verticalScrollBar()
                bar.setValue(
                    (bar.value() + 7 * table.verticalHeader().defaultSectionSize())
                    % max(1, bar.maximum() + 1)
                )

        activity = QTimer(window)
        activity.setInterval(250)
        activity.timeout.connect(act)

        def finish() -> None:
            heartbeat.stop()
            activity.stop()
            stats = self.context.demo.stats
            big = self.context.engine.job(self.big_id)
            result = {
                "beats": self.beats[1:],
                "seconds": clock.elapsed() / 1000,
                "status_gets": stats.get("get", 0) - stats_before.get("get", 0),
                "content_bytes": stats.get("content_bytes", 0)
                - stats_before.get("content_bytes", 0),
                "big_download": None if big is None else big.download.value,
                "rows": table.model().rowCount(),
            }
            print("result " + json.dumps(result), flush=True)
            os._exit(0)

        last[0] = clock.nsecsElapsed() / 1e6
        heartbeat.start()
        activity.start()
        QTimer.singleShot(int(self.seconds * 1000), finish)


def _drive(data_dir: Path, naive: bool, seconds: float, jobs: int, big_mib: int) -> None:
    """The child process: the app's own start-up, with the driver attached."""
    import qasync
    from PySide6.QtCore import QTimer

    from core.context import open_context
    from ui.app import make_application, run_window

    make_application()
    context = open_context(
        data_dir=data_dir,
        demo=True,
        demo_overrides={
            "queued_seconds": 1.0,
            "processing_seconds": 3600.0,
            "poll_after_seconds": 1,
        },
    )
    driver = Driver(context, naive, seconds, jobs, big_mib)
    QTimer.singleShot(500, driver.begin)
    qasync.run(run_window(context))


def _child(folder: Path, naive: bool, seconds: float, jobs: int, big_mib: int) -> dict[str, Any]:
    data = folder / ("naive" if naive else "app")
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--drive",
        str(data),
        "--seconds",
        str(seconds),
        "--jobs",
        str(jobs),
        "--big-mib",
        str(big_mib),
    ]
    if naive:
        args.append("--naive")
    done = subprocess.run(
        args, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=600
    )
    for line in done.stdout.splitlines():
        if line.startswith("result "):
            result: dict[str, Any] = json.loads(line[len("result ") :])
            return result
    raise RuntimeError(f"the stall driver failed: {done.stderr[-3000:]}")


def _summary(result: dict[str, Any]) -> dict[str, float]:
    beats = [max(0.0, late) for late in result["beats"]]
    return {
        "p50": percentile(beats, 0.50),
        "p99": percentile(beats, 0.99),
        "worst": max(beats),
        "beats": len(beats),
        "polls_per_s": result["status_gets"] / result["seconds"],
        "mib": result["content_bytes"] / MIB,
    }


def run(quick: bool) -> dict[str, Any]:
    """The app's run and the naive run; p99 and worst heartbeat lateness of each."""
    seconds = 8.0 if quick else 20.0
    jobs = 50 if quick else JOBS
    big = 128 if quick else BIG
    with scratch("gui-stall") as folder:
        say(f"app: {jobs} jobs polling + {big} MiB download, {seconds:.0f} s")
        app = _child(folder, False, seconds, jobs, big)
        say("naive: the same with HTTP on the GUI thread")
        naive = _child(folder, True, seconds, jobs, big)
    a, n = _summary(app), _summary(naive)
    load = f"{a['polls_per_s']:.1f} polls/s, {a['mib']:.0f} MiB downloaded ({app['big_download']})"
    valid = a["mib"] >= big and app["big_download"] == "done"
    figures = [
        Figure(
            name="GUI stall p99",
            value=f"{a['p99']:.1f} ms",
            detail=f"naive (HTTP on GUI thread) {n['p99']:.1f} ms; {load}",
            goal=f"< {P99_GOAL_MS:.0f} ms",
            passed=a["p99"] < P99_GOAL_MS and valid,
            ratio=a["p99"] / n["p99"] if n["p99"] else None,
            data={"app": a, "naive": n},
        ),
        Figure(
            name="GUI stall worst",
            value=f"{a['worst']:.1f} ms",
            detail=f"naive {n['worst']:.0f} ms; median beat lateness {a['p50']:.1f} ms "
            f"over {a['beats']:.0f} beats",
            goal=f"< {WORST_GOAL_MS:.0f} ms",
            passed=a["worst"] < WORST_GOAL_MS and valid,
            ratio=a["worst"] / n["worst"] if n["worst"] else None,
            data={"naive_big_download": naive["big_download"], "naive_mib": n["mib"]},
        ),
    ]
    return {"figures": [figure.as_dict() for figure in figures]}


def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drive", type=Path, required=True)
    parser.add_argument("--naive", action="store_true")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--big-mib", type=int, default=BIG)
    args = parser.parse_args()
    _drive(args.drive, args.naive, args.seconds, args.jobs, args.big_mib)


if __name__ == "__main__":
    _main()
