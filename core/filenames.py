"""Safe suggested file names for downloaded videos, on Windows, macOS and Linux alike.

A suggested name looks like ``a-cinematic-sunrise-over-a-mountain-20261124-0930-RSTVWXYZ.mp4``:
the first words of the prompt, the local creation time, and the last eight letters and
digits of the gateway's job id (the random tail of a ``G-01K...`` id, so two jobs made in
the same minute from the same prompt still differ), then ``-2``, ``-3``... for the extra
outputs of a multi-sample job. Prompts are untrusted text: names never contain a path
separator, a character Windows forbids, a control or invisible format character, ``..``,
a leading or trailing dot or space, or a Windows device name, and stay within 120
characters and 200 UTF-8 bytes (below the 255-byte limit of common file systems).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, tzinfo

#: Characters no file name may contain: separators, Windows' reserved punctuation, NUL, and
#: full-width or mathematical look-alikes that some Windows code pages map back onto them.
_FORBIDDEN = frozenset('/\\:*?"<>|\0') | frozenset(
    "\uff0f\uff3c\uff1a\uff0a\uff1f\uff02\uff1c\uff1e\uff5c\u2215\u2216\u2044\u29f8\u29f9"
)
#: Invisible or unencodable categories: controls, format characters (bidi overrides,
#: zero-width joiners), surrogates.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
MAX_CHARS = 120
MAX_BYTES = 200
_SLUG_WORDS = 6
_SLUG_CHARS = 60
_FALLBACK_STEM = "reelgate-video"
_DEFAULT_EXTENSION = ".mp4"


def _is_reserved(name: str) -> bool:
    """Whether Windows treats ``name`` as a device (``CON``, ``nul.mp4``, ``COM1 .txt``)."""
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _RESERVED


def _fits(name: str, max_chars: int = MAX_CHARS, max_bytes: int = MAX_BYTES) -> bool:
    """Whether ``name`` is within both the character and the UTF-8 byte limit."""
    return len(name) <= max_chars and len(name.encode("utf-8", "surrogatepass")) <= max_bytes


def _clip(text: str, max_chars: int, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_chars`` characters and ``max_bytes`` bytes."""
    text = text[: max(0, max_chars)]
    while text and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        text = text[:-1]
    return text


def is_safe_filename(name: str) -> bool:
    """Whether ``name`` is a safe single file name on every common desktop system.

    It must be non-empty, at most 120 characters and 200 UTF-8 bytes, and contain no path
    separator, Windows-forbidden character, NUL, control, format or surrogate character, and
    no ``..``; it must not start or end with a dot or space nor be a Windows device name
    (with or without an extension).
    """
    if not isinstance(name, str) or not name or name in (".", ".."):
        return False
    if any(ch in _FORBIDDEN or unicodedata.category(ch) in _BAD_CATEGORIES for ch in name):
        return False
    if ".." in name or name[0] in ". " or name[-1] in ". ":
        return False
    if not _fits(name):
        return False
    return not _is_reserved(name)


def sanitize_component(text: str, max_chars: int = 80, *, max_bytes: int = MAX_BYTES) -> str:
    """``text`` made safe as one path component, keeping its words and case where possible.

    NFC-normalises, drops forbidden, control and invisible characters, collapses whitespace
    runs to one space and dot runs to one dot, trims leading/trailing dots and spaces, keeps
    within ``max_chars`` characters and ``max_bytes`` UTF-8 bytes, and prefixes a Windows
    device name with ``_``. Returns ``""`` when nothing usable remains.
    """
    if not isinstance(text, str):
        return ""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _FORBIDDEN or unicodedata.category(ch) in _BAD_CATEGORIES:
            if ch in "\t\n\r":
                ch = " "
            else:
                continue
        if ch.isspace():
            ch = " "
        if kept and ch in " ." and kept[-1] == ch:
            continue
        kept.append(ch)
    result = "".join(kept).strip(". ")
    limit = max(1, max_chars)
    if _is_reserved(result):
        result = "_" + result
    result = _clip(result, limit, max_bytes).strip(". ")
    if _is_reserved(result):  # clipping can expose a device name ("con" from "_con")
        result = _clip("_" + result, limit, max_bytes).strip(". ")
    return result if is_safe_filename(result) else ""


