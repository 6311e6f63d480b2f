"""Technical indicators in Decimal, streaming first so live trading and backtests agree.

The streaming classes keep O(1) state per update; the batch ``sma`` is computed
independently (a fresh window sum each time) so tests can hold one against the other.
Floats are converted through ``str`` so ``0.1`` means 0.1, not its binary expansion.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal

Number = Decimal | float | int


def to_decimal(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _check_period(period: int) -> int:
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"period must be a positive integer, got {period!r}")
    return period


def sma(values: Sequence[Number], period: int) -> list[Decimal]:
    """Simple moving average of every full window: ``len(values) - period + 1`` values."""
    _check_period(period)
    prices = [to_decimal(value) for value in values]
    divisor = Decimal(period)
    return [
        sum(prices[end - period : end], Decimal(0)) / divisor
        for end in range(period, len(prices) + 1)
    ]


class SMA:
    """Streaming simple moving average: a running Decimal sum over a fixed window."""

    __slots__ = ("_divisor", "_sum", "_window", "period")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._divisor = Decimal(period)
        self._window: deque[Decimal] = deque()
        self._sum = Decimal(0)

    def update(self, value: Number) -> Decimal | None:
        """Add one value; the average once ``period`` values are in, else None."""
        price = value if isinstance(value, Decimal) else to_decimal(value)
        window = self._window
        window.append(price)
        self._sum += price
        # ``value`` inlined: this runs once per bar per average.
        count = len(window)
        if count > self.period:
            self._sum -= window.popleft()
            count -= 1
        if count < self.period:
            return None
        return self._sum / self._divisor

    @property
    def value(self) -> Decimal | None:
        if len(self._window) < self.period:
            return None
        return self._sum / self._divisor

    @property
    def ready(self) -> bool:
        return len(self._window) == self.period

    def reset(self) -> None:
        self._window.clear()
        self._sum = Decimal(0)


class EMA:
    """Streaming exponential moving average, alpha = 2 / (period + 1).

    Seeded with the simple average of the first ``period`` values (the usual charting
    convention), so it returns None until then instead of a value biased to the first price.
    """

    __slots__ = ("_alpha", "_seed", "_value", "period")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._alpha = Decimal(2) / Decimal(period + 1)
        self._seed = SMA(period)
        self._value: Decimal | None = None

    def update(self, value: Number) -> Decimal | None:
        price = to_decimal(value)
        if self._value is None:
            self._value = self._seed.update(price)
        else:
            self._value += self._alpha * (price - self._value)
        return self._value

    @property
    def value(self) -> Decimal | None:
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None

    def reset(self) -> None:
        self._seed.reset()
        self._value = None


def crossed_above(prev_fast: Decimal, prev_slow: Decimal, fast: Decimal, slow: Decimal) -> bool:
    """``fast`` went from at-or-below ``slow`` to strictly above it."""
    return prev_fast <= prev_slow and fast > slow


def crossed_below(prev_fast: Decimal, prev_slow: Decimal, fast: Decimal, slow: Decimal) -> bool:
    """``fast`` went from at-or-above ``slow`` to strictly below it."""
    return prev_fast >= prev_slow and fast < slow
