"""``reelgate batch FILE``: many prompts (or one per model) sent as one linked batch, headless.

Exit codes are those of ``generate``; the worst outcome of the batch wins. A summary table
of every job ends the run.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from core.batch_file import BatchDefaults, BatchInput, plan_batch, read_batch_file
from core.catalogue import DEMO_MODEL_ID, ModelInfo, find_model
from core.cli_drive import (
    EXIT_AUTH,
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    Printer,
    drive,
    duration_arg,
    key_ready,
    load_models,
    open_cli_context,
)
from core.cli_spend import check_cost, max_cost_valid
from core.context import AppContext
from core.failure_class import verdict_for
from core.filenames import numbered_filename
from core.job_sets import (
    MAX_VARIATIONS,
    PlannedJob,
    gateway_estimator,
    price_text,
    seeds_for,
    total_estimate,
    with_estimates,
)
from core.jobs import Job, JobParams, JobState, SetKind
from core.money import usd_to_nanos
from core.pricing_client import PriceSource
from core.set_sender import send_set


def _pick_models(
    names: Sequence[str], models: list[ModelInfo], live: bool, err: TextIO
) -> list[str] | None:
    """Catalogue ids for ``names``; None (after saying why) if one is not offered."""
    picked: list[str] = []
    for name in names:
        model = find_model(models, name)
        if model is None and live:
            offered = ", ".join(sorted(m.id for m in models))
            print(f"Model: {name} is not offered by this gateway. Choose from: {offered}", file=err)
            return None
        picked.append(model.id if model is not None else name)
    return picked


def _defaults(
    args: argparse.Namespace, models: list[ModelInfo], live: bool, err: TextIO
) -> BatchDefaults | None:
    compare = [name.strip() for name in (args.compare_models or "").split(",") if name.strip()]
    chosen = _pick_models(compare, models, live, err) if compare else []
    if chosen is None:
        return None
    fallback = DEMO_MODEL_ID if find_model(models, DEMO_MODEL_ID) else models[0].id
    single = _pick_models([args.model or fallback], models, live, err)
    if single is None:
        return None
    first = find_model(models, chosen[0] if chosen else single[0])
    duration = duration_arg(args.duration, first, err)
    if duration is None:
        return None
    seeds: tuple[int, ...] = ()
    if args.variations > 1 or args.seed is not None:
        if not 1 <= args.variations <= MAX_VARIATIONS:
            print(f"Variations: give 1 to {MAX_VARIATIONS} seeds per prompt.", file=err)
            return None
        seeds = tuple(seeds_for(args.variations, args.seed))
    params = JobParams(
        model=single[0], prompt="", duration=duration, aspect_ratio=args.aspect_ratio
    )
    return BatchDefaults(params, compare_models=tuple(chosen), seeds=seeds)


def _with_outputs(plan: list[PlannedJob], folder: Path) -> list[PlannedJob]:
    """Each job's video copied into ``folder`` under a numbered name that is not taken yet."""
    taken: set[str] = set()
    placed: list[PlannedJob] = []
    for number, job in enumerate(plan, start=1):
        name = numbered_filename(number, job.params.prompt, job.params.model)
        stem, suffix = name.rsplit(".", 1)
        extra = 1
        while name in taken or (folder / name).exists():
            extra += 1
            name = f"{stem}-{extra}.{suffix}"
        taken.add(name)
        placed.append(replace(job, output_path=str(folder / name)))
    return placed


