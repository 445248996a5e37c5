"""Following jobs from the command line until they settle, and what every command shares.

The exit codes (``EXIT_*``), the one-line-per-change :class:`Printer`, :func:`drive` (poll and
download until each job settles, then say how it ended), and opening the context, loading the
models and checking the key for ``generate``, ``batch`` and ``resume``.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from core.catalogue import FALLBACK_MODELS, ModelInfo, parse_catalogue
from core.engine.matching import RECONCILE_ATTEMPTS
from core.errors import GatewayError
from core.failure_class import verdict_for
from core.job_sets import nearest_duration
from core.jobs import Cause, DownloadState, Job, JobState
from core.validation import parse_duration

# The context (HTTP client, journal, engine, demo gateway) is imported when a command opens
# it: main.py parses every start's arguments through core.cli, the window's included.
if TYPE_CHECKING:
    from core.context import AppContext

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_JOB_FAILED = 3
EXIT_AUTH = 4
EXIT_NETWORK = 5
EXIT_SAVE_FAILED = 6
#: A create's answer was lost and the job was not found on the gateway (yet).
EXIT_UNKNOWN = 7
EXIT_INTERRUPTED = 130

#: The command line gives up waiting after this many consecutive failed polls of one job.
GIVE_UP_AFTER_FAILURES = 8


def stamp() -> str:
    """The time of day for a progress line (``HH:MM:SS``)."""
    return time.strftime("%H:%M:%S")


class Printer:
    """Prints one line per visible change of a job, not one per poll."""

    def __init__(self, out: TextIO) -> None:
        """Print to ``out``."""
        self.out = out
        self._last: dict[str, str] = {}

    def job(self, job: Job) -> None:
        """Print the job's status if it changed since the last line."""
        bits = [job.status_text]
        if job.progress and not job.terminal:
            bits.append(f"{job.progress}%")
        if job.problem and not job.terminal:
            bits.append(f"- {job.problem}")
        if job.download is DownloadState.ACTIVE:
            bits.append("- downloading")
        elif job.download is DownloadState.FAILED:
            bits.append(f"- download failed: {job.download_problem}")
        elif job.download is DownloadState.DONE:
            bits.append("- downloaded")
        line = " ".join(bits)
        if self._last.get(job.local_id) != line:
            self._last[job.local_id] = line
            name = job.remote_id or job.local_id[:8]
            print(f"[{stamp()}] {name} {line}", file=self.out, flush=True)


def load_models(ctx: AppContext) -> tuple[list[ModelInfo], bool]:
    """The gateway's models and True, or the built-in list and False when it cannot say."""
    try:
        models = parse_catalogue(ctx.client.models())
    except GatewayError:
        return list(FALLBACK_MODELS), False
    return (models, True) if models else (list(FALLBACK_MODELS), False)


def duration_arg(text: str | None, model: ModelInfo | None, err: TextIO) -> int | None:
    """``--duration`` as whole seconds, else the model's first; None (said why) if unusable."""
    if text is None:
        options = model.durations.options() if model and model.durations else []
        return int(options[0]) if options else nearest_duration(model, 8)
    parsed = parse_duration(text)
    if not isinstance(parsed, int):
        print(f"Duration: {parsed.message}", file=err)
        return None
    return parsed


def outcome(job: Job) -> int | None:
    """The exit code once a job is settled, ``None`` while it is still going."""
    if job.state is JobState.COMPLETED:
        if job.download is DownloadState.DONE:
            return EXIT_SAVE_FAILED if job.export_error else EXIT_OK
        if job.download is DownloadState.FAILED and not job.download_retryable:
            return EXIT_SAVE_FAILED
        return None
    cause = job.failure.cause if job.failure else None
    if job.terminal:
        if cause is Cause.AUTH:
            return EXIT_AUTH
        if cause is Cause.NOT_SENT:
            return EXIT_NETWORK
        return EXIT_JOB_FAILED
    if job.auth_blocked:
        return EXIT_AUTH
    if job.failures >= GIVE_UP_AFTER_FAILURES:
        return EXIT_NETWORK
    if job.state is JobState.SUBMIT_UNKNOWN and (
        job.next_poll_at is None or job.reconcile_attempts >= RECONCILE_ATTEMPTS
    ):
        # The fast searches found nothing: the slow search is the window's (or a later
        # `resume`'s) to run; the command line never waits a day.
        return EXIT_UNKNOWN
    return None


