"""Money on the command line, as real processes over real HTTP: the estimate, --max-cost (which
sends nothing), the settled cost after, and ``reelgate spend``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway

from .test_cli_e2e import journal_rows, run_cli

pytestmark = pytest.mark.e2e

LITE = "google/veo-3.1-lite-preview"


def generate(data: Path, gateway: DemoGateway, *args: str) -> tuple[int, str, str]:
    result = run_cli(data, "generate", "--base-url", gateway.base_url, "--model", LITE, *args)
    return result.returncode, result.stdout, result.stderr


def test_max_cost_below_the_estimate_refuses_and_sends_nothing(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    code, out, err = generate(
        tmp_path, gateway, "--prompt", "A lake", "--duration", "8", "--max-cost", "0.10"
    )
    assert code == 2, out + err
    assert "Estimated cost: about $0.24 (8 s x $0.03/s, 720p, without audio)" in out
    assert "Not sent: the estimate ($0.24) is above --max-cost $0.10." in err
    assert gateway.stats.get("create", 0) == 0  # the gateway saw no create
    assert journal_rows(tmp_path) == []


def test_max_cost_with_no_price_refuses_too(tmp_path: Path, gateway: DemoGateway) -> None:
    gateway.pricing_fault = "501"
    code, out, err = generate(
        tmp_path, gateway, "--prompt", "A lake", "--duration", "4", "--max-cost", "5"
    )
    assert code == 2, out + err
    assert "Estimated cost: price unknown" in out and "cannot be checked" in err
    assert gateway.stats.get("create", 0) == 0


def test_generate_prints_the_estimate_then_the_settled_cost_and_spend_adds_it_up(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    code, out, err = generate(
        tmp_path, gateway, "--prompt", "A lake", "--duration", "4", "--max-cost", "0.50"
    )
    assert code == 0, out + err
    assert out.index("Estimated cost: about $0.12") < out.index("submitting")
    assert "Cost: $0.12 (settled)" in out
    spend = run_cli(tmp_path, "spend")
    assert spend.returncode == 0, spend.stderr
    lines = spend.stdout.splitlines()
    month = next(line for line in lines if line.startswith("This month"))
    assert "$0.12 settled" in month and "1 job," in month
    assert any(line.strip().startswith(LITE) for line in lines)
    exported = run_cli(tmp_path, "spend", "--csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(row["model"], row["bill"], row["amount_usd"]) for row in rows] == [
        (LITE, "settled", "0.12")
    ]
    bad = run_cli(tmp_path, "spend", "--month", "2026-13")
    assert bad.returncode == 2 and "not a month" in bad.stderr


def test_a_failed_job_says_it_was_not_charged(tmp_path: Path, gateway: DemoGateway) -> None:
    code, out, err = generate(tmp_path, gateway, "--prompt", "[fail] storm", "--duration", "4")
    assert code == 3, out + err
    assert "Cost: not charged (billing void)" in out
