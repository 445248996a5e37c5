"""Tests for core.filenames: exact examples, and safety over arbitrary hostile prompts."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.filenames import is_safe_filename, sanitize_component, suggest_filename

#: 2026-11-24 09:30:00 UTC
WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC).timestamp()
JOB = "G-01KABCDEFGHJKMNPQRSTVWXYZ"


def _name(prompt: str, **kwargs: object) -> str:
    return suggest_filename(prompt, WHEN, JOB, tz=UTC, **kwargs)  # type: ignore[arg-type]


# --- exact examples -----------------------------------------------------------------------------


def test_typical_prompt() -> None:
    assert (
        _name("A cinematic sunrise over a mountain lake")
        == "a-cinematic-sunrise-over-a-mountain-20261124-0930-RSTVWXYZ.mp4"
    )


def test_several_outputs_are_numbered_from_one() -> None:
    assert _name("Fox", index=0, outputs=3) == "fox-20261124-0930-RSTVWXYZ-1.mp4"
    assert _name("Fox", index=2, outputs=3) == "fox-20261124-0930-RSTVWXYZ-3.mp4"
    assert _name("Fox", index=1) == "fox-20261124-0930-RSTVWXYZ-2.mp4"
    assert _name("Fox", index=-4, outputs=1) == "fox-20261124-0930-RSTVWXYZ.mp4"


def test_time_zone_and_missing_parts() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert suggest_filename("Fox", WHEN, JOB, tz=plus_two) == "fox-20261124-1130-RSTVWXYZ.mp4"
    assert suggest_filename("Fox", WHEN, None, tz=UTC) == "fox-20261124-0930.mp4"
    assert suggest_filename("Fox", float("nan"), "G-1", tz=UTC) == "fox-G1.mp4"
    assert suggest_filename("Fox", -1, "---", tz=UTC) == "fox.mp4"
    assert suggest_filename("Fox", 1e300, None) == "fox.mp4"


def test_extension_forms() -> None:
    assert _name("Fox", extension="webm") == "fox-20261124-0930-RSTVWXYZ.webm"
    assert _name("Fox", extension=".MOV") == "fox-20261124-0930-RSTVWXYZ.mov"
    assert _name("Fox", extension="../") == "fox-20261124-0930-RSTVWXYZ.mp4"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("", "reelgate-video-20261124-0930-RSTVWXYZ.mp4"),
        ("🌅🏔️ … !!!", "reelgate-video-20261124-0930-RSTVWXYZ.mp4"),
        ("../../etc/passwd", "etc-passwd-20261124-0930-RSTVWXYZ.mp4"),
        (
            'C:\\Windows\\System32 "evil" <x> | y?*',
            "c-windows-system32-evil-x-y-20261124-0930-RSTVWXYZ.mp4",
        ),
        (
            "Shot\x00 with\x07 bells\u202eexe.mp4",
            "shot-with-bells-exe-mp4-20261124-0930-RSTVWXYZ.mp4",
        ),
        ("Café  CRÈME brûlée", "café-crème-brûlée-20261124-0930-RSTVWXYZ.mp4"),
        ("Cafe\u0301 decomposed", "café-decomposed-20261124-0930-RSTVWXYZ.mp4"),
        ("شروق الشمس فوق بحيرة", "شروق-الشمس-فوق-بحيرة-20261124-0930-RSTVWXYZ.mp4"),
        ("זריחה מעל אגם", "זריחה-מעל-אגם-20261124-0930-RSTVWXYZ.mp4"),
        ("1920s jazz club, 35mm film", "1920s-jazz-club-35mm-film-20261124-0930-RSTVWXYZ.mp4"),
        (
            "one two three four five six seven eight",
            "one-two-three-four-five-six-20261124-0930-RSTVWXYZ.mp4",
        ),
    ],
)
def test_hostile_and_international_prompts(prompt: str, expected: str) -> None:
    name = _name(prompt)
    assert name == expected
    assert is_safe_filename(name)


def test_nfc_normalised() -> None:
    name = _name("Cafe\u0301")
    assert unicodedata.is_normalized("NFC", name)
    assert name.startswith("caf\u00e9-")


def test_long_prompts_stay_within_limits() -> None:
    name = _name("word " * 2000)
    assert name == "word-word-word-word-word-word-20261124-0930-RSTVWXYZ.mp4"
    long_word = _name("a" * 10_000)
    assert long_word == "a" * 60 + "-20261124-0930-RSTVWXYZ.mp4"
    cjk = _name("猫" * 10_000)
    assert len(cjk.encode("utf-8")) <= 200 and len(cjk) <= 120
    assert cjk.endswith("-20261124-0930-RSTVWXYZ.mp4")
    emoji_letters = _name("𝔄" * 10_000)  # 4-byte letters: the byte limit binds
    assert len(emoji_letters.encode("utf-8")) <= 200
    assert is_safe_filename(emoji_letters)


@pytest.mark.parametrize("word", ["con", "CON", "nul", "Aux", "com1", "LPT9", "com²", "prn"])
def test_device_names_avoided(word: str) -> None:
    # with the date and id the stem is never a bare device name; without them it would be
    name = suggest_filename(word, float("nan"), None)
    assert is_safe_filename(name)
    assert name == f"reelgate-video-{word.lower()}.mp4"


# --- the predicate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../x.mp4",
        "a/b.mp4",
        "a\\b.mp4",
        "c:x.mp4",
        "a*b.mp4",
        "a?.mp4",
        'a".mp4',
        "a<b>.mp4",
        "a|b.mp4",
        "a\x00.mp4",
        "a\x1f.mp4",
        "a\u202ekcp.exe",
        "a\ud800.mp4",
        "CON",
        "con.txt",
        "nul.mp4",
        "NUL .mp4",
        "Com1.tar.gz",
        "lpt3",
        "CONIN$",
        ".hidden.mp4",
        "x.mp4.",
        "x.mp4 ",
        " x.mp4",
        "a..b.mp4",
        "x" * 121,
        "é" * 101,  # 101 characters but 202 bytes
        "a\uff0fb.mp4",
    ],
)
def test_unsafe_names(name: str) -> None:
    assert not is_safe_filename(name)


@pytest.mark.parametrize(
    "name",
    ["video.mp4", "console.mp4", "con-x.mp4", "com10.mp4", "café.mp4", "x" * 120, "é" * 100],
)
def test_safe_names(name: str) -> None:
    assert is_safe_filename(name)


# --- sanitize_component ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My Videos", "My Videos"),
        ("  a/b\\c:d  ", "abcd"),
        ("..", ""),
        ("...hidden...", "hidden"),
        ("a....b", "a.b"),
        ("tab\there\nnew", "tab here new"),
        ("con", "_con"),
        ("NUL.txt", "_NUL.txt"),
        ("zero\u200bwidth", "zerowidth"),
        ("Cafe\u0301", "Café"),
        ("", ""),
        ("\x00\x01", ""),
    ],
)
def test_sanitize_component(text: str, expected: str) -> None:
    assert sanitize_component(text) == expected


def test_sanitize_component_limits() -> None:
    assert sanitize_component("x" * 500) == "x" * 80
    assert sanitize_component("x" * 500, max_chars=10) == "x" * 10
    assert sanitize_component("猫" * 500, max_chars=100) == "猫" * 66  # 198 bytes
    assert sanitize_component("ab. cd", max_chars=3) == "ab"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_sanitize_component_always_safe_or_empty(text: str, max_chars: int) -> None:
    result = sanitize_component(text, max_chars)
    assert result == "" or is_safe_filename(result)
    assert len(result) <= max_chars


# --- properties ----------------------------------------------------------------------------------

_hostile = st.sampled_from(
    [
        "../",
        "..",
        "/",
        "\\",
        ":",
        "\x00",
        "CON",
        "nul.mp4",
        "com1",
        "\u202e",
        "\u200d",
        "🌅",
        "👨‍👩‍👧",
        "שלום",
        "مرحبا",
        "e\u0301",
        ".",
        " ",
        "\t",
        "İ",
        "ß",
        "ǅ",
        "𝔄",
        "\ud800",
    ]
)
_prompts = (
    st.text(max_size=400)
    | st.lists(_hostile | st.text(max_size=5), max_size=30).map("".join)
    | st.text(min_size=1, max_size=3).map(lambda s: s * 4000)
)


@settings(max_examples=500, deadline=None)
@given(
    prompt=_prompts,
    created_at=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40),
    job_id=st.none() | st.text(max_size=40),
    index=st.integers(-5, 10**9),
    outputs=st.integers(-1, 5),
    extension=st.sampled_from([".mp4", ".webm", ".mov", "mp4"]),
)
@example(prompt="../" * 3400, created_at=WHEN, job_id="../..", index=0, outputs=1, extension=".mp4")
@example(
    prompt="nul.mp4", created_at=float("nan"), job_id=None, index=0, outputs=1, extension=".mp4"
)
@example(prompt="CON", created_at=float("inf"), job_id="", index=0, outputs=1, extension=".mp4")
def test_suggested_names_are_always_safe(
    prompt: str,
    created_at: float,
    job_id: str | None,
    index: int,
    outputs: int,
    extension: str,
) -> None:
    name = suggest_filename(
        prompt, created_at, job_id, index=index, outputs=outputs, extension=extension
    )
    assert is_safe_filename(name), name
    wanted = extension if extension.startswith(".") else "." + extension
    assert name.endswith(wanted)
    assert len(name) <= 120 and len(name.encode("utf-8")) <= 200
    assert ".." not in name
    assert unicodedata.is_normalized("NFC", name)
