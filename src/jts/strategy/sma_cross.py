"""The roadmap's SMA crossover: BUY when the fast average crosses above the slow one.

Signals fire only on an actual cross, never on every bar spent above or below. Bars where
the two averages are equal do not count as a side: above -> equal -> above is no cross.

``cross="adjacent"`` counts only what happens between two consecutive closes: fast - slow
goes from strictly below zero to strictly above it (BUY) or the reverse (SELL), so a bar
of equal averages breaks a cross (below -> equal -> above is none). That is
backtesting.py's ``crossover``, used by the research cross-check.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar
from typing import Literal

from pydantic import Field
from pydantic import model_validator

from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.strategy.base import Strategy
from jts.strategy.base import StrategyParams


class SmaCrossParams(StrategyParams):
    fast: int = Field(default=5, ge=1)
    slow: int = Field(default=20, ge=2)
    timeframe: Timeframe | None = None
    """Only bars of this timeframe feed the averages; None accepts any."""
    cross: Literal["through_ties", "adjacent"] = "through_ties"
    """What a cross is: across bars of equal averages, or between two closes only."""

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


class _InstrumentState:
    """Both averages over one window of closes: the last ``slow`` of them, two running sums.

    The sums take each close and give back the one leaving their window in the order
    ``indicators.SMA`` does, and the averages are the same quotients, so the values
    (and every cross) are ``SMA``'s to the last digit, for one deque instead of two.
    """

    __slots__ = ("closes", "fast_sum", "last_bar_ts", "previous", "slow_sum")

    def __init__(self) -> None:
        self.closes: deque[Decimal] = deque()
        self.fast_sum = Decimal(0)
        self.slow_sum = Decimal(0)
        self.last_bar_ts: int | None = None
        # Side of fast against slow at the last pair (-1, 0, 1); with crosses through
        # ties, at the last pair where the two differed. None before the first pair.
        self.previous: int | None = None


class SmaCrossStrategy(Strategy):
    name: ClassVar[str] = "sma_cross"
    Params: ClassVar[type[StrategyParams]] = SmaCrossParams
    params: SmaCrossParams

    def __init__(
        self,
        *,
        strategy_id: str,
        instruments: Sequence[str] | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(strategy_id=strategy_id, instruments=instruments, params=params)
        self._states: dict[str, _InstrumentState] = {}
        self._fast = self.params.fast
        self._slow = self.params.slow
        self._fast_divisor = Decimal(self._fast)
        self._slow_divisor = Decimal(self._slow)
        self._adjacent = self.params.cross == "adjacent"

    def on_bar(self, bar: Bar) -> None:
        instrument_id = bar.instrument_id
        if self.instruments is not None and instrument_id not in self.instruments:
            return
        timeframe = self.params.timeframe
        if timeframe is not None and bar.timeframe != timeframe:
            return
        state = self._states.get(instrument_id) or self._state(instrument_id)
        # A replayed or late bar would count twice in the averages.
        ts = bar.ts
        if state.last_bar_ts is not None and ts <= state.last_bar_ts:
            return
        state.last_bar_ts = ts
        close = bar.close
        closes = state.closes
        closes.append(close)
        count = len(closes)
        fast_n, slow_n = self._fast, self._slow
        state.fast_sum += close
        if count > fast_n:
            state.fast_sum -= closes[-fast_n - 1]
        state.slow_sum += close
        if count > slow_n:
            state.slow_sum -= closes.popleft()
        elif count < slow_n:
            return  # the slow average is not ready (nor, before the fast one, anything)
        fast = state.fast_sum / self._fast_divisor
        slow = state.slow_sum / self._slow_divisor
        side = 1 if fast > slow else -1 if fast < slow else 0
        adjacent = self._adjacent
        if not side and not adjacent:
            return
        previous, state.previous = state.previous, side
        if previous is None:
            return
        # Adjacent: strictly below, then strictly above (an equal close on either side is
        # no cross). Through ties, ``previous`` is never 0: the ``crossed_*`` rules.
        if side > 0 and previous < 0:
            self.buy(bar, self._reason("above", fast, ">", slow))
        elif side < 0 and previous > 0:
            self.sell(bar, self._reason("below", fast, "<", slow))

    def _state(self, instrument_id: str) -> _InstrumentState:
        state = self._states.get(instrument_id)
        if state is None:
            state = self._states[instrument_id] = _InstrumentState()
        return state

    def _reason(self, direction: str, fast: Decimal, op: str, slow: Decimal) -> str:
        p = self.params
        return f"SMA{p.fast} crossed {direction} SMA{p.slow} ({_show(fast)} {op} {_show(slow)})"


def _show(value: Decimal) -> str:
    """Eight significant digits without exponent or trailing zeros: 70133.333, 70150."""
    return format(Decimal(format(value, ".8g")).normalize(), "f")
