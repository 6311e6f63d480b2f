from __future__ import annotations

from typing import ClassVar

import pytest

from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.strategy.base import Strategy
from jts.strategy.registry import STRATEGIES
from jts.strategy.registry import create_strategy
from jts.strategy.registry import register_strategy
from jts.strategy.sma_cross import SmaCrossStrategy


def test_sma_cross_is_registered_and_created_by_name() -> None:
    assert STRATEGIES["sma_cross"] is SmaCrossStrategy
    strategy = create_strategy("sma_cross", "mine", ["KRX:005930"], {"fast": 3, "slow": 7})
    assert isinstance(strategy, SmaCrossStrategy)
    assert strategy.strategy_id == "mine"
    assert strategy.instruments == frozenset({"KRX:005930"})
    assert (strategy.params.fast, strategy.params.slow) == (3, 7)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(StrategyError, match=r"unknown strategy 'SMA_Cross' \(known: .*sma_cross"):
        create_strategy("SMA_Cross", "x")


def test_bad_params_surface_through_create() -> None:
    with pytest.raises(StrategyError, match="fast"):
        create_strategy("sma_cross", "x", None, {"fast": 30})


def test_names_cannot_be_taken_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jts.strategy.registry.STRATEGIES", dict(STRATEGIES))

    class Impostor(Strategy):
        name: ClassVar[str] = "sma_cross"

        def on_bar(self, bar: Bar) -> None:
            return None

    class Unnamed(Strategy):
        def on_bar(self, bar: Bar) -> None:
            return None

    with pytest.raises(StrategyError, match="taken by SmaCrossStrategy"):
        register_strategy(Impostor)
    with pytest.raises(StrategyError, match="no registry name"):
        register_strategy(Unnamed)
    assert register_strategy(SmaCrossStrategy) is SmaCrossStrategy

    class Fresh(Strategy):
        name: ClassVar[str] = "fresh"

        def on_bar(self, bar: Bar) -> None:
            return None

    register_strategy(Fresh)
    assert isinstance(create_strategy("fresh", "f"), Fresh)
