"""JSON text for the journal: any value written as JSON that SQLite stores, read back safely."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping


def _json_default(value: object) -> object:
    """Best-effort JSON form of values ``json`` cannot write (bytes, sets, dataclasses...)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset):
        return [_json_safe(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_safe(dataclasses.asdict(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _json_safe(to_dict())
    return repr(value)


def _json_safe(value: object, depth: int = 0) -> object:
    """A deep copy of ``value`` that ``json.dumps`` accepts (string keys, no cycles)."""
    if depth > 64:
        return repr(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item, depth + 1) for item in value]
    return _json_safe(_json_default(value), depth + 1)


def sqlite_text(text: str) -> str:
    """``text`` as SQLite can store it: lone surrogates (which UTF-8 cannot encode) replaced.

    They do occur: ``json.loads`` turns a ``"\\ud800"`` escape in a response into one.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def to_json(value: object) -> str:
    """Serialise any value to JSON text that SQLite can store; never raises."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError, RecursionError):
        try:
            text = json.dumps(_json_safe(value), ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            text = json.dumps(repr(value))
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates only occur inside JSON strings, where "\\udxxx" is exactly their
        # JSON escape: the text stays valid JSON and parses back to the same value.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def from_json(text: str | None) -> object:
    """Parse JSON text written by :func:`to_json`; text that is not JSON is returned as is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
