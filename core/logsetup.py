"""Logging set-up: rotating files in the data folder and a filter that redacts API keys."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

#: Phaseo keys look like ``phaseo_v1_sk_...``; Bearer headers may carry any token.
_PATTERNS = (
    re.compile(r"phaseo_[A-Za-z0-9]+_sk_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]+"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"),
)
REDACTED = "[redacted]"


def redact(text: str, redacted: tuple[str, ...] = ()) -> str:
    """Remove API keys (known values and key-shaped strings) from ``text``."""
    for secret in redacted:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(REDACTED, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + REDACTED, text)
    return _PATTERNS[2].sub(lambda m: m.group(1) + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites every record so no API key reaches a handler."""

    def __init__(self) -> None:
        """Start with no secrets to redact."""
        super().__init__()
        self._secrets: tuple[str, ...] = ()

    def add_secret(self, secret: str | None) -> None:
        """Also redact this exact value (the key currently configured)."""
        if secret and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redact it, and drop the original arguments."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


REDACTION = RedactingFilter()


def setup_logging(log_dir: Path | None, *, verbose: bool = False) -> RedactingFilter:
    """Install the redaction filter on every root handler and a rotating file log."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / "reelgate.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(file_handler)
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers.append(console)
    for handler in handlers:
        handler.addFilter(REDACTION)
        root.addHandler(handler)
    for handler in root.handlers:
        if REDACTION not in handler.filters:
            handler.addFilter(REDACTION)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return REDACTION
