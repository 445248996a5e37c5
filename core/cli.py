"""The command line: ``generate``, ``batch``, ``jobs``, ``resume``, ``spend``, ``demo-gateway``.

The same engine and journal as the window: a job started here shows up in the app and the
other way round. Exit codes tell scripts what happened (see ``EXIT_*``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.catalogue import DEMO_MODEL_ID, ModelInfo
from core.cli_drive import (
    EXIT_AUTH,
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_SAVE_FAILED,
    EXIT_UNKNOWN,
    GIVE_UP_AFTER_FAILURES,
    Printer,
    drive,
    duration_arg,
    key_ready,
    load_models,
    open_cli_context,
    outcome,
    report_end,
    stamp,
)
from core.cli_spend import cmd_spend, cost_line, preflight
from core.errors import ErrorKind, GatewayError
from core.failure_class import verdict_for
from core.image_inputs import ImageInput
from core.image_rules import image_support, with_images
from core.jobs import JobParams
from core.validation import check_prompt, validate

# The context (HTTP client, journal, engine, demo gateway) is imported by the commands that
# use it: main.py parses every start's arguments here, the window's included, and importing
# it took 0.1 s of the window's start-up (tests/bench/bench_startup.py).
if TYPE_CHECKING:
    pass

# The shared names stay importable from here (scripts and tests use core.cli's).
__all__ = [
    "COMMANDS",
    "EXIT_AUTH",
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_SAVE_FAILED",
    "EXIT_UNKNOWN",
    "GIVE_UP_AFTER_FAILURES",
    "Printer",
    "drive",
    "duration_arg",
    "key_ready",
    "run_command",
]


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
    # and a lost create is found again by comparing models (core.engine.matching).
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


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``generate``: create one video, wait, download, save."""
    # Checked before anything starts (no gateway, no journal); validate() repeats it later.
    if (problem := check_prompt(args.prompt)) is not None:
        print(f"Prompt: {problem}", file=err)
        return EXIT_BAD_INPUT
    ctx = open_cli_context(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        if not key_ready(ctx, out, err):
            return EXIT_AUTH
        models, live = load_models(ctx)
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
        print(f"[{stamp()}] submitting {params.model}, {params.duration}s, {shape}", file=out)
        for image in params.images:
            print(f"  image: {_short(image.describe())}", file=out)
        printer = Printer(out)
        ctx.engine.add_listener(printer.job)
        job = ctx.engine.submit(params, output_path=output)
        if job.terminal:
            code = outcome(job) or EXIT_JOB_FAILED
            report_end(job, code, err)
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
    ctx = open_cli_context(args, err)
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
    ctx = open_cli_context(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        pending = [job.local_id for job in ctx.engine.unfinished_jobs()]
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
