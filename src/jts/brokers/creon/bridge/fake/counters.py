"""Creon's request counters as the fake keeps them: a count per kind per 15-second window.

Creon allows 60 look-ups and 20 order/account requests per window (broker-apis
§2.1) and tells what is left (``GetLimitRemainCount``) and when the window
resets (``LimitRequestRemainTime``). Where the real objects block (a look-up
past its limit waits inside Creon) the fake does not: it counts the breach in
``violations`` so tests can prove the bridge never causes one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from jts.brokers.creon.bridge import com


class RequestCounters:
    """Per-kind counts in windows that start at a window's first request."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        trade_limit: int = 20,
        quote_limit: int = 60,
        window: float = 15.0,
    ) -> None:
        self.clock = clock
        self.limits = {com.LT_TRADE_REQUEST: trade_limit, com.LT_NONTRADE_REQUEST: quote_limit}
        self.window = window
        self.violations = 0
        self.requests = {com.LT_TRADE_REQUEST: 0, com.LT_NONTRADE_REQUEST: 0}
        self._windows: dict[int, list[float]] = {}  # kind -> [start, used]
        self._lock = threading.Lock()

    def remain(self, kind: int) -> int:
        with self._lock:
            _start, used = self._window(kind)
            return max(0, self.limits[kind] - int(used))

    def remain_time_ms(self) -> int:
        with self._lock:
            now = self.clock()
            remaining = [
                start + self.window - now
                for start, used in (self._window(k) for k in self.limits)
                if used > 0
            ]
            return max(0, int(min(remaining) * 1000)) if remaining else 0

    def spend(self, kind: int) -> bool:
        """Count one request; False when the counter is spent (a limit breach)."""
        with self._lock:
            self.requests[kind] += 1
            _start, used = self._window(kind)
            if used >= self.limits[kind]:
                self.violations += 1
                return False
            state = self._windows[kind]
            if used == 0:
                state[0] = self.clock()
            state[1] = used + 1
            return True

    def _window(self, kind: int) -> tuple[float, float]:
        now = self.clock()
        state = self._windows.setdefault(kind, [now, 0.0])
        if now - state[0] >= self.window:
            state[0], state[1] = now, 0.0
        return state[0], state[1]
