"""Batch input parsing and planning: good rows become jobs, bad rows get a message by line."""

from __future__ import annotations

from pathlib import Path

from core.batch_file import (
    BatchDefaults,
    BatchRow,
    parse_csv,
    parse_lines,
    plan_batch,
    read_batch_file,
)
from core.catalogue import parse_catalogue
from core.demo_gateway.models import catalogue_json
from core.jobs import JobParams

MODELS = parse_catalogue(catalogue_json())
DEFAULTS = BatchDefaults(
    JobParams(model="demo/test-pattern", prompt="", duration=3, aspect_ratio="16:9")
)


def test_pasted_lines_skip_blanks_and_comments_and_keep_line_numbers() -> None:
    found = parse_lines("A fox\n\n# not a prompt\n  A lake at dawn  \n")
    assert found.problems == []
    assert found.rows == [BatchRow(1, "A fox"), BatchRow(4, "A lake at dawn")]


def test_pasted_lines_with_a_control_character_name_the_line() -> None:
    found = parse_lines("fine\nbad \x07 bell\n")
    assert [row.line for row in found.rows] == [1]
    assert found.problems == [
        "Line 2: The prompt contains a control character (U+0007) at position 5."
    ]


def test_nothing_to_send_is_said_plainly() -> None:
    assert parse_lines("\n# only a comment\n").problems == [
        "There are no prompts: write one prompt per line."
    ]


def test_csv_with_all_columns_quoted_commas_and_a_multi_line_prompt() -> None:
    text = (
        "Prompt,Model,Duration,Aspect Ratio,notes\n"
        '"A fox, running",google/veo-3.1-lite-preview,6s,9:16,first\n'
        '"Two lines\nof prompt",,,,\n'
        "A lake,,4,,\n"
    )
    found = parse_csv(text)
    assert found.problems == []
    assert found.notes == ["Ignored column(s): notes."]
    assert found.rows == [
        BatchRow(2, "A fox, running", "google/veo-3.1-lite-preview", 6, "9:16"),
        BatchRow(3, "Two lines\nof prompt"),
        BatchRow(5, "A lake", None, 4, None),
    ]


def test_csv_semicolons_are_understood() -> None:
    found = parse_csv("prompt;duration\nA fox, running;4\n")
    assert found.rows == [BatchRow(2, "A fox, running", None, 4, None)]


def test_csv_bad_rows_each_get_a_clear_message_and_good_rows_are_kept() -> None:
    text = (
        "prompt,duration\n"
        "A fox,4\n"
        ",4\n"  # empty prompt
        "A lake,2.5\n"  # not whole seconds
        "A hill,-3\n"
        "A cat, sitting,4\n"  # an unquoted comma makes an extra cell
        "A boat,500\n"
    )
    found = parse_csv(text)
    assert [row.prompt for row in found.rows] == ["A fox"]
    assert found.problems == [
        "Line 3: Write a prompt describing the video.",
        'Line 4: "2.5" is not a whole number of seconds; give whole seconds, for example 8.',
        'Line 5: "-3" is not a duration; it must be between 1 and 120 seconds.',
        "Line 6: 3 cells but the header has 2 columns (a prompt with a comma must be in "
        "double quotes).",
        "Line 7: 500 is out of range; the duration must be between 1 and 120 seconds.",
    ]


def test_csv_without_a_prompt_column_says_which_columns_it_found() -> None:
    found = parse_csv("text2,model\nA fox,demo/test-pattern\n")
    assert found.rows == []
    assert found.problems == [
        "Line 1: the header row needs a 'prompt' column (found 'text2', 'model'). Optional "
        "columns: model, duration, aspect_ratio."
    ]
    assert "empty" in parse_csv("").problems[0]
    assert parse_csv("prompt\n\n").problems == ["The CSV file has a header but no prompts."]


