"""Hostile input: prompts and values a person (or a script) should never get sent, and names.

The command line and ``core.validation`` must refuse every bad request with a clear message
naming the field, before anything is journaled or sent. Right-to-left text and emoji are
good prompts and must arrive at the gateway unchanged. Suggested file names must be safe
whatever the prompt holds (``core.filenames``), and a hostile gateway id cannot steer where
a video is written (``Engine.output_file``).
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

from core.catalogue import parse_catalogue
from core.demo_gateway import DemoGateway
from core.filenames import MAX_BYTES, is_safe_filename, sanitize_component, suggest_filename
from core.jobs import MAX_PROMPT_CHARS, Job, JobParams, JobState
from core.validation import Problem, check_prompt, parse_duration, validate

from .figures import FIGURES, sized

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sized(300, 2000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def gateway() -> Iterator[DemoGateway]:
    """One quick demo gateway for the module (each test checks its own create count)."""
    with DemoGateway(queued_seconds=0.1, processing_seconds=0.2, video_scale=0.25, fps=4) as gw:
        yield gw


def run_cli(data: Path, *args: str) -> tuple[int, str, str]:
    """The real command line (parser and commands) in this process: fast, same code path."""
    from core.cli import run_command
    from main import make_parser

    out, err = io.StringIO(), io.StringIO()
    code = run_command(make_parser().parse_args([*args, "--data-dir", str(data)]), out, err)
    return code, out.getvalue(), err.getvalue()


def journal_count(data: Path) -> int:
    """Jobs in the journal (0 when it was never created)."""
    path = data / "journal.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


# -- the command line ------------------------------------------------------------------------------

BAD_PROMPTS = [
    ("empty", "", "write a prompt"),
    ("whitespace", " \t\n  \r\n ", "write a prompt"),
    ("invisible only", "\u200b\u200e\u2060\ufeff", "write a prompt"),
    ("32,001 characters", "x" * (MAX_PROMPT_CHARS + 1), "32,001 characters; the limit is 32,000"),
    ("bell", "a bell \x07 rings", "control character (u+0007) at position 8"),
    ("ANSI escape", "red \x1b[31malert\x1b[0m", "control character (u+001b)"),
    ("NUL", "nul \x00 byte", "control character (u+0000)"),
    ("DEL", "delete \x7f", "control character (u+007f)"),
    ("C1 control", "next line \x85 here", "control character (u+0085)"),
    ("lone surrogate", "half \ud83c of an emoji", "invalid character (u+d83c"),
]
BAD_VALUES = [
    ("duration 0", ["--duration", "0"], "duration"),
    ("duration 121", ["--duration", "121"], "between 1 and 120"),
    ("duration -5", ["--duration", "-5"], "between 1 and 120"),
    ("duration 2.5", ["--duration", "2.5"], "whole number"),
    ("duration words", ["--duration", "eight"], "not a duration"),
    ("duration empty", ["--duration", " "], "missing"),
    ("duration huge", ["--duration", "9" * 40], "out of range"),
    ("duration not allowed by the model", ["--duration", "30"], "for demo/test-pattern"),
    ("aspect 4:3", ["--aspect-ratio", "4:3"], "aspect ratio of"),
    ("aspect empty", ["--aspect-ratio", "  "], "choose an aspect ratio"),
    ("unknown model", ["--model", "nope/none"], "not offered by this gateway"),
    ("path as model", ["--model", "../../etc/passwd"], "not offered by this gateway"),
]


@pytest.mark.parametrize(
    ("name", "prompt", "message"), BAD_PROMPTS, ids=[c[0] for c in BAD_PROMPTS]
)
def test_cli_refuses_bad_prompts_before_sending(
    tmp_path: Path, gateway: DemoGateway, name: str, prompt: str, message: str
) -> None:
    """Each bad prompt: exit 2, a message saying what is wrong, nothing journaled or sent."""
    before = gateway.stats.get("create", 0)
    code, out, err = run_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", prompt
    )
    FIGURES.add(hostile_inputs=1)
    assert code == 2, (out, err)
    assert err.lower().startswith("prompt: ") and message in err.lower(), err
    assert gateway.stats.get("create", 0) == before and journal_count(tmp_path) == 0
    assert "submitting" not in out


@pytest.mark.parametrize(("name", "args", "message"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_cli_refuses_values_outside_the_models_constraints(
    tmp_path: Path, gateway: DemoGateway, name: str, args: list[str], message: str
) -> None:
    """Durations, aspect ratios and models the catalogue does not allow are refused locally."""
    before = gateway.stats.get("create", 0)
    code, out, err = run_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", "a calm sea", *args
    )
    FIGURES.add(hostile_inputs=1)
    assert code == 2, (out, err)
    assert message in err.lower(), err
    field = err.split(":", 1)[0].lower()
    assert field in ("duration", "aspect ratio", "model"), err
    assert gateway.stats.get("create", 0) == before and journal_count(tmp_path) == 0


def _subprocess_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PHASEO_API_KEY"}
    env.update(REELGATE_DATA_DIR=str(data), PYTHONIOENCODING="utf-8", PYTHONUTF8="1")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_right_to_left_text_and_emoji_arrive_unchanged(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    """A real process, real argv: RTL scripts, bidi marks and emoji are good prompts."""
    prompt = "غروب الشمس فوق البحر 🌅🎬 — שקיעה מעל הים \u202bמוטבע\u202c 👩\u200d👩\u200d👧"
    result = _subprocess_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", prompt, "--duration", "1"
    )
    FIGURES.add(hostile_inputs=1, jobs=1)
    assert result.returncode == 0, result.stdout + result.stderr
    stored = [job.params.prompt for job in gateway._api.store.ordered(False)]
    assert prompt in stored, "the gateway received exactly what was typed"
    with sqlite3.connect(tmp_path / "journal.db") as conn:
        assert conn.execute("SELECT prompt FROM jobs").fetchone()[0] == prompt


def test_control_characters_through_a_real_argv_are_refused(
    tmp_path: Path, gateway: DemoGateway
) -> None:
    """The same refusal when the bytes come through a real process's argv."""
    before = gateway.stats.get("create", 0)
    result = _subprocess_cli(
        tmp_path, "generate", "--base-url", gateway.base_url, "--prompt", "beep\x07\x1b[2J"
    )
    FIGURES.add(hostile_inputs=1)
    assert result.returncode == 2 and "control character" in result.stderr
    assert gateway.stats.get("create", 0) == before and journal_count(tmp_path) == 0