def _cell(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_table(jobs: Sequence[Job], sources: dict[str, str], out: TextIO) -> None:
    """One line per job: number, input line, model, duration, status, cost, file or problem."""
    print(
        f"\n{'#':>3}  {'input':<8} {'model':<28} {'dur':>4}  {'status':<20} {'cost':>6}  result",
        file=out,
    )
    for number, job in enumerate(jobs, start=1):
        if job.state is JobState.COMPLETED and (job.output_path or job.files):
            result = job.output_path or job.files[0]
        elif (verdict := verdict_for(job)) is not None:
            result = f"{verdict.heading}: {verdict.cause}"
        else:
            result = job.problem or job.download_problem or ""
        print(
            f"{number:>3}  {_cell(sources.get(job.local_id, ''), 8):<8} "
            f"{_cell(job.params.model, 28):<28} {job.params.duration:>3}s  "
            f"{_cell(job.status_text, 20):<20} {job.cost or '-':>6}  {result}",
            file=out,
        )


def _line_of(problem: str) -> int:
    """The line a problem names ("Line 12: ..."), for sorting; 0 for the rest."""
    head = problem.split(":", 1)[0].split(",", 1)[0]
    number = head.removeprefix("Line ").strip()
    return int(number) if head.startswith("Line ") and number.isdigit() else 0


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``batch``: read the file, check every row, send them all as one batch, wait, summarise."""
    if not max_cost_valid(args.max_cost, err):
        return EXIT_BAD_INPUT
    source = read_batch_file(Path(args.file).expanduser())
    for note in source.notes:
        print(note, file=out)
    if source.problems and not source.rows:
        for problem in source.problems:
            print(problem, file=err)
        return EXIT_BAD_INPUT
    ctx = open_cli_context(args, err)
    if ctx is None:
        return EXIT_BAD_INPUT
    try:
        return _run(ctx, args, source, out, err)
    finally:
        ctx.close()


def _run(
    ctx: AppContext, args: argparse.Namespace, source: BatchInput, out: TextIO, err: TextIO
) -> int:
    rows = source.rows
    if not key_ready(ctx, out, err):
        return EXIT_AUTH
    models, live = load_models(ctx)
    defaults = _defaults(args, models, live, err)
    if defaults is None:
        return EXIT_BAD_INPUT
    plan = plan_batch(rows, models, defaults)
    # Every problem at once, the file's and the catalogue's, in line order.
    problems = sorted(source.problems + plan.problems, key=_line_of)
    if problems:
        for problem in problems:
            print(problem, file=err)
        print("Nothing was sent.", file=err)
        return EXIT_BAD_INPUT
    jobs = plan.jobs
    if args.output_dir:
        folder = Path(args.output_dir).expanduser().resolve()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            print(f"Cannot use the output folder {folder}: {error.strerror or error}", file=err)
            return EXIT_BAD_INPUT
        jobs = _with_outputs(jobs, folder)
    jobs = with_estimates(jobs, models, gateway_estimator(PriceSource(ctx.client)))
    total = total_estimate(jobs)
    print(
        f"{len(jobs)} job(s) from {len(rows)} prompt(s); estimated cost: {price_text(total)}.",
        file=out,
    )
    nanos = None if total is None else usd_to_nanos(total)
    refused = check_cost(ctx, nanos, args.max_cost, out, err)
    if refused is not None:
        print("Nothing was sent.", file=err)
        return refused
    print(f"Sending {len(jobs)} job(s)…", file=out)
    printer = Printer(out)
    ctx.engine.add_listener(printer.job)
    cancel = threading.Event()
    try:
        report = send_set(
            ctx.engine,
            jobs,
            SetKind.BATCH,
            cancel=cancel,
            between=lambda: ctx.engine.run_due(cancel),
        )
    except KeyboardInterrupt:
        cancel.set()
        print(
            "Interrupted while sending. Sent jobs stay in the journal; `reelgate resume` "
            "continues them.",
            file=out,
        )
        return EXIT_INTERRUPTED
    print(report.summary, file=out)
    sources = {local_id: jobs[index].source for local_id, index in report.plan_index.items()}
    # Worst outcome wins (drive's own rule); the job that stopped sending carries its code.
    code = drive(ctx, [job.local_id for job in report.jobs], out, printer) if report.jobs else 0
    final = [ctx.engine.job(job.local_id) or job for job in report.jobs]
    summary_table(final, sources, out)
    if report.unsent:
        print(f"{report.unsent} job(s) were not sent (nothing was charged for them).", file=out)
        lines = list(dict.fromkeys(job.source for job in report.not_sent(jobs) if job.source))
        if lines:
            print(f"Not sent: {', '.join(lines)} of {args.file}.", file=out)
    return code
