#!/usr/bin/env python3
"""Run Reelgate's benchmark suite: one line per figure, results in bench-results/latest.json.

    python3 tests/bench/run.py [--quick] [--only NAME[,NAME...]] [--list]

Every benchmark (``tests/bench/bench_<name>.py``) runs in a fresh interpreter so memory and
start-up figures are not polluted by earlier ones; each measures its figures against a
baseline taken in the same run. The suite is not part of ``pytest``: no file here is named
``test_*``. Outside the project's ``.venv`` the script re-runs itself with ``.venv/bin/python``
(creating the venv with ``dev.py`` first when needed). Exit status: 0 when every figure met its
goal, 1 otherwise, 2 when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = ROOT / "bench-results" / "latest.json"
#: The order figures are printed in (cheap, core-only benchmarks first).
BENCHMARKS = (
    "journal",
    "polling",
    "download_speed",
    "download_memory",
    "startup",
    "history",
    "spend",
    "gui_stall",
    "interactions",
)


def _in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()


def _bootstrap() -> None:
    """Re-exec with the project's venv interpreter (made by ``dev.py`` if missing)."""
    if _in_project_venv():
        return
    sys.path.insert(0, str(ROOT))
    import dev  # the repository's stdlib-only bootstrapper

    python = dev.ensure_venv()
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def _child(name: str, quick: bool, out: Path) -> int:
    """Run one benchmark in this (fresh) process and write its result to ``out``."""
    sys.path[:0] = [str(ROOT), str(BENCH_DIR)]
    import importlib

    module = importlib.import_module(f"bench_{name}")
    result: dict[str, Any] = module.run(quick)
    out.write_text(json.dumps(result, indent=2, default=str))
    return 0


def _line(figure: dict[str, Any]) -> str:
    verdict = "PASS" if figure["passed"] else "FAIL"
    value = f"{figure['value']} ({figure['detail']})" if figure.get("detail") else figure["value"]
    return f"{figure['name']:<30} {value:<58} goal {figure['goal']:<24} {verdict}"


def _run_one(name: str, quick: bool) -> dict[str, Any]:
    """Run ``bench_<name>`` in a subprocess; its result plus load and timing."""
    with tempfile.TemporaryDirectory(prefix="reelgate-bench-") as tmp:
        out = Path(tmp) / "result.json"
        script = str(Path(__file__).resolve())
        command = [sys.executable, script, "--child", name, "--out", str(out)]
        if quick:
            command.append("--quick")
        load_before = os.getloadavg()
        started = time.monotonic()
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        env.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
        # An installed app runs from cached bytecode; compiling every module from source on
        # each start would be charged to start-up. The cache lives outside the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench-results" / "pycache")
        code = subprocess.call(command, cwd=ROOT, env=env)
        elapsed = time.monotonic() - started
        if code != 0 or not out.exists():
            return {
                "name": name,
                "quick": quick,
                "error": f"exited with status {code}",
                "figures": [],
                "seconds": elapsed,
                "load_before": load_before,
                "load_after": os.getloadavg(),
            }
        result: dict[str, Any] = json.loads(out.read_text())
    result.update(
        name=name,
        quick=quick,
        seconds=elapsed,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    return result


def _git_revision() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def main(argv: list[str]) -> int:
    """Parse options, run the chosen benchmarks, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads, fewer repeats")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.quick, args.out)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (see --list)")
    load = os.getloadavg()
    print(
        f"Reelgate benchmarks{' (quick)' if args.quick else ''}: {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    results = []
    failed = crashed = False
    for name in chosen:
        print(f"-- {name}", flush=True)
        result = _run_one(name, args.quick)
        results.append(result)
        if "error" in result:
            crashed = True
            print(f"{name:<30} CRASHED: {result['error']}", flush=True)
        for figure in result["figures"]:
            failed |= not figure["passed"]
            print(_line(figure), flush=True)
        load_after = result["load_after"]
        print(f"   ({result['seconds']:.0f} s, load after {load_after[0]:.2f})", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "git": _git_revision(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_start": load,
        },
        "benchmarks": results,
    }
    # Merge with earlier results so `--only` refreshes one benchmark without losing the rest.
    if args.only and RESULTS.exists():
        try:
            earlier = json.loads(RESULTS.read_text())
            kept = [b for b in earlier.get("benchmarks", []) if b.get("name") not in chosen]
            merged = kept + results
            merged.sort(
                key=lambda b: BENCHMARKS.index(b["name"]) if b.get("name") in BENCHMARKS else 99
            )
            document["benchmarks"] = merged
        except (OSError, ValueError):
            pass
    RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"Results written to {RESULTS.relative_to(ROOT)}", flush=True)
    if crashed:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    _bootstrap()
    sys.exit(main(sys.argv[1:]))
