"""The command line: ``generate``, ``batch``, ``jobs``, ``resume``, ``spend``, ``demo-gateway``.

The same engine and journal as the window: a job started here shows up in the app and the
other way round. Exit codes tell scripts what happened (see ``EXIT_*``).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.catalogue import DEMO_MODEL_ID, FALLBACK_MODELS, ModelInfo, parse_catalogue
from core.cli_spend import cmd_spend, cost_line, preflight
from core.errors import ErrorKind, GatewayError
from core.failure_class import verdict_for
from core.image_inputs import ImageInput
from core.image_rules import image_support, with_images
from core.job_sets import nearest_duration
from core.jobs import Cause, DownloadState, Job, JobParams, JobState
from core.reconcile import RECONCILE_ATTEMPTS
from core.validation import check_prompt, parse_duration, validate

# The context (HTTP client, journal, engine, demo gateway) is imported by the commands that
# use it: main.py parses every start's arguments here, the window's included, and importing
# it took 0.1 s of the window's start-up (tests/bench/bench_startup.py).
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


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


class Printer:
    """Prints one line per visible change of a job, not one per poll."""

    def __init__(self, out: TextIO) -> None:
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
            print(f"[{_stamp()}] {name} {line}", file=self.out, flush=True)


def _load_models(ctx: AppContext) -> tuple[list[ModelInfo], bool]:
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


def _params_from_args(
    args: argparse.Namespace, models: list[ModelInfo], live: bool, err: TextIO
) -> JobParams | None:
    by_id = {info.id: info for info in models}
    for info in models:
        for alias in info.aliases:
            by_id.setdefault(alias, info)
    model_id = args.model or (DEMO_MODEL_ID if DEMO_MODEL_ID in by_id else models[0].id)
    model: ModelInfo | None = by_id.get(model_id)
    if model is None and live:
        names = ", ".join(sorted(m.id for m in models))
        print(f"Model: {model_id} is not offered by this gateway. Choose one of: {names}", file=err)
        return None
    duration = duration_arg(args.duration, model, err)
    if duration is None:
        return None
    aspect, size = _shape(args, model)
    # The catalogue's own id, not an alias as typed: the gateway answers with the canonical id,
    # and a lost create is found again by comparing models (core.reconcile).
    canonical = model.id if model is not None else model_id
    params = JobParams(
        model=canonical, prompt=args.prompt, duration=duration, aspect_ratio=aspect, size=size
    )
    images = _images_from_args(args, model, err)
    if images is None:
        return None
    params = with_images(params, images, model)
    problems = validate(params, model)
    if problems:
        for item in problems:
            print(f"{item.field.replace('_', ' ').capitalize()}: {item.message}", file=err)
        return None
    return params


def _shape(args: argparse.Namespace, model: ModelInfo | None) -> tuple[str | None, str | None]:
    """``(aspect_ratio, size)``: as given, else the model's default for the one it takes.

    Size-only models (the Sora family) get a size and no aspect ratio; validation explains
    an aspect ratio given to one of them.
    """
    given_size = getattr(args, "size", None)
    size = given_size.strip() if given_size is not None else None
    aspect = args.aspect_ratio.strip() if args.aspect_ratio is not None else None
    if model is not None and model.size_only:
        if size is None and aspect is None and model.sizes is not None:
            default = model.sizes.default
            size = str(default) if default is not None else str(model.sizes.options()[0])
        return aspect, size
    if aspect is None and size is None:
        ratios = model.aspect_ratios.options() if model and model.aspect_ratios else []
        aspect = str(ratios[0]) if ratios else None
    return aspect, size


def _images_from_args(
    args: argparse.Namespace, model: ModelInfo | None, err: TextIO
) -> tuple[ImageInput, ...] | None:
    """The ``--image-url``/``--image`` inputs in order; ``None`` after printing a problem.

    A file is read only for a model that takes a data: URL; for the others validation says
    that the model needs an image on the web.
    """
    from core.image_files import ImageError, read_image_file  # imports requests: only here

    images: list[ImageInput] = []
    inline = image_support(model).accepts_data_url
    for kind, value, role in getattr(args, "images", None) or []:
        if kind == "url":
            images.append(ImageInput(url=value.strip(), role=role))
        elif not inline:
            images.append(ImageInput(url="", role=role, file=value))
        else:
            try:
                images.append(read_image_file(value, role))
            except ImageError as error:
                print(f"Image: {error}", file=err)
                return None
    return tuple(images)


def _outcome(job: Job) -> int | None:
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


def _report_end(job: Job, code: int, out: TextIO) -> None:
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
                code = _outcome(job)
                if code is not None:
                    results[local_id] = code
                    _report_end(job, code, out)
            if ctx.engine.key_rejected is not None:
                # A refused key stops all polling and downloads: nothing can change in this
                # run, so report every job still open instead of waiting forever.
                for local_id in local_ids:
                    job = ctx.engine.job(local_id)
                    if local_id not in results and job is not None:
                        results[local_id] = EXIT_AUTH
                        _report_end(job, EXIT_AUTH, out)
            if len(results) == len(local_ids):
                return max(results.values(), default=EXIT_OK)
            wake = ctx.engine.next_wake(only=own)
            delay = 1.0 if wake is None else wake - ctx.engine.clock()
            time.sleep(min(max(delay, 0.05), 5.0))
    except KeyboardInterrupt:
        cancel.set()
        print("Interrupted. The journal keeps the job; `reelgate resume` continues it.", file=out)
        return EXIT_INTERRUPTED


def _open(args: argparse.Namespace, err: TextIO) -> AppContext | None:
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
    if ctx.demo_mode:
        print("Demo mode: using the built-in demo gateway (no API key needed).", file=out)
    elif not ctx.client.has_key:
        print(
            "No API key. Set PHASEO_API_KEY, store a key in the app's Settings, or try --demo.",
            file=err,
        )
        return False
    return True


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``generate``: create one video, wait, download, save."""
    # Checked before anything starts (no gateway, no journal); validate() repeats it later.
    if (problem := check_prompt(args.prompt)) is not None:
        print(f"Prompt: {problem}", file=err)
        return EXIT_BAD_INPUT
    ctx = _open(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        if not key_ready(ctx, out, err):
            return EXIT_AUTH
        models, live = _load_models(ctx)
        ctx.engine.use_catalogue(models)  # a lost create is matched on canonical model ids
        params = _params_from_args(args, models, live, err)
        if params is None:
            return EXIT_BAD_INPUT
        model = next((info for info in models if info.matches(params.model)), None)
        refused = preflight(ctx, params, model, args.max_cost, out, err)
        if refused is not None:
            return refused
        output = str(Path(args.output).expanduser().resolve()) if args.output else None
        shape = params.size or params.aspect_ratio or "model default aspect"
        print(f"[{_stamp()}] submitting {params.model}, {params.duration}s, {shape}", file=out)
        for image in params.images:
            print(f"  image: {_short(image.describe())}", file=out)
        printer = Printer(out)
        ctx.engine.add_listener(printer.job)
        job = ctx.engine.submit(params, output_path=output)
        if job.terminal:
            code = _outcome(job) or EXIT_JOB_FAILED
            _report_end(job, code, err)
            return code
        code = drive(ctx, [job.local_id], out, printer, only=True)
        final = ctx.engine.job(job.local_id) or ctx.journal.get(job.local_id)
        if final is not None and (line := cost_line(final)) is not None:
            print(line, file=out)
        return code
    finally:
        ctx.close()


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cmd_jobs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``jobs``: list the journal, newest first."""
    ctx = _open(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        jobs = ctx.journal.jobs(limit=args.limit)
        if not jobs:
            print("No jobs yet.", file=out)
        for job in jobs:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
            prompt = job.params.prompt.replace("\n", " ")
            prompt = prompt if len(prompt) <= 48 else prompt[:47] + "…"
            verdict = verdict_for(job)
            kind = f"  ({verdict.failure_class.label})" if verdict is not None else ""
            print(
                f"{created}  {job.status_text:<22} {job.remote_id or '-':<30} "
                f"{job.params.model:<28} {prompt}{kind}",
                file=out,
            )
        return EXIT_OK
    finally:
        ctx.close()


def cmd_resume(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``resume``: finish every unfinished job of this gateway."""
    ctx = _open(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        pending = [job.local_id for job in ctx.engine.active_jobs()]
        if not pending:
            print("Nothing to resume.", file=out)
            return EXIT_OK
        print(f"Resuming {len(pending)} job(s).", file=out)
        return drive(ctx, pending, out)
    finally:
        ctx.close()


def cmd_demo_gateway(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``demo-gateway``: serve the demo gateway until interrupted."""
    from core.demo_gateway import serve_forever

    try:
        serve_forever(
            args.host,
            args.port,
            queued_seconds=args.queued_seconds,
            processing_seconds=args.processing_seconds,
            poll_after_seconds=args.poll_after_seconds,
            pricing_fault=args.pricing_fault,
            image_ca_bundle=args.image_ca_bundle,
        )
    except ValueError as error:
        print(f"--pricing-fault: {error}", file=err)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as error:
        print(f"Cannot serve on {args.host}:{args.port}: {error.strerror}", file=err)
        return EXIT_NETWORK
    return EXIT_OK


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``batch``: many prompts as one linked batch (see core.cli_batch)."""
    from core.cli_batch import cmd_batch as run_batch

    return run_batch(args, out, err)


COMMANDS = {
    "generate": cmd_generate,
    "batch": cmd_batch,
    "jobs": cmd_jobs,
    "resume": cmd_resume,
    "demo-gateway": cmd_demo_gateway,
    "spend": cmd_spend,
}


def run_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run the chosen subcommand and return its exit code."""
    try:
        return COMMANDS[args.command](args, out, err)
    except GatewayError as error:
        print(error.summary, file=err)
        return EXIT_AUTH if error.kind is ErrorKind.AUTH else EXIT_NETWORK
