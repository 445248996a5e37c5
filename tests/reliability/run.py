#!/usr/bin/env python3
"""Run Reelgate's reliability and security suite and print its figures.

    python3 tests/reliability/run.py            the sample (also part of the default tests)
    python3 tests/reliability/run.py --full     everything at full size (about 10 minutes)
    python3 tests/reliability/run.py --full -x  extra arguments go to pytest

Full mode sets ``REELGATE_RELIABILITY=full``: every fault kind alone with 50 jobs a run,
several random mixes, 100 SIGKILLs, thousands of fuzz cases. The figures are printed at the
end and written to ``reliability-results.json`` in the project folder (or to the path in
``REELGATE_RELIABILITY_RESULTS``). The exit code is pytest's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python() -> str:
    """The project's virtualenv Python when there is one (``dev.py`` creates it)."""
    for candidate in (ROOT / ".venv" / "bin" / "python", ROOT / ".venv" / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    return sys.executable


def main(argv: list[str]) -> int:
    """Run pytest on this folder in the chosen mode; return its exit code."""
    full = "--full" in argv
    extra = [arg for arg in argv if arg != "--full"]
    env = dict(os.environ)
    env["REELGATE_RELIABILITY"] = "full" if full else "sample"
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    command = [python(), "-m", "pytest", "tests/reliability", "-q", "-p", "no:cacheprovider"]
    print(f"[reliability] {'full' if full else 'sample'} run: {' '.join(command[2:] + extra)}")
    return subprocess.call([*command, *extra], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
