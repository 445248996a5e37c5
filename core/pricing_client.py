"""Prices from the gateway: the price list cached with a time limit, the calculator as fallback.

``GET /pricing/models`` is fetched at most once per ``ttl`` seconds and estimates are then
worked out locally. When the list is missing on the deployment (404/501), unreadable, or has
no entry for the model, ``POST /pricing/calculate`` is asked instead (its answers are cached
per request for the same time). When neither answers, the estimate is "price unknown" with
the reason. Blocking calls: run them off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from core.errors import GatewayError
from core.estimate import Estimate, PriceQuery, calculate_body, estimate_from_calculation
from core.estimate import estimate_from_list as _from_list
from core.pricing import PriceList, parse_price_list

logger = logging.getLogger(__name__)

DEFAULT_TTL = 900.0
#: After a network failure (not a definite 404/501) try again sooner.
RETRY_AFTER_FAILURE = 60.0
_MISSING = (404, 405, 501)


class PricingGateway(Protocol):
    """The two calls this module needs (``core.gateway.GatewayClient`` has them)."""

    def pricing_models(self) -> object:
        """``GET /pricing/models``."""
        ...

    def pricing_calculate(self, body: object) -> object:
        """``POST /pricing/calculate``."""
        ...


def _why(error: GatewayError, what: str) -> str:
    if error.status in _MISSING:
        return f"this gateway has no {what} (HTTP {error.status})"
    return f"the {what} could not be read ({error.summary})"


class PriceSource:
    """Estimates for one gateway; thread-safe, each network call made outside the lock."""

    def __init__(
        self,
        client: PricingGateway,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap ``client``; nothing is fetched until the first estimate."""
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._list: PriceList | None = None
        self._list_problem = "the price list has not been fetched"
        self._list_until = float("-inf")
        self._calculated: dict[PriceQuery, tuple[float, Estimate]] = {}
        self._calculator_problem: str | None = None
        self._calculator_until = float("-inf")

    def forget(self) -> None:
        """Drop every cached answer (e.g. after the gateway or the key changed)."""
        with self._lock:
            self._list = None
            self._list_until = float("-inf")
            self._calculated.clear()
            self._calculator_until = float("-inf")

    def price_list(self) -> PriceList | None:
        """The cached price list, fetched when older than the TTL; ``None`` if unavailable."""
        with self._lock:
            if self._clock() < self._list_until:
                return self._list
        try:
            prices: PriceList | None = parse_price_list(self._client.pricing_models())
            problem = "" if prices else "the price list is empty"
            keep = self._ttl
        except GatewayError as error:
            prices, problem = None, _why(error, "price list")
            keep = self._ttl if error.status in _MISSING else RETRY_AFTER_FAILURE
            logger.info("price list unavailable: %s", problem)
        with self._lock:
            self._list = prices or None
            self._list_problem = problem
            self._list_until = self._clock() + keep
            return self._list

    def _calculate(self, query: PriceQuery) -> Estimate:
        now = self._clock()
        with self._lock:
            cached = self._calculated.get(query)
            if cached is not None and now < cached[0]:
                return cached[1]
            if now < self._calculator_until and self._calculator_problem:
                return Estimate.unknown(self._calculator_problem)
        try:
            estimate = estimate_from_calculation(
                self._client.pricing_calculate(calculate_body(query))
            )
            keep, problem = self._ttl, None
        except GatewayError as error:
            estimate = Estimate.unknown(_why(error, "price calculator"))
            keep = self._ttl if error.status in _MISSING else RETRY_AFTER_FAILURE
            # A 400 is about this request (no tier for it), not about the calculator.
            problem = None if error.status == 400 else estimate.rule
            if error.status == 400:
                estimate = Estimate.unknown(
                    f"the gateway cannot price this request ({error.summary})"
                )
        with self._lock:
            self._calculated[query] = (self._clock() + keep, estimate)
            if problem is not None:
                self._calculator_problem = problem
                self._calculator_until = self._clock() + keep
        return estimate

    def estimate_cached(self, query: PriceQuery) -> Estimate | None:
        """The estimate from answers already cached, or None: never a network call.

        Safe on the GUI thread (the batch dialog prices each row as it is typed).
        """
        now = self._clock()
        with self._lock:
            prices = self._list if now < self._list_until else None
            cached = self._calculated.get(query)
        if prices is not None:
            listed = _from_list(prices, query)
            if listed.known:
                return listed
        if cached is not None and now < cached[0]:
            return cached[1]
        return None

    def estimate(self, query: PriceQuery) -> Estimate:
        """The best estimate the gateway allows: price list first, then its calculator."""
        prices = self.price_list()
        listed: Estimate | None = None
        if prices is not None:
            listed = _from_list(prices, query)
            if listed.known:
                return listed
        calculated = self._calculate(query)
        if calculated.known:
            return calculated
        if listed is not None:
            return listed  # the list's own reason (no tier for 4k, say) says the most
        with self._lock:
            list_problem = self._list_problem
        return Estimate.unknown(f"{list_problem}; {calculated.rule}")
