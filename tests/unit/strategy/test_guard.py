from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from jts.domain.enums import Side
from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.strategy.base import Strategy
from jts.strategy.guard import StrategyCallbackError
from jts.strategy.guard import run_guarded
from jts.strategy.guard import start_guarded

T0 = 1_700_000_000_000_000_000


def _bar(close: int, i: int = 0) -> Bar:
    price = Decimal(close)
    return Bar("KRX:005930", Timeframe.M5, T0 + i, price, price, price, price, Decimal(1))


class Flaky(Strategy):
    """Buys every bar, but blows up after recording the signal when the close is 13."""

    name: ClassVar[str] = "flaky"

    def on_start(self) -> None:
        if self.strategy_id == "bad-start":
            raise KeyError("missing warm-up data")
        self.buy(_bar(1), reason="opening")

    def on_bar(self, bar: Bar) -> None:
        self.buy(bar, reason="always")
        if bar.close == 13:
            raise ZeroDivisionError("unlucky")


def test_signals_of_a_good_call_are_returned_once() -> None:
    strategy = Flaky(strategy_id="f1")
    [signal] = run_guarded(strategy, _bar(10))
    assert (signal.side, signal.price, signal.reason) == (Side.BUY, Decimal(10), "always")
    assert strategy._jts_take_signals() == []


def test_an_exception_becomes_a_strategy_error_with_context() -> None:
    strategy = Flaky(strategy_id="f1")
    bar = _bar(13, i=7)
    with pytest.raises(StrategyError) as info:
        run_guarded(strategy, bar)
    error = info.value
    assert isinstance(error, StrategyCallbackError)
    assert error.strategy_id == "f1"
    assert error.bar == bar
    assert error.callback == "on_bar"
    assert isinstance(error.__cause__, ZeroDivisionError)
    message = str(error)
    assert "strategy f1: on_bar failed on bar KRX:005930@" in message
    assert str(T0 + 7) in message
    assert "ZeroDivisionError('unlucky')" in message


def test_signals_recorded_before_the_failure_are_discarded() -> None:
    strategy = Flaky(strategy_id="f1")
    with pytest.raises(StrategyError):
        run_guarded(strategy, _bar(13))
    # The next good bar returns only its own signal, not the half-made one.
    signals = run_guarded(strategy, _bar(20, i=1))
    assert [s.price for s in signals] == [Decimal(20)]


def test_start_is_guarded_too() -> None:
    [opening] = start_guarded(Flaky(strategy_id="ok"))
    assert opening.reason == "opening"
    with pytest.raises(StrategyCallbackError, match="bad-start: on_start failed: KeyError"):
        start_guarded(Flaky(strategy_id="bad-start"))


def test_base_exceptions_are_not_swallowed() -> None:
    class Quitter(Flaky):
        def on_bar(self, bar: Bar) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_guarded(Quitter(strategy_id="q"), _bar(10))
