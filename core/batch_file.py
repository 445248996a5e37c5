"""Batch input: prompts pasted one per line, or a .txt/.csv file, turned into planned jobs.

A text file (or pasted text) holds one prompt per line; blank lines and lines starting with
``#`` are skipped. A CSV file has a header row with a ``prompt`` column and optional
``model``, ``duration`` (or ``seconds``) and ``aspect_ratio`` (or ``aspect``) columns; other
columns are ignored (and said so). Every bad row gets a message naming its line; nothing is
sent while any row is bad.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.catalogue import ModelInfo, find_model
from core.job_sets import (
    MAX_SET_JOBS,
    PlannedJob,
    fit_to_model,
    plan_problems,
    takes_seed,
    variations,
)
from core.jobs import JobParams
from core.validation import Problem, check_prompt, parse_duration

#: Bigger input files are refused before reading (a prompt list is a few hundred KB at most).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Header names accepted for each column (compared case-insensitively, spaces as underscores).
COLUMNS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt", "prompts", "text"),
    "model": ("model", "model_id"),
    "duration": ("duration", "seconds", "duration_seconds"),
    "aspect_ratio": ("aspect_ratio", "aspect", "ratio"),
}


@dataclass(frozen=True)
class BatchRow:
    """One prompt of a batch input, with the values its row gave (None: use the defaults)."""

    line: int
    prompt: str
    model: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None


@dataclass
class BatchInput:
    """What an input yielded: the rows, problems that stop sending, and notes that do not."""

    rows: list[BatchRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _prompt_problem(line: int, prompt: str) -> str | None:
    problem = check_prompt(prompt)
    return None if problem is None else f"Line {line}: {problem}"


def parse_lines(text: str) -> BatchInput:
    """One prompt per line; blank lines and ``#`` comments are skipped."""
    found = BatchInput()
    for number, raw in enumerate(text.splitlines(), start=1):
        prompt = raw.strip()
        if not prompt or prompt.startswith("#"):
            continue
        problem = _prompt_problem(number, prompt)
        if problem is not None:
            found.problems.append(problem)
        else:
            found.rows.append(BatchRow(number, prompt))
    if not found.rows and not found.problems:
        found.problems.append("There are no prompts: write one prompt per line.")
    return found


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column name -> index for the known columns, and the names of the ignored ones."""
    known: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        column = next((col for col, names in COLUMNS.items() if key in names), None)
        if column is None or column in known:
            if name.strip():
                ignored.append(name.strip())
            continue
        known[column] = index
    return known, ignored


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def parse_csv(text: str) -> BatchInput:
    """A CSV with a header row naming a ``prompt`` column (``,`` or ``;`` or tab separated)."""
    found = BatchInput()
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return BatchInput(problems=[f"Line 1: the header row is not valid CSV ({error})."])
    if header is None or not any(cell.strip() for cell in header):
        return BatchInput(
            problems=[
                "The CSV file is empty: it needs a header row with a "
                "'prompt' column, then one row per video."
            ]
        )
    columns, ignored = _header_map(header)
    if "prompt" not in columns:
        names = ", ".join(f"'{cell.strip()}'" for cell in header if cell.strip())
        return BatchInput(
            problems=[
                f"Line 1: the header row needs a 'prompt' column (found {names}). Optional "
                "columns: model, duration, aspect_ratio."
            ]
        )
    if ignored:
        found.notes.append(f"Ignored column(s): {', '.join(ignored)}.")
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            found.problems.append(f"Line {start}: not valid CSV ({error}).")
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        _add_csv_row(found, line, row, columns, len(header))
    if not found.rows and not found.problems:
        found.problems.append("The CSV file has a header but no prompts.")
    return found


def _add_csv_row(
    found: BatchInput, line: int, row: list[str], columns: dict[str, int], width: int
) -> None:
    if len(row) > width and any(cell.strip() for cell in row[width:]):
        found.problems.append(
            f"Line {line}: {len(row)} cells but the header has {width} columns "
            "(a prompt with a comma must be in double quotes)."
        )
        return
    prompt = _cell(row, columns.get("prompt"))
    problem = _prompt_problem(line, prompt)
    if problem is not None:
        found.problems.append(problem)
        return
    duration: int | None = None
    duration_text = _cell(row, columns.get("duration"))
    if duration_text:
        parsed = parse_duration(duration_text)
        if isinstance(parsed, Problem):
            found.problems.append(f"Line {line}: {parsed.message}")
            return
        duration = parsed
    found.rows.append(
        BatchRow(
            line,
            prompt,
            model=_cell(row, columns.get("model")) or None,
            duration=duration,
            aspect_ratio=_cell(row, columns.get("aspect_ratio")) or None,
        )
    )


def parse_batch_text(text: str, *, csv_format: bool) -> BatchInput:
    """Parse pasted or loaded text as CSV or as one prompt per line."""
    return parse_csv(text) if csv_format else parse_lines(text)


def read_batch_text(path: Path) -> tuple[str | None, str | None]:
    """A batch file's text, or ``(None, problem)`` in plain words; never raises OSError."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // (1024 * 1024)
            return None, f"{path.name} is {size:,} bytes; a batch file may be at most {limit} MB."
        data = path.read_bytes()
    except OSError as error:
        return None, f"Cannot read {path}: {error.strerror or error}."
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return None, f"{path.name} is not UTF-8 text (byte {error.start + 1}). Save it as UTF-8."


