"""Failures told apart, end to end: every answer shape the classifier must place, over real HTTP.

Each scenario makes a job on the demo gateway over loopback HTTP with the real command line,
then reads the journal it wrote: the CLI's ``cause:`` line, the review panel (a real widget)
and the diagnostics export must all name the same class, with the provider's words verbatim.
The expected class comes from ``classes.py`` (a hand-written table), not from the classifier.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import GIVE_UP_AFTER_FAILURES, run_command
from core.context import open_context
from core.demo_gateway import DemoGateway, FaultProfile
from core.diagnostics import diagnostics_text
from core.failure_class import FailureClass
from core.jobs import Job, JobParams
from core.journal import Journal, JournalEvent
from main import make_parser
from ui.review_panel import ReviewPanel

from .classes import ACCESS, INVALID, LIMIT, POLICY, PROVIDER, expected_class
from .figures import FIGURES
from .harness import VirtualClock

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]
ROOT = Path(__file__).resolve().parents[2]

#: (keyword, class, heading, the provider's words that must appear verbatim)
SCENARIOS: list[tuple[str, FailureClass, str, str]] = [
    ("[moderation]", POLICY, "Blocked by a safety or content policy", "moderation_blocked"),
    ("[moderation-string]", POLICY, "Blocked by a safety or content policy",
     "moderation_blocked: Your request was blocked by our moderation system."),
    ("[rai]", POLICY, "Blocked by a safety or content policy", "Responsible AI practices"),
    ("[sensitive]", POLICY, "Blocked by a safety or content policy", "input new_sensitive"),
    ("[policy]", POLICY, "Blocked by a safety or content policy", "guardrail_blocked"),
    ("[invalid-argument]", INVALID, "The request was invalid", "INVALID_ARGUMENT"),
    ("[permission]", ACCESS, "Provider access missing",
     "Provider diagnostics: provider_access_missing - "),
    ("[disabled]", ACCESS, "Video API not enabled", "video_api_feature_disabled"),
    ("[paused]", ACCESS, "Video API paused", "video_api_temporarily_disabled"),
    ("[funds]", LIMIT, "Out of credit", "insufficient_funds"),
    ("[exhausted]", LIMIT, "Rate limited", "RESOURCE_EXHAUSTED"),
    ("[deadline]", PROVIDER, "Provider timeout", "DEADLINE_EXCEEDED"),
    ("[fail]", PROVIDER, "Provider fault", "provider_error"),
]  # fmt: skip


@pytest.fixture(scope="module")
def gateway() -> Iterator[DemoGateway]:
    """One quick demo gateway for the module."""
    with DemoGateway(queued_seconds=0.1, processing_seconds=0.2, video_scale=0.25, fps=4) as gw:
        yield gw


def run_cli(data: Path, *args: str) -> tuple[int, str]:
    """The real command line (parser and commands) in this process; stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = run_command(make_parser().parse_args([*args, "--data-dir", str(data)]), out, err)
    return code, out.getvalue() + err.getvalue()


def only_job(data: Path) -> tuple[Job, list[JournalEvent]]:
    journal = Journal.open(data / "journal.db")
    try:
        (job,) = journal.jobs(include_hidden=True)
        return job, journal.events(job.local_id)
    finally:
        journal.close()


def panel_texts(qtbot: object, job: Job, events: list[JournalEvent]) -> tuple[str, str, str]:
    """The real review panel's heading, cause and next step, and its verbatim detail."""
    panel = ReviewPanel()
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.show()
    panel.show_job(job, events)
    words = f"{panel.cause_label.text()} {panel.next_step_label.text()}"
    return panel.status_label.text(), words, panel.error_detail.toPlainText()


