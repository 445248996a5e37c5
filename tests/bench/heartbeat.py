"""A heartbeat on the GUI thread, and a profile of what blocked it (for the benchmarks).

:class:`Heartbeat` fires a 20 ms ``PreciseTimer`` and records how late each beat comes: a
beat's lateness is how long the event loop was blocked. While a beat is overdue, a sampler
thread reads the GUI thread's Python stack every 2 ms (and what other threads run meanwhile:
one holding the interpreter lock blocks the GUI thread as surely as its own work);
:func:`profile_of` turns one block's samples into the functions that took the time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchlib import ROOT

HEARTBEAT_MS = 20
SAMPLE_S = 0.002
#: A beat this late (ms) means the loop is blocked: the sampler records the GUI stack.
SAMPLE_AFTER_MS = HEARTBEAT_MS + 5


class Heartbeat:
    """A 20 ms timer on the GUI thread; each beat's lateness is how long the loop was blocked."""

    def __init__(self) -> None:
        """Start the timer and the sampler thread."""
        from PySide6.QtCore import Qt, QTimer

        self.beats: list[tuple[float, float]] = []  # (time, lateness ms)
        self.last = time.perf_counter()
        #: Stacks seen while the loop was blocked, by the time of the beat before the block.
        self.samples: dict[float, list[Sample]] = {}
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._beat)
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self.last = time.perf_counter()
        self._timer.start()
        self._sampler.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.beats.append((now, max(0.0, (now - self.last) * 1000 - HEARTBEAT_MS)))
        self.last = now

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            since = self.last
            if (time.perf_counter() - since) * 1000 < SAMPLE_AFTER_MS:
                continue
            frames = sys._current_frames()
            stack = _stack(frames.pop(self._main or 0, None))
            mine = threading.get_ident()
            # What other threads run meanwhile: one holding the GIL (an import, a decoder
            # without GIL release) blocks the GUI thread as surely as its own work.
            others = tuple(
                " < ".join(reversed(_stack(frame)[-3:]))
                for ident, frame in frames.items()
                if ident != mine and not _idle(frame)
            )
            self.samples.setdefault(since, []).append((stack, others))

    def stop(self) -> None:
        """Stop beating and sampling."""
        self._timer.stop()
        self._stop.set()


_IDLE = {"wait", "select", "poll", "_wait_for_tstate_lock", "get", "accept", "_worker", "sleep"}


def _stack(frame: Any) -> tuple[str, ...]:
    """``file:function:line`` entries of a frame's stack, outermost first."""
    stack: list[str] = []
    while frame is not None:
        code = frame.f_code
        where = Path(code.co_filename)
        try:
            name = str(where.relative_to(ROOT))
        except ValueError:
            name = where.name
        stack.append(f"{name}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return tuple(reversed(stack))


def _idle(frame: Any) -> bool:
    """A thread waiting (on a lock, a socket, a queue): it holds no GIL."""
    return frame is None or frame.f_code.co_name in _IDLE


Sample = tuple[tuple[str, ...], tuple[str, ...]]


def profile_of(blocked: list[Sample], top: int = 14) -> list[str]:
    """Functions seen in the blocked GUI thread's stacks, most often first, with shares."""
    samples = [gui for gui, _others in blocked if gui]
    if not samples:
        return ["(no stack sampled)"]
    busy: Counter[str] = Counter(entry for _gui, others in blocked for entry in others)
    # The frames every sample shares (the interpreter's start, the event loop) say nothing.
    shared = 0
    shortest = min(len(stack) for stack in samples)
    while shared < shortest - 1 and len({stack[shared] for stack in samples}) == 1:
        shared += 1
    under = samples[0][shared - 1] if shared else "(top)"
    samples = [stack[shared:] for stack in samples]
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for stack in samples:
        seen = set()
        for entry in stack:
            function = entry.rsplit(":", 1)[0]
            if function not in seen:
                seen.add(function)
                inclusive[function] += 1
        if stack:
            leaves[stack[-1]] += 1
    lines = [f"{len(samples)} stack samples every {SAMPLE_S * 1000:.0f} ms, under {under}"]
    lines += ["  inclusive share, function:"]
    for function, count in inclusive.most_common(top):
        lines.append(f"    {count / len(samples):6.1%}  {function}")
    lines += ["  innermost line:"]
    for entry, count in leaves.most_common(5):
        lines.append(f"    {count / len(samples):6.1%}  {entry}")
    common, count = Counter(samples).most_common(1)[0]
    lines += [f"  the most frequent stack ({count / len(samples):.1%}), innermost last:"]
    lines += [f"    {entry}" for entry in common[-12:]]
    lines += ["  (the event loop's own line means Qt's C++ code, or waiting for the GIL)"]
    if busy:
        lines += ["  other threads running meanwhile (innermost first):"]
        for entry, count in busy.most_common(6):
            lines.append(f"    {count / len(samples):6.1%}  {entry}")
    return lines