def _slug(prompt: str) -> str:
    """The first few words of ``prompt``, lower-cased and joined by hyphens.

    A word is a run of letters, combining marks and digits in any script; everything else
    (punctuation, emoji, separators, controls) only separates words.
    """
    words: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFC", prompt[:4000]):
        category = unicodedata.category(ch)
        if category[0] in "LN" or (category[0] == "M" and current):
            current.append(ch)
            continue
        if current:
            words.append("".join(current))
            current = []
            if len(words) == _SLUG_WORDS:
                break
    if current and len(words) < _SLUG_WORDS:
        words.append("".join(current))
    slug = unicodedata.normalize("NFC", "-".join(words).lower())
    # lower() can produce characters outside a word's categories (e.g. "İ" -> "i̇"): re-check
    slug = "".join(ch for ch in slug if ch == "-" or unicodedata.category(ch)[0] in "LMN").strip(
        "-"
    )
    if len(slug) > _SLUG_CHARS:
        clipped = slug[:_SLUG_CHARS]
        cut = clipped.rfind("-")
        slug = clipped[:cut] if cut >= _SLUG_CHARS // 2 else clipped
    return slug.strip("-")


def _stamp(created_at: float, tz: tzinfo | None) -> str | None:
    """``YYYYmmdd-HHMM`` for a unix time (local time unless ``tz``); ``None`` if invalid."""
    if not isinstance(created_at, int | float) or isinstance(created_at, bool):
        return None
    if not math.isfinite(created_at) or created_at < 0:
        return None
    try:
        moment = datetime.fromtimestamp(created_at, tz)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y%m%d-%H%M")


def _short_id(job_id: str | None) -> str | None:
    """The last eight ASCII letters and digits of the job id, if any."""
    if not isinstance(job_id, str):
        return None
    letters = "".join(ch for ch in job_id if ch.isascii() and ch.isalnum())
    return letters[-8:] or None


def _extension(extension: str) -> str:
    """A clean extension with its dot (``"mp4"`` -> ``".mp4"``); junk -> ``".mp4"``."""
    if not isinstance(extension, str):
        return _DEFAULT_EXTENSION
    letters = "".join(ch for ch in extension if ch.isascii() and ch.isalnum())[:10]
    return f".{letters.lower()}" if letters else _DEFAULT_EXTENSION


def suggest_filename(
    prompt: str,
    created_at: float,
    job_id: str | None,
    *,
    index: int = 0,
    outputs: int = 1,
    extension: str = ".mp4",
    tz: tzinfo | None = None,
) -> str:
    """A safe, readable file name for output ``index`` of a job.

    ``<first words of the prompt>-<YYYYmmdd-HHMM>-<last 8 of job id>[-<index+1>]<ext>``;
    the number is added when the job has several ``outputs`` (or ``index`` is not 0). The
    time is local unless ``tz`` is given; parts that are missing or invalid are left out,
    and a prompt with no usable word gives ``reelgate-video``. Always passes
    :func:`is_safe_filename` and ends with the (cleaned) extension.
    """
    ext = _extension(extension)
    tail: list[str] = []
    stamp = _stamp(created_at, tz)
    if stamp is not None:
        tail.append(stamp)
    short = _short_id(job_id)
    if short is not None:
        tail.append(short)
    position = index if isinstance(index, int) and index > 0 else 0
    several = isinstance(outputs, int) and outputs > 1
    if several or position > 0:
        tail.append(str(position + 1)[:6])
    slug = _slug(prompt) if isinstance(prompt, str) else ""
    suffix = "".join(f"-{part}" for part in tail) + ext
    budget_chars = MAX_CHARS - len(suffix)
    budget_bytes = MAX_BYTES - len(suffix.encode("utf-8"))
    slug = _clip(slug, budget_chars, budget_bytes).strip("-")
    name = f"{slug or _FALLBACK_STEM}{suffix}"
    if not is_safe_filename(name):  # only a device name can get here ("con.mp4")
        name = f"{_FALLBACK_STEM}-{slug}{suffix}" if slug else f"{_FALLBACK_STEM}{suffix}"
        if not is_safe_filename(name):
            name = f"{_FALLBACK_STEM}{suffix}"
    return name


def numbered_filename(number: int, prompt: str, label: str, extension: str = ".mp4") -> str:
    """``003-demo-test-pattern-a-cat-surfing.mp4``: a batch member's file name.

    The number keeps the batch's order in a folder listing; ``label`` (the model id) tells
    compared models apart. Always passes :func:`is_safe_filename`.
    """
    ext = _extension(extension)
    label_slug = _slug(label.replace("/", " "))
    stem = "-".join(bit for bit in (f"{max(0, number):03d}", label_slug, _slug(prompt)) if bit)
    stem = _clip(stem, MAX_CHARS - len(ext), MAX_BYTES - len(ext.encode("utf-8"))).strip("-. ")
    name = sanitize_component(stem + ext)
    return name if name.endswith(ext) else f"{max(0, number):03d}{ext}"
