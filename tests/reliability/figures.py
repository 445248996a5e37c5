"""The reliability suite's figures: counters every test adds to, summarised at the end.

``tests/reliability/conftest.py`` prints :func:`summary_lines` after the session and writes
:meth:`Figures.as_dict` to ``reliability-results.json``. The mode comes from
``REELGATE_RELIABILITY``: ``full`` runs everything at full size
(``python3 tests/reliability/run.py --full``); anything else runs the representative sample
that is part of the default test command.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FULL = os.environ.get("REELGATE_RELIABILITY", "").strip().lower() == "full"
MODE = "full" if FULL else "sample"
#: Where the figures are written (overridable for CI artefacts).
RESULTS_ENV = "REELGATE_RELIABILITY_RESULTS"


def sized(sample: int, full: int) -> int:
    """``full`` in full mode, ``sample`` otherwise."""
    return full if FULL else sample


@dataclass
class Figures:
    """Everything the suite counted; the "goal 0" ones must stay at zero."""

    runs: int = 0
    jobs: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    kill_points: Counter[str] = field(default_factory=Counter)
    jobs_lost: int = 0
    duplicate_creates: int = 0
    false_failures: int = 0
    wrong_outcomes: int = 0
    partial_files: int = 0
    key_leaks: int = 0
    #: Failed or refused jobs whose shown failure class differs from the answer's (classes.py).
    wrong_classes: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    #: Lost creates matched to a gateway job by time alone next to another lost create: kept
    #: (the video is saved) and flagged for review. Not a failure, but worth watching.
    uncertain_matches: int = 0
    uncertain_wrong: int = 0
    fuzz_cases: int = 0
    hostile_inputs: int = 0
    files_named: int = 0
    problems: list[str] = field(default_factory=list)
    touched: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_fuzz(self, cases: int = 1) -> None:
        """Count generated inputs fed to a parser or the client."""
        with self._lock:
            self.touched = True
            self.fuzz_cases += cases

    def add(self, **counts: int) -> None:
        """Add to named integer counters (``jobs=50, kills=1``...)."""
        with self._lock:
            self.touched = True
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def add_faults(self, faults: Counter[str] | dict[str, int]) -> None:
        """Count injected faults by kind."""
        with self._lock:
            self.touched = True
            self.faults.update(faults)

    def add_classes(self, classes: Counter[str] | dict[str, int]) -> None:
        """Count failed or refused jobs whose failure class was checked, by class."""
        with self._lock:
            self.touched = True
            self.classes.update(classes)

    def problem(self, text: str) -> None:
        """Keep a violation's description for the results file."""
        with self._lock:
            self.problems.append(text)

    def as_dict(self) -> dict[str, Any]:
        """The JSON document written at the end of the session."""
        return {
            "mode": MODE,
            "runs": self.runs,
            "jobs": self.jobs,
            "faults_injected": sum(self.faults.values()),
            "faults_by_kind": dict(sorted(self.faults.items())),
            "kills": self.kills,
            "kill_points": dict(sorted(self.kill_points.items())),
            "jobs_lost": self.jobs_lost,
            "duplicate_creates": self.duplicate_creates,
            "false_failures": self.false_failures,
            "wrong_outcomes": self.wrong_outcomes,
            "partial_files": self.partial_files,
            "key_leaks": self.key_leaks,
            "wrong_classes": self.wrong_classes,
            "failure_classes_checked": dict(sorted(self.classes.items())),
            "uncertain_matches_flagged": self.uncertain_matches,
            "uncertain_matches_that_took_a_siblings_job": self.uncertain_wrong,
            "fuzz_cases": self.fuzz_cases,
            "hostile_inputs": self.hostile_inputs,
            "file_names_checked": self.files_named,
            "problems": self.problems[:200],
        }


FIGURES = Figures()

#: The counters whose goal is zero, as the summary names them.
GOALS = (
    ("jobs lost", "jobs_lost"),
    ("duplicate creates", "duplicate_creates"),
    ("false failures", "false_failures"),
    ("wrong outcomes", "wrong_outcomes"),
    ("partial files", "partial_files"),
    ("key leaks", "key_leaks"),
    ("wrong classes", "wrong_classes"),
)


def summary_lines(figures: Figures = FIGURES) -> list[str]:
    """The human summary printed at the end of a run of the suite."""
    data = figures.as_dict()
    lines = [
        f"Reelgate reliability figures ({data['mode']} mode)",
        f"  runs: {data['runs']}   jobs: {data['jobs']}   kills (SIGKILL): {data['kills']}"
        f"   fuzz cases tried: {data['fuzz_cases']}",
        f"  hostile inputs refused: {data['hostile_inputs']}"
        f"   file names checked: {data['file_names_checked']}",
        f"  lost creates matched by time only (kept, flagged for review): "
        f"{data['uncertain_matches_flagged']}"
        f" (of which took a sibling's job: {data['uncertain_matches_that_took_a_siblings_job']})",
        f"  faults injected: {data['faults_injected']}",
    ]
    for kind, count in sorted(figures.faults.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"    {count:6d}  {kind}")
    if figures.classes:
        checked = ", ".join(f"{k} {v}" for k, v in sorted(figures.classes.items()))
        lines.append(f"  failure classes checked: {checked}")
    if figures.kill_points:
        points = ", ".join(f"{k} {v}" for k, v in sorted(figures.kill_points.items()))
        lines.append(f"  kill points: {points}")
    for label, name in GOALS:
        value = data[name]
        lines.append(f"  {label + ':':20} {value}   (goal 0){'' if value == 0 else '  <-- FAIL'}")
    return lines


def results_path(rootdir: Path) -> Path:
    """Where ``reliability-results.json`` goes."""
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else rootdir / "reliability-results.json"


def write_results(path: Path, figures: Figures = FIGURES) -> None:
    """Write the figures as JSON."""
    path.write_text(json.dumps(figures.as_dict(), indent=2) + "\n", encoding="utf-8")
