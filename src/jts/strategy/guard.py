"""Run user strategy callbacks so that their failures fault one strategy, not the engine.

Any exception becomes ``StrategyCallbackError`` naming the strategy and the bar, and the
signals the failed call had already recorded are discarded: half of a decision is not
acted on.
"""

from __future__ import annotations

from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.domain.signals import Signal
from jts.strategy.base import Strategy


class StrategyCallbackError(StrategyError):
    """A strategy's own code raised; ``__cause__`` is the original exception."""

    def __init__(self, strategy_id: str, callback: str, bar: Bar | None, cause: Exception) -> None:
        where = "" if bar is None else f" on bar {bar.instrument_id}@{bar.ts} ({bar.timeframe})"
        super().__init__(f"strategy {strategy_id}: {callback} failed{where}: {cause!r}")
        self.strategy_id = strategy_id
        self.callback = callback
        self.bar = bar


def run_guarded(strategy: Strategy, bar: Bar) -> list[Signal]:
    """Call ``on_bar`` and return the signals it recorded."""
    try:
        strategy.on_bar(bar)
    except Exception as exc:
        strategy._jts_take_signals()
        raise StrategyCallbackError(strategy.strategy_id, "on_bar", bar, exc) from exc
    # Most bars record nothing: no call to hand over an empty list.
    return strategy._jts_take_signals() if strategy._pending else []


def start_guarded(strategy: Strategy) -> list[Signal]:
    """Call ``on_start``; signals recorded there are returned like those of a bar."""
    try:
        strategy.on_start()
    except Exception as exc:
        strategy._jts_take_signals()
        raise StrategyCallbackError(strategy.strategy_id, "on_start", None, exc) from exc
    return strategy._jts_take_signals()
