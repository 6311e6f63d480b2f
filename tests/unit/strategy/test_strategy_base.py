from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest
from pydantic import Field

from jts.domain.enums import Side
from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.strategy.base import Strategy
from jts.strategy.base import StrategyParams

T0 = 1_700_000_000_000_000_000


class ThresholdParams(StrategyParams):
    level: Decimal = Field(gt=0)
    label: str = "x"


class Threshold(Strategy):
    name: ClassVar[str] = "threshold"
    Params: ClassVar[type[StrategyParams]] = ThresholdParams
    params: ThresholdParams

    def on_bar(self, bar: Bar) -> None:
        if bar.close > self.params.level:
            self.sell(bar, reason="above", strength=Decimal("0.5"))
        else:
            self.buy(bar)


class NoParams(Strategy):
    name: ClassVar[str] = "none"

    def on_bar(self, bar: Bar) -> None:
        return None


def _bar(close: str) -> Bar:
    price = Decimal(close)
    return Bar("UPBIT:KRW-BTC", Timeframe.H1, T0, price, price, price, price, Decimal(1))


def test_signals_are_priced_at_the_close_and_stamped_at_the_close_time() -> None:
    strategy = Threshold(strategy_id="t1", params={"level": "100"})
    strategy.on_bar(_bar("150.5"))
    strategy.on_bar(_bar("99"))
    sell, buy = strategy._jts_take_signals()
    assert (sell.side, sell.price, sell.strength, sell.reason) == (
        Side.SELL,
        Decimal("150.5"),
        Decimal("0.5"),
        "above",
    )
    assert sell.ts == T0 + Timeframe.H1.nanos
    assert (buy.side, buy.strength, buy.reason, buy.strategy_id) == (Side.BUY, Decimal(1), "", "t1")
    assert sell.signal_id != buy.signal_id
    assert strategy._jts_take_signals() == []


def test_params_are_validated_into_the_strategy_model() -> None:
    strategy = Threshold(strategy_id="t1", params={"level": "100.25"})
    assert strategy.params == ThresholdParams(level=Decimal("100.25"), label="x")
    with pytest.raises(StrategyError, match=r"t1 \(threshold\): bad params: level: Field required"):
        Threshold(strategy_id="t1")
    with pytest.raises(StrategyError, match="level: Input should be greater than 0"):
        Threshold(strategy_id="t1", params={"level": -1})
    with pytest.raises(StrategyError, match="colour: Extra inputs are not permitted"):
        NoParams(strategy_id="n", params={"colour": "red"})
    assert NoParams(strategy_id="n").params == StrategyParams()


def test_instrument_selection() -> None:
    everything = NoParams(strategy_id="n")
    assert everything.instruments is None
    assert everything.wants("ANY:THING")
    some = NoParams(strategy_id="n", instruments=["KRX:005930", "KRX:005930", "KRX:000660"])
    assert some.instruments == frozenset({"KRX:005930", "KRX:000660"})
    assert some.wants("KRX:000660")
    assert not some.wants("KRX:035420")
    with pytest.raises(StrategyError, match="not a string"):
        NoParams(strategy_id="n", instruments="KRX:005930")
    with pytest.raises(StrategyError, match="strategy_id"):
        NoParams(strategy_id="")


def test_on_bar_is_required() -> None:
    class Incomplete(Strategy):
        name: ClassVar[str] = "incomplete"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(strategy_id="i")  # type: ignore[abstract]
