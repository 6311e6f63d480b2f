"""The roadmap's SMA crossover: BUY when the fast average crosses above the slow one.

Signals fire only on an actual cross, never on every bar spent above or below. Bars where
the two averages are equal do not count as a side: above -> equal -> above is no cross.

``cross="adjacent"`` counts only what happens between two consecutive closes: fast - slow
goes from strictly below zero to strictly above it (BUY) or the reverse (SELL), so a bar
of equal averages breaks a cross (below -> equal -> above is none). That is
backtesting.py's ``crossover``, used by the research cross-check.
"""

from __future__ import annotations

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
from jts.strategy.indicators import SMA
from jts.strategy.indicators import crossed_above
from jts.strategy.indicators import crossed_below


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
    __slots__ = ("fast", "last_bar_ts", "previous", "slow")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast = SMA(fast)
        self.slow = SMA(slow)
        self.last_bar_ts: int | None = None
        # Last (fast, slow) pair; with crosses through ties, the last where the two differed.
        self.previous: tuple[Decimal, Decimal] | None = None


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

    def on_bar(self, bar: Bar) -> None:
        instrument_id = bar.instrument_id
        params = self.params
        if not self.wants(instrument_id):
            return
        if params.timeframe is not None and bar.timeframe != params.timeframe:
            return
        state = self._states.get(instrument_id) or self._state(instrument_id)
        # A replayed or late bar would count twice in the averages.
        if state.last_bar_ts is not None and bar.ts <= state.last_bar_ts:
            return
        state.last_bar_ts = bar.ts
        close = bar.close
        fast = state.fast.update(close)
        slow = state.slow.update(close)
        adjacent = params.cross == "adjacent"
        if fast is None or slow is None or (fast == slow and not adjacent):
            return
        previous, state.previous = state.previous, (fast, slow)
        if previous is None:
            return
        prev_fast, prev_slow = previous
        if adjacent:
            # Strictly below, then strictly above: an equal close on either side is no cross.
            up = prev_fast < prev_slow and fast > slow
            down = prev_fast > prev_slow and fast < slow
        else:
            up = crossed_above(prev_fast, prev_slow, fast, slow)
            down = crossed_below(prev_fast, prev_slow, fast, slow)
        if up:
            self.buy(bar, self._reason("above", fast, ">", slow))
        elif down:
            self.sell(bar, self._reason("below", fast, "<", slow))

    def _state(self, instrument_id: str) -> _InstrumentState:
        state = self._states.get(instrument_id)
        if state is None:
            state = self._states[instrument_id] = _InstrumentState(
                self.params.fast, self.params.slow
            )
        return state

    def _reason(self, direction: str, fast: Decimal, op: str, slow: Decimal) -> str:
        p = self.params
        return f"SMA{p.fast} crossed {direction} SMA{p.slow} ({_show(fast)} {op} {_show(slow)})"


def _show(value: Decimal) -> str:
    """Eight significant digits without exponent or trailing zeros: 70133.333, 70150."""
    return format(Decimal(format(value, ".8g")).normalize(), "f")