def test_reading_files_by_suffix_and_refusing_what_is_not_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A fox\nA lake\n", encoding="utf-8")
    (tmp_path / "b.csv").write_bytes("\ufeffprompt\nA fox\n".encode())  # Excel's BOM
    (tmp_path / "c.csv").write_bytes(b"prompt\n\xff\xfe bad\n")
    assert [row.prompt for row in read_batch_file(tmp_path / "a.txt").rows] == ["A fox", "A lake"]
    assert [row.prompt for row in read_batch_file(tmp_path / "b.csv").rows] == ["A fox"]
    assert read_batch_file(tmp_path / "c.csv").problems == [
        "c.csv is not UTF-8 text (byte 8). Save it as UTF-8."
    ]
    missing = read_batch_file(tmp_path / "none.txt").problems[0]
    assert missing.startswith("Cannot read ") and "No such file" in missing


def test_plan_fits_defaults_to_each_model_but_checks_values_a_row_names() -> None:
    rows = [
        BatchRow(2, "A fox"),  # defaults: demo model, 3 s
        BatchRow(3, "A lake", model="google/veo-3.1-lite-preview"),  # default 3 s -> 4 s
        BatchRow(4, "A hill", model="google/veo-3.1-lite-preview", duration=5),  # named: refused
        BatchRow(5, "A moon", model="no/such-model"),
    ]
    plan = plan_batch(rows, MODELS, DEFAULTS)
    assert [(job.source, job.params.model, job.params.duration) for job in plan.jobs] == [
        ("line 2", "demo/test-pattern", 3),
        ("line 3", "google/veo-3.1-lite-preview", 4),
        ("line 4", "google/veo-3.1-lite-preview", 5),
    ]
    assert plan.problems[0].startswith(
        "Line 5: the model 'no/such-model' is not offered by this gateway (demo/test-pattern"
    )
    assert plan.problems[1] == (
        "Line 4, google/veo-3.1-lite-preview: Choose 4, 6 or 8 seconds for "
        "google/veo-3.1-lite-preview."
    )


def test_plan_compare_models_and_seed_variations() -> None:
    rows = [BatchRow(1, "A fox"), BatchRow(2, "A lake")]
    compare = BatchDefaults(
        DEFAULTS.params, compare_models=("demo/test-pattern", "google/veo-3.1-lite-preview")
    )
    plan = plan_batch(rows, MODELS, compare)
    assert plan.problems == []
    assert [(job.params.prompt, job.params.model) for job in plan.jobs] == [
        ("A fox", "demo/test-pattern"),
        ("A fox", "google/veo-3.1-lite-preview"),
        ("A lake", "demo/test-pattern"),
        ("A lake", "google/veo-3.1-lite-preview"),
    ]
    seeded = plan_batch(rows[:1], MODELS, BatchDefaults(DEFAULTS.params, seeds=(5, 6, 7)))
    assert [job.params.seed for job in seeded.jobs] == [5, 6, 7]
    no_seed = BatchDefaults(DEFAULTS.params, compare_models=("openai/sora-2",), seeds=(1, 2))
    assert plan_batch(rows[:1], MODELS, no_seed).problems == [
        "Line 1: openai/sora-2 does not take a seed, so it cannot make seed variations."
    ]


def test_plan_refuses_a_batch_too_big_to_send_at_once() -> None:
    rows = [BatchRow(n, f"prompt {n}") for n in range(1, 300)]
    plan = plan_batch(rows, MODELS, BatchDefaults(DEFAULTS.params, seeds=(1, 2)))
    assert plan.problems[-1] == (
        "The batch asks for 598 videos; at most 500 can be sent at once. Split the file."
    )


def test_unsent_jobs_written_as_csv_read_back_as_the_same_requests() -> None:
    from core.batch_file import unsent_csv
    from core.jobs import SetKind
    from core.set_sender import SendReport

    rows = parse_lines('A fox\nA "quoted" lake, with a comma\nA hill\n').rows
    jobs = plan_batch(rows, MODELS, DEFAULTS).jobs
    report = SendReport("set-1", SetKind.BATCH, len(jobs), plan_index={"L-1": 0}, sent=1)
    unsent = report.not_sent(jobs)
    assert [job.params.prompt for job in unsent] == ['A "quoted" lake, with a comma', "A hill"]
    back = parse_csv(unsent_csv(unsent))
    assert back.problems == []
    assert [(row.prompt, row.model, row.duration, row.aspect_ratio) for row in back.rows] == [
        ('A "quoted" lake, with a comma', "demo/test-pattern", 3, "16:9"),
        ("A hill", "demo/test-pattern", 3, "16:9"),
    ]