# -- core.validation, property-based ---------------------------------------------------------------


def _expected_prompt_problem(text: str) -> bool:
    """An independent statement of the prompt rules."""
    visible = any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)
    bad_char = any(
        (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
        or unicodedata.category(ch) == "Cs"
        for ch in text
    )
    return not visible or len(text) > MAX_PROMPT_CHARS or bad_char


prompt_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None), max_size=40),
    st.text(alphabet=" \t\n\r\u200b\u200e\u202e\ufeff\x00\x07\x1b\x7f\x85", max_size=20),
    st.integers(MAX_PROMPT_CHARS - 2, MAX_PROMPT_CHARS + 2).map(lambda n: "é" * n),
)


@FUZZ
@given(prompt_text)
def test_check_prompt_matches_the_rules_for_any_text(text: str) -> None:
    """Refused exactly when empty/invisible, too long or holding a bad character; never raises."""
    FIGURES.add_fuzz()
    problem = check_prompt(text)
    assert (problem is not None) == _expected_prompt_problem(text), (text, problem)
    if problem is not None:
        assert problem.endswith(".") and len(problem) < 200


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)


@FUZZ
@given(
    model=st.one_of(st.just("demo/test-pattern"), st.text(max_size=20), json_scalars),
    prompt=st.one_of(prompt_text, json_scalars),
    duration=st.one_of(json_scalars, st.integers(-3, 130)),
    aspect=st.one_of(st.sampled_from(["16:9", "9:16", "1:1", "4:3", ""]), json_scalars),
    resolution=st.one_of(st.sampled_from(["360p", "720p", "8k"]), json_scalars),
    seed=json_scalars,
    samples=json_scalars,
    audio=json_scalars,
)
def test_validate_never_raises_and_names_the_field(
    model: object,
    prompt: object,
    duration: object,
    aspect: object,
    resolution: object,
    seed: object,
    samples: object,
    audio: object,
) -> None:
    """Whatever the values (wrong types included), validation answers with Problems only."""
    FIGURES.add_fuzz()
    params = JobParams(
        model=model,  # type: ignore[arg-type]
        prompt=prompt,  # type: ignore[arg-type]
        duration=duration,  # type: ignore[arg-type]
        aspect_ratio=aspect,  # type: ignore[arg-type]
        resolution=resolution,  # type: ignore[arg-type]
        seed=seed,  # type: ignore[arg-type]
        sample_count=samples,  # type: ignore[arg-type]
        generate_audio=audio,  # type: ignore[arg-type]
    )
    catalogue = {m.id: m for m in parse_catalogue(_demo_catalogue())}
    problems = validate(params, catalogue.get(model) if isinstance(model, str) else None)
    fields = {"prompt", "model", "duration", "aspect_ratio", "resolution"}
    fields |= {"seed", "sample_count", "generate_audio"}
    for problem in problems:
        assert isinstance(problem, Problem) and problem.field in fields and problem.message
    longest = 20 if model == "demo/test-pattern" else 120  # the demo model allows 1-20 s
    ok_duration = isinstance(duration, int) and not isinstance(duration, bool)
    if not (ok_duration and 1 <= duration <= longest):  # type: ignore[operator]
        assert any(p.field == "duration" for p in problems)
    if not isinstance(prompt, str) or _expected_prompt_problem(prompt):
        assert any(p.field == "prompt" for p in problems)