@pytest.mark.parametrize(
    ("keyword", "failure_class", "heading", "verbatim"),
    SCENARIOS,
    ids=[row[0] for row in SCENARIOS],
)
def test_cli_review_panel_and_diagnostics_name_the_same_class(
    qtbot: object,
    tmp_path: Path,
    gateway: DemoGateway,
    keyword: str,
    failure_class: FailureClass,
    heading: str,
    verbatim: str,
) -> None:
    code, output = run_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", f"{keyword} a fox"
    )
    assert code == 3, output
    job, events = only_job(tmp_path)
    assert expected_class(job, events) is failure_class  # the oracle agrees with the table
    # The CLI's cause line, next step and the provider's words.
    assert f"  cause: {heading}. " in output, output
    assert "  next step: " in output and verbatim in output
    assert "allowed values" not in output and "cannot reach" not in output.lower()
    # The review panel.
    title, words, detail = panel_texts(qtbot, job, events)
    assert title == f"{job.status_text} — {heading}"
    assert verbatim in detail and "allowed values" not in words
    # The diagnostics export.
    document = json.loads(diagnostics_text(job, events))
    assert document["failure_class"]["class"] == failure_class.value
    assert document["failure_class"]["heading"] == heading
    assert document["job"]["cause"].startswith(f"{heading}: ")
    assert any(verbatim in line for line in document["failure_class"]["provider_words"])
    FIGURES.add(runs=1, jobs=1)
    FIGURES.add_faults({f"class scenario {keyword}": 1})
    FIGURES.add_classes({failure_class.value: 1})


@pytest.mark.parametrize("state", ["disabled", "paused"])
def test_a_video_api_that_is_off_on_every_route_says_so(tmp_path: Path, state: str) -> None:
    """501 on the model list and on create: the account's video API, never the parameters."""
    profile = FaultProfile(video_api=state)
    with DemoGateway(fault_profile=profile, video_scale=0.25) as gw:
        code, output = run_cli(tmp_path, "generate", "--base-url", gw.base_url, "--prompt", "x")
        assert gw.stats[f"fault:video-api-{state}"] >= 2  # the model list and the create
    heading = "Video API not enabled" if state == "disabled" else "Video API paused"
    assert code == 3, output
    assert f"cause: {heading}. " in output, output
    assert "allowed values" not in output
    FIGURES.add(runs=1, jobs=1)
    FIGURES.add_faults({f"video API {state} on every route": 1})
    FIGURES.add_classes({ACCESS.value: 1})


def cli_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PHASEO_API_KEY"}
    env.update(
        REELGATE_DATA_DIR=str(data),
        PYTHONUNBUFFERED="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def test_a_provider_that_keeps_refusing_status_checks_is_no_unreachable_gateway(
    qtbot: object, tmp_path: Path, gateway: DemoGateway
) -> None:
    """A persistent 502 ``upstream_error`` (PERMISSION_DENIED, provider_access_missing).

    The window's engine polls the job until one check short of the CLI's limit (on a
    virtual clock set in the past, so its backoff costs no wall time and every check is due
    again in real time); then a real ``reelgate resume`` process makes the last check and
    gives up with exit 5, naming the provider's refusal with its words, never "cannot reach
    the gateway". The review panel and the diagnostics say the same.
    """
    ctx = open_context(data_dir=tmp_path, base_url=gateway.base_url, demo=False)
    try:
        clock = VirtualClock(time.time() - 3 * 3600)
        ctx.engine.clock = clock
        params = JobParams(model="demo/test-pattern", prompt="[upstream=100] a fox", duration=1)
        job = ctx.engine.submit(params)
        while job.failures < GIVE_UP_AFTER_FAILURES - 1:
            clock.advance_to(job.next_poll_at or clock())
            job = ctx.engine.poll_once(job.local_id)
        assert job.refused and not job.unreachable
    finally:
        ctx.close()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "resume", "--base-url", gateway.base_url],
        cwd=ROOT,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "cause: Provider access missing. The gateway answers" in output
    assert "PERMISSION_DENIED: Permission denied on resource project" in output
    assert "provider_access_missing" in output
    assert "cannot reach" not in output.lower()
    assert "`reelgate resume` continues it" in output
    job, events = only_job(tmp_path)
    assert job.failures == GIVE_UP_AFTER_FAILURES and job.refused and job.needs_review
    title, words, detail = panel_texts(qtbot, job, events)
    assert title.endswith("(status checks refused) — Provider access missing")
    assert "cannot reach" not in (title + words).lower()
    assert "Message: The provider refused the status check" in detail
    document = json.loads(diagnostics_text(job, events))
    assert document["failure_class"]["class"] == ACCESS.value
    assert document["last_status_error"]["http_status"] == 502
    FIGURES.add(runs=1, jobs=1)
    FIGURES.add_faults({"persistent 502 upstream_error on status": 1})
    FIGURES.add_classes({ACCESS.value: 1})