def is_csv(path: Path) -> bool:
    """Whether a file is read as CSV (by its suffix)."""
    return path.suffix.lower() in (".csv", ".tsv")


def read_batch_file(path: Path) -> BatchInput:
    """Read a ``.csv`` (CSV) or any other file (one prompt per line); never raises OSError."""
    text, problem = read_batch_text(path)
    if text is None:
        return BatchInput(problems=[problem or f"Cannot read {path}."])
    return parse_batch_text(text, csv_format=is_csv(path))


@dataclass(frozen=True)
class BatchDefaults:
    """What rows that leave a value out get: the composer's (or command line's) choices."""

    params: JobParams
    #: Send each prompt to each of these models (a compare set per prompt) instead.
    compare_models: tuple[str, ...] = ()
    #: Seeds per prompt (1: no variations); each needs a model that takes a seed.
    seeds: tuple[int, ...] = ()


@dataclass
class BatchPlan:
    """The jobs a batch would send, and the problems that stop it."""

    jobs: list[PlannedJob] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _model_problem(line: int, model_id: str, models: Sequence[ModelInfo]) -> str:
    offered = ", ".join(model.id for model in models[:8])
    more = ", …" if len(models) > 8 else ""
    return f"Line {line}: the model '{model_id}' is not offered by this gateway ({offered}{more})."


def _plan_row(
    row: BatchRow, models: Sequence[ModelInfo], defaults: BatchDefaults, plan: BatchPlan
) -> None:
    base = defaults.params
    names = (row.model,) if row.model else defaults.compare_models or (base.model,)
    for name in names:
        model = find_model(models, name)
        if model is None:
            plan.problems.append(_model_problem(row.line, name, models))
            continue
        wanted = replace(
            base,
            prompt=row.prompt,
            duration=row.duration if row.duration is not None else base.duration,
            aspect_ratio=row.aspect_ratio if row.aspect_ratio is not None else base.aspect_ratio,
        )
        # Values a row names for its own model are checked, never silently changed.
        keep: set[str] = set()
        if row.model and row.duration is not None:
            keep.add("duration")
        if row.model and row.aspect_ratio is not None:
            keep.add("aspect_ratio")
        job = replace(fit_to_model(wanted, model, keep=frozenset(keep)), source=f"line {row.line}")
        if defaults.seeds:
            if not takes_seed(model):
                plan.problems.append(
                    f"Line {row.line}: {model.id} does not take a seed, so it cannot make "
                    "seed variations."
                )
                continue
            plan.jobs.extend(variations([job], defaults.seeds))
        else:
            plan.jobs.append(job)


def plan_batch(
    rows: Sequence[BatchRow], models: Sequence[ModelInfo], defaults: BatchDefaults
) -> BatchPlan:
    """Every job the rows ask for, fitted to their models, and every problem, by line."""
    plan = BatchPlan()
    for row in rows:
        _plan_row(row, models, defaults, plan)
    plan.problems.extend(plan_problems(plan.jobs, models))
    if len(plan.jobs) > MAX_SET_JOBS:
        plan.problems.append(
            f"The batch asks for {len(plan.jobs)} videos; at most {MAX_SET_JOBS} can be sent "
            "at once. Split the file."
        )
    return plan


def unsent_csv(jobs: Sequence[PlannedJob]) -> str:
    """Planned jobs as the CSV this module reads (prompt, model, duration, aspect_ratio).

    So prompts a batch did not send can be sent again without typing them.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["prompt", "model", "duration", "aspect_ratio"])
    for job in jobs:
        params = job.params
        writer.writerow([params.prompt, params.model, params.duration, params.aspect_ratio or ""])
    return buffer.getvalue()
