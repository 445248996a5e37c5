"""``reelgate batch`` end to end: real process, real HTTP, real journal, exit codes, summary."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway
from tests.e2e.test_cli_e2e import run_cli

pytestmark = pytest.mark.e2e


def journal_docs(data_dir: Path) -> list[dict[str, object]]:
    with sqlite3.connect(data_dir / "journal.db") as conn:
        rows = conn.execute("SELECT doc FROM jobs ORDER BY created_at, rowid").fetchall()
    return [json.loads(row[0]) for row in rows]


def summary_lines(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "input"])
    return [line for line in lines[start + 1 :] if line.strip()[:1].isdigit()]


def test_batch_compare_models_saves_each_video_and_the_worst_outcome_wins(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    batch = tmp_path / "prompts.csv"
    batch.write_text('prompt,notes\n"A fox, running",x\nA lake [fail],y\n', encoding="utf-8")
    out = tmp_path / "clips"
    result = run_cli(
        tmp_path / "data",
        "batch",
        str(batch),
        "--base-url",
        gateway.base_url,
        "--compare-models",
        "demo/test-pattern,google/veo-3.1-lite-preview",
        "--duration",
        "5",
        "--output-dir",
        str(out),
    )
    assert result.returncode == 3, result.stdout + result.stderr  # a failed job beats saved ones
    assert "Ignored column(s): notes." in result.stdout
    assert "Batch: 4 of 4 sent." in result.stdout
    # Priced from the gateway's own price list before anything is sent.
    assert re.search(r"4 job\(s\) from 2 prompt\(s\); estimated cost: \$\d+\.\d\d\.", result.stdout)
    rows = summary_lines(result.stdout)
    assert len(rows) == 4
    assert "line 2" in rows[0] and "demo/test-pattern" in rows[0] and " 5s " in rows[0]
    assert "google/veo-3.1-lite-preview" in rows[1] and " 4s " in rows[1]  # nearest valid
    assert "Completed" in rows[0] and "Failed" in rows[2] and "Failed" in rows[3]
    assert rows[2].endswith("Provider fault: The video provider failed to generate this video.")
    docs = journal_docs(tmp_path / "data")
    assert len({doc["set_id"] for doc in docs}) == 1 and docs[0]["set_kind"] == "batch"
    assert [doc["params"]["duration"] for doc in docs] == [5, 4, 5, 4]  # type: ignore[index]
    saved = sorted(path.name for path in out.iterdir())
    assert saved == [
        "001-demo-test-pattern-a-fox-running.mp4",
        "002-google-veo-3-1-lite-preview-a-fox-running.mp4",
    ]
    first = docs[0]["remote_id"]
    assert (out / saved[0]).read_bytes() == gateway.job_bytes(first)  # type: ignore[arg-type]


def test_batch_of_lines_all_saved_exits_zero(tmp_path: Path, gateway: DemoGateway) -> None:
    batch = tmp_path / "prompts.txt"
    batch.write_text("# two prompts\nA fox\n\nA lake\n", encoding="utf-8")
    result = run_cli(
        tmp_path / "data", "batch", str(batch), "--base-url", gateway.base_url, "--duration", "1"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = summary_lines(result.stdout)
    assert [row.split()[1:3] for row in rows] == [["line", "2"], ["line", "4"]]
    assert all("Completed" in row and ".mp4" in row for row in rows)


def test_bad_rows_are_named_and_nothing_is_sent(tmp_path: Path, gateway: DemoGateway) -> None:
    batch = tmp_path / "prompts.csv"
    batch.write_text(
        "prompt,model,duration\nA fox,,4\n,,4\nA lake,google/veo-3.1-lite-preview,5\n"
        "A hill,no/such-model,\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path / "data", "batch", str(batch), "--base-url", gateway.base_url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Line 3: Write a prompt describing the video." in result.stderr
    assert "Line 5: the model 'no/such-model' is not offered" in result.stderr
    assert "Line 4, google/veo-3.1-lite-preview: Choose 4, 6 or 8 seconds" in result.stderr
    assert "Nothing was sent." in result.stderr
    assert gateway.stats["create"] == 0


def test_unknown_compare_model_and_missing_file_are_bad_input(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    batch = tmp_path / "p.txt"
    batch.write_text("A fox\n", encoding="utf-8")
    unknown = run_cli(
        tmp_path / "data",
        "batch",
        str(batch),
        "--base-url",
        gateway.base_url,
        "--compare-models",
        "demo/test-pattern,acme/nope",
    )
    assert unknown.returncode == 2
    assert "Model: acme/nope is not offered by this gateway" in unknown.stderr
    missing = run_cli(tmp_path / "data", "batch", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr
    assert gateway.stats["create"] == 0


def test_out_of_credit_stops_sending_and_says_what_was_not_sent(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    batch = tmp_path / "p.txt"
    batch.write_text("A fox\n[funds] A lake\nA hill\n", encoding="utf-8")
    result = run_cli(
        tmp_path / "data", "batch", str(batch), "--base-url", gateway.base_url, "--duration", "1"
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Batch: 2 of 3 sent; stopped: The account is out of credit" in result.stdout
    assert "1 job(s) were not sent (nothing was charged for them)." in result.stdout
    assert gateway.stats["create"] == 2


def test_a_video_api_switched_off_stops_the_batch_after_the_first_refusal(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    batch = tmp_path / "p.txt"
    batch.write_text("A fox\n[disabled] A lake\nA hill\nA field\n", encoding="utf-8")
    result = run_cli(
        tmp_path / "data", "batch", str(batch), "--base-url", gateway.base_url, "--duration", "1"
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Batch: 2 of 4 sent; stopped: The video API is not enabled for this account" in (
        result.stdout
    )
    assert "2 job(s) were not sent (nothing was charged for them)." in result.stdout
    assert f"Not sent: line 3, line 4 of {batch}." in result.stdout
    assert gateway.stats["create"] == 2


def test_max_cost_below_the_batch_total_refuses_and_sends_nothing(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    batch = tmp_path / "prompts.txt"
    batch.write_text("A fox\nA lake\nA hill\n", encoding="utf-8")
    result = run_cli(
        tmp_path / "data",
        "batch",
        str(batch),
        "--base-url",
        gateway.base_url,
        "--model",
        "google/veo-3.1-lite-preview",
        "--duration",
        "8",
        "--max-cost",
        "0.50",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    # 3 x 8 s x $0.03/s (720p, no audio) = $0.72, above $0.50.
    assert "3 job(s) from 3 prompt(s); estimated cost: $0.72." in result.stdout
    assert "Not sent: the estimate ($0.72) is above --max-cost $0.50." in result.stderr
    assert "Nothing was sent." in result.stderr
    assert gateway.stats.get("create", 0) == 0


def test_a_batch_that_would_pass_the_monthly_budget_is_refused(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    (data / "config" / "settings.json").write_text(
        json.dumps({"monthly_budget": "0.30"}), encoding="utf-8"
    )
    batch = tmp_path / "prompts.txt"
    batch.write_text("A fox\nA lake\n", encoding="utf-8")
    result = run_cli(
        data,
        "batch",
        str(batch),
        "--base-url",
        gateway.base_url,
        "--model",
        "google/veo-3.1-lite-preview",
        "--duration",
        "8",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Not sent:" in result.stderr and "$0.30" in result.stderr
    assert "Raise the budget in Settings." in result.stderr
    assert gateway.stats.get("create", 0) == 0


def test_a_max_cost_that_is_not_an_amount_is_bad_input(tmp_path: Path) -> None:
    batch = tmp_path / "prompts.txt"
    batch.write_text("A fox\n", encoding="utf-8")
    result = run_cli(tmp_path / "data", "batch", str(batch), "--max-cost", "lots")
    assert result.returncode == 2
    assert "--max-cost: 'lots' is not an amount in dollars (e.g. 0.50)" in result.stderr