_CATALOGUE: object = None


def _demo_catalogue() -> object:
    global _CATALOGUE
    if _CATALOGUE is None:
        from core.demo_gateway.models import catalogue_json

        _CATALOGUE = catalogue_json()
    return _CATALOGUE


@FUZZ
@given(
    st.one_of(
        st.text(max_size=30), st.from_regex(r"\s*[+-]?\d{0,30}([.,]\d*)?\s*(s|sec|seconds)?\s*")
    )
)
def test_parse_duration_gives_whole_seconds_in_range_or_a_problem(text: str) -> None:
    """Typed durations: an int within 1-120, or a Problem quoting (safely) what was typed."""
    FIGURES.add_fuzz()
    result = parse_duration(text)
    if isinstance(result, int):
        assert 1 <= result <= 120
    else:
        assert result.field == "duration" and result.message
        assert all(ch.isprintable() for ch in result.message)


# -- file names ------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../../etc/passwd",
    "..\\..\\Windows\\System32\\drivers\\etc\\hosts",
    "/absolute/path/video",
    "C:\\Users\\victim\\Desktop\\x",
    "c: drive: colon: everywhere:",
    "nul\x00byte",
    "CON",
    "nul",
    "COM1",
    "LPT9.mp4",
    "con .txt",
    "AUX",
    ".hidden",
    "...",
    " . ",
    "\u202egnp.exe",
    'a/b\\c:d*e?f"g<h>i|j',
    "\uff0e\uff0e\uff0fetc",
    "x" * 5000,
    "ü" * 400,
    "🎬" * 300,
    "e\u0301" * 300,
    "\n\r\t",
    "",
]


def _safe_everywhere(name: str, folder: Path) -> None:
    assert is_safe_filename(name), name
    assert "/" not in name and "\\" not in name and "\x00" not in name and ":" not in name
    assert name not in (".", "..") and ".." not in name
    assert len(name.encode("utf-8")) <= MAX_BYTES
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    assert stem not in {"CON", "PRN", "AUX", "NUL"} and not (
        stem[:3] in ("COM", "LPT") and stem[3:].isdigit() and len(stem) == 4
    )
    target = folder / name
    target.write_bytes(b"ok")  # the file system accepts it, inside the folder
    assert target.resolve().parent == folder.resolve()
    target.unlink()


