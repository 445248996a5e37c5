"""The engine's key guard: which key a call used, whether the gateway refused it, its limit.

A 401 stops every call made with the refused key until the person enters a new one; a 401
to a call that was sent with a key replaced since is stale and changes nothing. A 429
``key_limit_exceeded`` is the key's own rate limit: it holds every job of the key, not only
the one that met it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from core.errors import ErrorKind, GatewayError
from core.poll_policy import PollPolicy, backoff_delay

logger = logging.getLogger(__name__)

#: The code of the gateway's per-key rate limit: it slows every job of that key.
KEY_LIMIT_CODE = "key_limit_exceeded"


class KeyGuard:
    """The state of the engine's key (see the module docstring); thread-safe."""

    def __init__(self, policy: PollPolicy, rng: random.Random, clock: Callable[[], float]):
        """Start with the key trusted and no rate limit in force."""
        self._policy = policy
        self._rng = rng
        self._clock = clock
        #: The 401 that stopped every call with the current key, if any.
        self.rejected: GatewayError | None = None
        #: Until when the key's own rate limit holds every job.
        self.paused_until: float | None = None
        #: Bumped when the key is replaced: a 401 to a call sent with an older key is stale
        #: (the person entered a new key while it was in flight) and must not stop new work.
        self._generation = 0
        self._calls = threading.local()
        #: Held while a refusal is recorded and while the key is replaced, so a refusal
        #: cannot land between the replacement's clearing and its resuming of blocked jobs.
        self.lock = threading.RLock()

    def begin_call(self) -> None:
        """Note which key this thread's gateway call is about to use (see stale_refusal)."""
        self._calls.generation = self._generation

    def stale_refusal(self) -> bool:
        """Whether this thread's refused call was sent with a key replaced since."""
        started: int = getattr(self._calls, "generation", self._generation)
        return started != self._generation

    def refuse(self, error: GatewayError) -> bool:
        """Stop every call with the key after a 401 (unless a newer key replaced it since)."""
        with self.lock:
            if self.stale_refusal():
                return False
            self.rejected = error
            return True

    def heard(self, error: GatewayError) -> None:
        """Learn from a call's error: a 401 refuses the key, a key-wide 429 holds it."""
        if error.kind is ErrorKind.AUTH:
            self.refuse(error)
        self.note_limit(error)

    def replaced(self) -> None:
        """A new key is in use: forget the old one's refusal and rate limit."""
        with self.lock:
            self._generation += 1
            self.rejected = None
            self.paused_until = None

    def note_limit(self, error: GatewayError) -> None:
        """A 429 ``key_limit_exceeded`` holds every job of the key, not only this one."""
        if error.status != 429 or (error.code or "").lower() != KEY_LIMIT_CODE:
            return
        delay = error.retry_after
        if delay is None or delay < 0:
            delay = backoff_delay(4, self._policy, self._rng)
        until = self._clock() + max(delay, self._policy.min_poll_after)
        with self.lock:
            if self.paused_until is None or until > self.paused_until:
                self.paused_until = until
        logger.info("The key's rate limit holds every job for %.0f s", delay)

    def paused(self, now: float) -> bool:
        """Whether the key's rate limit still holds at ``now``."""
        paused_until = self.paused_until
        return paused_until is not None and now < paused_until

    def blocked(self, now: float) -> bool:
        """Whether no call may use the key now (refused, or its rate limit holds)."""
        return self.rejected is not None or self.paused(now)
