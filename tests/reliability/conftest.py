"""Reliability suite plumbing: the figures summary at the end of the session.

The mode (sample or full) is chosen by ``REELGATE_RELIABILITY=full``; see ``figures.py`` and
``run.py``. Nothing here is skipped in either mode: the sample runs the same tests smaller.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .figures import FIGURES, MODE, results_path, summary_lines, write_results


def pytest_report_header(config: pytest.Config) -> str:
    """Say which mode the reliability suite runs in."""
    return f"reelgate reliability suite: {MODE} mode (REELGATE_RELIABILITY=full for the full run)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures and write ``reliability-results.json`` when the suite ran."""
    if not FIGURES.touched:
        return
    path = results_path(Path(str(terminalreporter.config.rootpath)))
    try:
        write_results(path)
        where = f"  written to {path}"
    except OSError as exc:
        where = f"  (could not write {path}: {exc})"
    terminalreporter.section("reliability figures")
    for line in [*summary_lines(), where]:
        terminalreporter.write_line(line)