@pytest.mark.parametrize("prompt", HOSTILE_NAMES)
def test_suggested_names_are_safe_for_hostile_prompts(tmp_path: Path, prompt: str) -> None:
    """``../``, separators, ``:``, NUL, device names, bidi tricks, very long text: all safe."""
    for index, outputs in ((0, 1), (2, 4)):
        name = suggest_filename(prompt, 1_795_000_000.0, "G-01K/../" + prompt[:20], index=index,
                                outputs=outputs)  # fmt: skip
        _safe_everywhere(name, tmp_path)
        FIGURES.add(files_named=1)
    component = sanitize_component(prompt)
    assert component == "" or is_safe_filename(component)


@FUZZ
@given(
    prompt=st.text(max_size=300),
    created=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12)
    ),
    job_id=st.one_of(st.none(), st.text(max_size=40)),
    index=st.integers(-5, 10**7),
    extension=st.text(max_size=12),
)
def test_suggested_names_are_safe_for_any_input(
    tmp_path: Path, prompt: str, created: float, job_id: str | None, index: int, extension: str
) -> None:
    """Property: any prompt, time, id, index and extension give a safe, writable name."""
    FIGURES.add_fuzz()
    FIGURES.add(files_named=1)
    name = suggest_filename(prompt, created, job_id, index=index, outputs=3, extension=extension)
    _safe_everywhere(name, tmp_path)


@pytest.mark.parametrize(
    "remote_id", ["../../../../tmp/evil", "..", "/etc/passwd", "a\\..\\b", "CON", "\x00", ""]
)
def test_a_hostile_gateway_id_cannot_steer_where_videos_are_written(
    tmp_path: Path, remote_id: str
) -> None:
    """The engine names its own copies from the gateway id: always a plain file in its folder."""
    from core.engine import Engine

    engine = Engine.__new__(Engine)
    engine.videos_dir = tmp_path / "videos"
    job = Job(
        local_id="0123456789abcdef",
        params=JobParams(model="m", prompt="p", duration=4, aspect_ratio="16:9"),
        state=JobState.COMPLETED,
        created_at=0.0,
        updated_at=0.0,
        remote_id=remote_id or None,
    )
    for index in range(3):
        path = engine.output_file(job, index)
        FIGURES.add(files_named=1, hostile_inputs=1)
        assert path.parent == engine.videos_dir and is_safe_filename(path.name), path


# -- the composer (one test: the widget is another engineer's, validated by core.validation) ----


@pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise")
def test_composer_refuses_hostile_prompts_and_accepts_rtl_and_emoji(qtbot: Any) -> None:
    """Control characters, invisible-only and over-long prompts disable Generate and say why;
    Ctrl+Enter then sends nothing. Right-to-left text with emoji is accepted as typed."""
    from PySide6.QtCore import Qt

    from ui.composer import Composer

    composer = Composer()
    qtbot.addWidget(composer)
    composer.set_models(parse_catalogue(_demo_catalogue()), "live")
    composer.model_combo.setCurrentIndex(composer.model_combo.findData("demo/test-pattern"))
    composer.show()
    qtbot.waitExposed(composer)
    edit = composer.findChild(QPlainTextEdit, "promptEdit")
    button = composer.findChild(QPushButton, "submitButton")
    assert edit is not None and button is not None
    hostile = [
        (" \t\n ", "write a prompt"),
        ("\u200b\u2060\ufeff", "write a prompt"),
        ("a bell \x07 rings", "control character (u+0007)"),
        ("nul \x00 byte", "control character (u+0000)"),
        ("escape \x1b[2J", "control character (u+001b)"),
        ("y" * (MAX_PROMPT_CHARS + 1), "32,001 characters"),
    ]
    for text, message in hostile:
        edit.setPlainText(text)
        FIGURES.add(hostile_inputs=1)
        assert not button.isEnabled(), repr(text[:20])
        assert message in composer.prompt_problem.text().lower(), composer.prompt_problem.text()
        with qtbot.assertNotEmitted(composer.submit_requested):
            qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            assert composer.submit() is False
    good = "غروب الشمس فوق البحر 🌅🎬 שקיעה מעל הים 👩\u200d👩\u200d👧"
    edit.setPlainText(good)
    assert button.isEnabled(), composer.prompt_problem.text()
    with qtbot.waitSignal(composer.submit_requested) as sent:
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args is not None and sent.args[0].prompt == good