def report_end(job: Job, code: int, out: TextIO) -> None:
    """Say how a settled job ended: where it was saved, or the cause and the next step."""
    name = job.remote_id or job.local_id
    if code == EXIT_OK:
        for path in [job.output_path] if job.output_path else job.files:
            print(f"Saved {path}", file=out)
        return
    print(f"Job {name}: {job.status_text}", file=out)
    verdict = verdict_for(job)
    if verdict is not None:
        print(f"  cause: {verdict.heading}. {verdict.cause}", file=out)
        print(f"  next step: {verdict.next_step}", file=out)
        if verdict.provider_words:
            print("  provider detail:", file=out)
            for line in verdict.provider_words:
                print(f"    {line}", file=out)
    if job.problem:
        print(f"  last problem: {job.problem}", file=out)
    if job.download_problem:
        print(f"  download: {job.download_problem}", file=out)
    if job.export_error:
        print(f"  save: {job.export_error}", file=out)
        for path in job.files:
            print(f"  The video is kept at {path}", file=out)
    print(f"  request id: {job.request_id or 'none'}", file=out)
    if code == EXIT_NETWORK:
        print("  The job is kept in the journal; `reelgate resume` continues it.", file=out)
    if code == EXIT_UNKNOWN:
        print(
            "  The create's answer was lost and no matching job is listed on the gateway yet: "
            "it may or may not exist (nothing was resent, so nothing is paid twice). The job "
            "is kept in the journal; `reelgate resume` searches again, and the app keeps "
            "searching every 10 minutes for a day.",
            file=out,
        )
    if code == EXIT_AUTH:
        print(
            "  The API key was refused. The job is kept in the journal: set a valid key, "
            "then `reelgate resume` continues it.",
            file=out,
        )


def drive(
    ctx: AppContext,
    local_ids: Sequence[str],
    out: TextIO,
    printer: Printer | None = None,
    *,
    only: bool = False,
) -> int:
    """Poll and download until every listed job settles; return the worst exit code.

    ``only`` works on the listed jobs alone (``generate`` drives its own job, not the
    window's or another run's).
    """
    if printer is None:
        printer = Printer(out)
        ctx.engine.add_listener(printer.job)
    cancel = threading.Event()
    own = set(local_ids) if only else None
    results: dict[str, int] = {}
    try:
        while True:
            ctx.engine.run_due(cancel, only=own)
            for local_id in local_ids:
                if local_id in results:
                    continue
                job = ctx.engine.job(local_id)
                if job is None:
                    continue
                code = outcome(job)
                if code is not None:
                    results[local_id] = code
                    report_end(job, code, out)
            if ctx.engine.key_rejected is not None:
                # A refused key stops all polling and downloads: nothing can change in this
                # run, so report every job still open instead of waiting forever.
                for local_id in local_ids:
                    job = ctx.engine.job(local_id)
                    if local_id not in results and job is not None:
                        results[local_id] = EXIT_AUTH
                        report_end(job, EXIT_AUTH, out)
            if len(results) == len(local_ids):
                return max(results.values(), default=EXIT_OK)
            wake = ctx.engine.next_wake(only=own)
            delay = 1.0 if wake is None else wake - ctx.engine.clock()
            time.sleep(min(max(delay, 0.05), 5.0))
    except KeyboardInterrupt:
        cancel.set()
        print("Interrupted. The journal keeps the job; `reelgate resume` continues it.", file=out)
        return EXIT_INTERRUPTED


def open_cli_context(args: argparse.Namespace, err: TextIO) -> AppContext | None:
    """The context for ``--data-dir``, ``--base-url`` and ``--demo``.

    ``None`` (after saying why on ``err``) when it cannot open.
    """
    from core.context import open_context

    try:
        return open_context(
            data_dir=args.data_dir, base_url=args.base_url, demo=True if args.demo else None
        )
    except GatewayError as error:
        print(error.summary, file=err)
        return None


def key_ready(ctx: AppContext, out: TextIO, err: TextIO) -> bool:
    """Say when the demo gateway is used; False (said why) when there is no key to send."""
    if ctx.runs_demo_gateway:
        print("Demo mode: using the built-in demo gateway (no API key needed).", file=out)
    elif not ctx.client.has_key:
        print(
            "No API key. Set PHASEO_API_KEY, store a key in the app's Settings, or try --demo.",
            file=err,
        )
        return False
    return True
