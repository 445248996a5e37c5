"""BatchDialog: pasted and imported prompts, a preview with the total, problems by line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.catalogue import parse_catalogue
from core.demo_gateway.models import catalogue_json
from core.jobs import JobParams
from ui.batch_dialog import BatchDialog

MODELS = parse_catalogue(catalogue_json())
DEFAULTS = JobParams(model="demo/test-pattern", prompt="", duration=4, aspect_ratio="16:9")


@pytest.fixture
def dialog(qtbot: Any) -> BatchDialog:
    widget = BatchDialog(MODELS, DEFAULTS)
    qtbot.addWidget(widget)
    return widget


def cells(dialog: BatchDialog, column: int) -> list[str]:
    table = dialog.table
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_pasted_prompts_are_previewed_with_their_total(dialog: BatchDialog) -> None:
    assert not dialog.send_button.isEnabled()  # nothing yet
    dialog.set_text("A fox\n# a note\nA lake\n")
    assert dialog.table.rowCount() == 2
    assert cells(dialog, 1) == ["1", "3"]
    assert cells(dialog, 2) == ["A fox", "A lake"]
    assert cells(dialog, 4) == ["4 s", "4 s"]
    assert dialog.total_label.text() == "2 jobs · estimated total: price unknown"
    assert dialog.send_button.isEnabled() and dialog.send_button.text() == "Send 2 jobs"
    request = dialog.request()
    assert request is not None and [job.params.prompt for job in request.jobs] == [
        "A fox",
        "A lake",
    ]


def test_a_model_change_fits_each_duration_and_prices_come_from_the_estimator(
    qtbot: Any,
) -> None:
    dialog = BatchDialog(
        MODELS, DEFAULTS, estimate=lambda params, _model: Decimal("0.05") * params.duration
    )
    qtbot.addWidget(dialog)
    dialog.set_text("A fox\nA lake\n")
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("google/veo-3.1-lite-preview"))
    dialog.duration_spin.setValue(7)
    assert cells(dialog, 4) == ["6 s", "6 s"]
    assert cells(dialog, 7) == ["$0.30", "$0.30"]
    assert dialog.total_label.text() == "2 jobs · estimated total: $0.60"


def test_bad_csv_rows_are_named_and_block_sending_until_fixed(
    dialog: BatchDialog, tmp_path: Path
) -> None:
    path = tmp_path / "prompts.csv"
    path.write_text("prompt,duration,notes\nA fox,4,x\n,4,y\nA lake,2.5,z\n", encoding="utf-8")
    dialog.import_file(path)
    assert dialog.csv_check.isChecked() and dialog.import_note.text() == "Imported prompts.csv."
    assert dialog.problems_label.text().splitlines() == [
        "Line 3: Write a prompt describing the video.",
        'Line 4: "2.5" is not a whole number of seconds; give whole seconds, for example 8.',
    ]
    assert not dialog.send_button.isEnabled() and dialog.request() is None
    assert "Ignored column(s): notes." in dialog.total_label.text()
    dialog.set_text("prompt,duration\nA fox,4\nA lake,3\n", csv_format=True)
    assert dialog.problems_label.isHidden()
    assert cells(dialog, 4) == ["4 s", "3 s"] and dialog.send_button.isEnabled()


def test_seed_variations_and_a_model_without_seeds(dialog: BatchDialog) -> None:
    dialog.set_text("A fox\n")
    dialog.seeds_spin.setValue(3)
    seeds = cells(dialog, 6)
    assert len(seeds) == 3 and len(set(seeds)) == 3 and all(seed.isdigit() for seed in seeds)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("openai/sora-2"))
    assert dialog.problems == [
        "Line 1: openai/sora-2 does not take a seed, so it cannot make seed variations."
    ]
    assert not dialog.send_button.isEnabled()


def test_a_file_that_cannot_be_read_says_so(dialog: BatchDialog, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9\n")
    dialog.import_file(bad)
    assert dialog.import_note.text() == "latin1.txt is not UTF-8 text (byte 4). Save it as UTF-8."
    assert dialog.table.rowCount() == 0


def test_every_control_is_named_for_assistive_technology(dialog: BatchDialog) -> None:
    for widget in (
        dialog.prompts_edit,
        dialog.import_button,
        dialog.model_combo,
        dialog.duration_spin,
        dialog.seeds_spin,
        dialog.table,
        dialog.total_label,
        dialog.problems_label,
    ):
        assert widget.objectName() and widget.accessibleName(), widget


def test_prices_and_files_come_from_a_worker_thread(qtbot: Any, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    threads: list[str] = []

    def estimate(params: JobParams, _model: object) -> Decimal:
        import threading

        threads.append(threading.current_thread().name)
        return Decimal("0.10")

    with ThreadPoolExecutor(thread_name_prefix="pricing") as pool:
        dialog = BatchDialog(MODELS, DEFAULTS, estimate=estimate, submit=pool.submit)
        qtbot.addWidget(dialog)
        path = tmp_path / "p.txt"
        path.write_text("A fox\nA lake\nA hill\n", encoding="utf-8")
        dialog.import_file(path)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=5_000)
        qtbot.waitUntil(lambda: "$0.30" in dialog.total_label.text(), timeout=5_000)
    assert threads and all(name.startswith("pricing") for name in threads)
    assert cells(dialog, 7) == ["$0.10"] * 3
