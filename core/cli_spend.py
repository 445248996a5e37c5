"""Money on the command line: estimates, ``--max-cost``, the budget and ``reelgate spend``.

The estimate before ``generate`` sends, ``--max-cost``, the monthly budget, the settled cost
after, and ``reelgate spend`` (the Spend view's totals, or CSV).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, TextIO

from core.billing import ChargeKind, job_charge
from core.budget import check_budget, dollars_setting
from core.estimate import Estimate
from core.job_sets import price_query
from core.jobs import Job, JobParams
from core.ledger import PERIOD_LABELS, PERIODS, SpendSummary, Totals, read_records, summarize
from core.ledger import to_csv as ledger_csv
from core.money import format_usd, usd_to_nanos
from core.paths import resolve_paths
from core.pricing_client import PriceSource
from core.settings import load_settings

if TYPE_CHECKING:
    from core.catalogue import ModelInfo
    from core.context import AppContext

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def preflight(
    ctx: AppContext,
    params: JobParams,
    model: ModelInfo | None,
    max_cost: str | None,
    out: TextIO,
    err: TextIO,
) -> int | None:
    """Print the estimate; an exit code when the request must not be sent (None: send it).

    Refused (exit 2, nothing sent): an estimate above ``--max-cost``, a price that is unknown
    while ``--max-cost`` is given, and a request that would take the month over the budget.
    """
    if not max_cost_valid(max_cost, err):
        return EXIT_BAD_INPUT
    query = price_query(params, model)
    if query is None:
        estimate = Estimate.unknown("the request has no duration")
    else:
        estimate = PriceSource(ctx.client).estimate(query)
    print(f"Estimated cost: {_estimate_line(estimate)}", file=out)
    return check_cost(ctx, estimate.nanos, max_cost, out, err)


def max_cost_valid(max_cost: str | None, err: TextIO) -> bool:
    """Whether ``--max-cost`` is absent or an amount in dollars (says why not on ``err``)."""
    if max_cost is not None and usd_to_nanos(max_cost) is None:
        print(f"--max-cost: {max_cost!r} is not an amount in dollars (e.g. 0.50)", file=err)
        return False
    return True


def check_cost(
    ctx: AppContext, nanos: int | None, max_cost: str | None, out: TextIO, err: TextIO
) -> int | None:
    """Exit 2 (after saying why) when the estimate is above ``--max-cost`` or the budget.

    ``nanos`` is the estimate of all that is about to be sent (``None``: unknown); the
    budget check asks whether it would take the month over the monthly budget.
    """
    limit = usd_to_nanos(max_cost) if max_cost is not None else None
    if limit is not None:
        if nanos is None:
            print(
                f"Not sent: the price is unknown, so --max-cost {format_usd(limit)} cannot be "
                "checked.",
                file=err,
            )
            return EXIT_BAD_INPUT
        if nanos > limit:
            print(
                f"Not sent: the estimate ({format_usd(nanos)}) is above --max-cost "
                f"{format_usd(limit)}.",
                file=err,
            )
            return EXIT_BAD_INPUT
    budget = dollars_setting(ctx.settings.monthly_budget)
    if budget is not None:
        gateway = "demo" if ctx.runs_demo_gateway else "default"
        records = read_records(ctx.paths.journal, gateway=gateway)
        month = summarize(records, time.time()).periods["month"]
        verdict = check_budget(budget, month, nanos)
        if not verdict.allowed:
            print(f"Not sent: {verdict.message} Raise the budget in Settings.", file=err)
            return EXIT_BAD_INPUT
        if verdict.message:
            print(verdict.message, file=out)
    return None


def _estimate_line(estimate: Estimate) -> str:
    return f"{estimate.text} ({estimate.rule})" if estimate.rule else estimate.text


def cost_line(job: Job) -> str | None:
    """``Cost: $0.40 (settled)``, ``Cost: not charged (billing void)``... or None."""
    charge = job_charge(job)
    if charge.kind is ChargeKind.VOID:
        return "Cost: not charged (billing void)"
    if charge.kind is ChargeKind.SETTLED and charge.nanos is not None:
        return f"Cost: {format_usd(charge.nanos)} (settled)"
    if charge.kind is ChargeKind.ESTIMATED and charge.nanos is not None:
        return f"Cost: about {format_usd(charge.nanos)} (estimated; not settled yet)"
    if job.remote_id is not None:
        return "Cost: not reported by the gateway yet"
    return None


def _totals_line(label: str, totals: Totals, width: int) -> str:
    jobs = "1 job" if totals.jobs == 1 else f"{totals.jobs} jobs"
    return (
        f"{label:<{width}} {format_usd(totals.settled):>10} settled "
        f"{format_usd(totals.estimated):>10} not settled yet {format_usd(totals.total):>10} "
        f"total {jobs + ',':>11} {totals.void_jobs} not charged"
    )


def summary_text(summary: SpendSummary, *, note: str = "") -> str:
    """The Spend view's figures as text: periods, by model and the most expensive jobs."""
    width = max([12, *(len(model) + 2 for model in summary.by_model)])
    lines = [_totals_line(PERIOD_LABELS[name], summary.periods[name], width) for name in PERIODS]
    lines += ["", f"By model ({summary.span_label}):"]
    if not summary.by_model:
        lines.append("  no billed jobs")
    for model, totals in summary.by_model.items():
        lines.append(f"  {_totals_line(model, totals, width - 2)}")
    lines += ["", f"Most expensive jobs ({summary.span_label}):"]
    for record in summary.top:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at))
        prompt = record.prompt.replace("\n", " ")
        prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
        lines.append(
            f"  {created}  {record.charge.text:>10}  {record.charge.kind.value:<9} "
            f"{record.model:<{width - 2}} {prompt}"
        )
    if not summary.top:
        lines.append("  none")
    if note:
        lines += ["", note]
    return "\n".join(lines)


def cmd_spend(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``spend``: the totals of the Spend view from the journal (``--month``, ``--csv``)."""
    paths = resolve_paths(args.data_dir)
    gateway = "demo" if args.demo else "default"
    try:
        records = read_records(paths.journal)
    except Exception as exc:  # sqlite3.Error and friends: say what, never a traceback
        print(f"Cannot read the job journal {paths.journal}: {exc}", file=err)
        return EXIT_BAD_INPUT
    mine = [record for record in records if record.gateway == gateway]
    try:
        if args.csv:
            out.write(ledger_csv(mine, month=args.month))
            return EXIT_OK
        summary = summarize(mine, time.time(), month=args.month)
    except ValueError as exc:
        print(f"--month: {exc}", file=err)
        return EXIT_BAD_INPUT
    settings, _message = load_settings(paths.settings)
    budget = dollars_setting(settings.monthly_budget)
    notes = []
    if budget is not None and gateway == "default":
        notes.append(f"Monthly budget: {format_usd(budget)}")
    others = len(records) - len(mine)
    if others:
        flag = "without --demo" if args.demo else "with --demo"
        notes.append(
            f"{others} job(s) of the {'real' if args.demo else 'demo'} gateway are "
            f"not counted here (run again {flag})."
        )
    if args.demo:
        notes.append("Demo gateway: its prices are for trying Reelgate out; nothing is billed.")
    print(summary_text(summary, note="\n".join(notes)), file=out)
    return EXIT_OK
