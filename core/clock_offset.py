"""How far the gateway's clock is from this machine's, read from its answers' ``Date`` header.

A lost create is found in the gateway's job list by its creation time, which the gateway
stamps on its own clock. A computer whose clock is minutes off would never find it; every
answer's ``Date`` header says what the gateway's clock read, so the difference is known
after the first answer and the search compares times on one clock.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque

#: Answers remembered; the median of their offsets is used (one odd header changes nothing).
SAMPLES = 9
#: Offsets beyond this are not believed (a broken header, not a clock): a day.
MAX_OFFSET = 86_400.0


def date_header_time(value: str | None) -> float | None:
    """The unix time an HTTP ``Date`` header states, or ``None`` when it is missing or bad.

    The header counts whole seconds, so the middle of its second is returned.
    """
    if not value:
        return None
    import email.utils  # with the first answer, not at start-up (it loads the email package)

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None  # "-0000": the sender did not know its zone; not evidence
    return moment.timestamp() + 0.5


class ClockOffset:
    """The gateway's clock minus this machine's, from recent answers (thread-safe)."""

    def __init__(self) -> None:
        """Start knowing nothing: an offset of zero."""
        self._samples: deque[float] = deque(maxlen=SAMPLES)
        self._lock = threading.Lock()

    def note(self, date_header: str | None, received_at: float) -> None:
        """Learn from one answer's ``Date`` header, received at ``received_at`` (local time)."""
        stated = date_header_time(date_header)
        if stated is None:
            return
        offset = stated - received_at
        if abs(offset) > MAX_OFFSET:
            return
        with self._lock:
            self._samples.append(offset)

    @property
    def seconds(self) -> float:
        """Add this to a local time to get the gateway's (0.0 until an answer said)."""
        with self._lock:
            samples = list(self._samples)
        return statistics.median(samples) if samples else 0.0
