from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from jts.domain.enums import Side
from jts.domain.errors import StrategyError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.signals import Signal
from jts.strategy.base import Strategy
from jts.strategy.guard import run_guarded
from jts.strategy.registry import create_strategy
from jts.strategy.sma_cross import SmaCrossParams
from jts.strategy.sma_cross import SmaCrossStrategy

T0 = 1_700_000_000_000_000_000
SAMSUNG = "KRX:005930"
HYNIX = "KRX:000660"


def _bar(instrument: str, i: int, close: float | int, tf: Timeframe = Timeframe.M1) -> Bar:
    price = Decimal(str(close))
    return Bar(instrument, tf, T0 + i * tf.nanos, price, price, price, price, Decimal(100))


def _feed(strategy: Strategy, instrument: str, closes: Sequence[float | int], start: int = 0):  # type: ignore[no-untyped-def]
    """Signals per bar index."""
    out: dict[int, list[Signal]] = {}
    for offset, close in enumerate(closes):
        signals = run_guarded(strategy, _bar(instrument, start + offset, close))
        if signals:
            out[start + offset] = signals
    return out


def test_roadmap_e2e_one_buy_on_the_cross_then_a_sell() -> None:
    strategy = create_strategy("sma_cross", "sma-1", [SAMSUNG], {})
    assert isinstance(strategy, SmaCrossStrategy)
    assert (strategy.params.fast, strategy.params.slow) == (5, 20)
    strategy.on_start()
    falling = [200 - i for i in range(30)]  # fast below slow once both are warm
    rising = [171 + 3 * i for i in range(1, 21)]
    out = _feed(strategy, SAMSUNG, falling + rising)
    assert len(out) == 1
    [(index, [buy])] = out.items()
    assert index >= 30
    bar = _bar(SAMSUNG, index, (falling + rising)[index])
    assert buy.side is Side.BUY
    assert buy.instrument_id == SAMSUNG
    assert buy.strategy_id == "sma-1"
    assert buy.price == bar.close
    assert buy.ts == bar.close_ts
    assert buy.reason.startswith("SMA5 crossed above SMA20 (")

    falling_again = [rising[-1] - 4 * i for i in range(1, 21)]
    later = _feed(strategy, SAMSUNG, falling_again, start=50)
    assert [[s.side for s in sigs] for sigs in later.values()] == [[Side.SELL]]
    [sell] = next(iter(later.values()))
    assert sell.reason.startswith("SMA5 crossed below SMA20 (")


def test_reason_shows_both_averages() -> None:
    strategy = SmaCrossStrategy(strategy_id="s", params={"fast": 2, "slow": 3})
    out = _feed(strategy, SAMSUNG, [70100, 70100, 70200, 70100, 70000, 70300])
    assert [(i, [x.side for x in sigs]) for i, sigs in out.items()] == [
        (4, [Side.SELL]),
        (5, [Side.BUY]),
    ]
    assert out[4][0].reason == "SMA2 crossed below SMA3 (70050 < 70100)"
    assert out[5][0].reason == "SMA2 crossed above SMA3 (70150 > 70133.333)"
    out = _feed(strategy, SAMSUNG, [69000], start=6)
    assert out[6][0].reason == "SMA2 crossed below SMA3 (69650 < 69766.667)"


def test_no_signal_at_warm_up_or_while_staying_above() -> None:
    strategy = SmaCrossStrategy(strategy_id="s", params={"fast": 2, "slow": 4})
    # Fast is above slow from the first bar both are ready, and stays there: no cross.
    assert _feed(strategy, SAMSUNG, [10, 11, 12, 13, 14, 15, 16, 17]) == {}


def test_touching_is_not_crossing() -> None:
    strategy = SmaCrossStrategy(strategy_id="s", params={"fast": 1, "slow": 2})
    # fast=close, slow=avg of last two: above, equal (flat), above again -> nothing.
    assert _feed(strategy, SAMSUNG, [10, 11, 11, 12]) == {}
    # below, equal, above -> exactly one BUY, on the bar that goes above.
    out = _feed(strategy, SAMSUNG, [10, 10, 11], start=4)
    assert [(i, [s.side for s in sigs]) for i, sigs in out.items()] == [
        (4, [Side.SELL]),
        (6, [Side.BUY]),
    ]


def test_instruments_are_independent() -> None:
    strategy = SmaCrossStrategy(strategy_id="s", params={"fast": 2, "slow": 3})
    up = [10, 9, 8, 12]
    down = [8, 9, 10, 6]
    signals: list[Signal] = []
    for i, (a, b) in enumerate(zip(up, down, strict=True)):
        signals += run_guarded(strategy, _bar(SAMSUNG, i, a))
        signals += run_guarded(strategy, _bar(HYNIX, i, b))
    assert [(s.instrument_id, s.side) for s in signals] == [
        (SAMSUNG, Side.BUY),
        (HYNIX, Side.SELL),
    ]


def test_instrument_and_timeframe_filters() -> None:
    strategy = SmaCrossStrategy(
        strategy_id="s", instruments=[SAMSUNG], params={"fast": 2, "slow": 3, "timeframe": "1d"}
    )
    assert strategy.wants(SAMSUNG)
    assert not strategy.wants(HYNIX)
    assert _feed(strategy, HYNIX, [10, 9, 8, 12]) == {}
    # Minute bars do not feed the daily averages.
    assert _feed(strategy, SAMSUNG, [10, 9, 8, 12]) == {}
    daily = [
        run_guarded(strategy, _bar(SAMSUNG, i, c, Timeframe.D1))
        for i, c in enumerate([10, 9, 8, 12])
    ]
    assert [s.side for sigs in daily for s in sigs] == [Side.BUY]


def test_a_replayed_bar_does_not_count_twice() -> None:
    strategy = SmaCrossStrategy(strategy_id="s", params={"fast": 2, "slow": 3})
    _feed(strategy, SAMSUNG, [10, 9, 8])
    # Replaying bar 2 with another price would, if counted, drag the averages around.
    assert run_guarded(strategy, _bar(SAMSUNG, 2, 100)) == []
    assert run_guarded(strategy, _bar(SAMSUNG, 1, 100)) == []
    [buy] = run_guarded(strategy, _bar(SAMSUNG, 3, 12))
    assert buy.reason == "SMA2 crossed above SMA3 (10 > 9.6666667)"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"fast": 20, "slow": 5}, "fast (20) must be smaller than slow (5)"),
        ({"fast": 5, "slow": 5}, "fast (5) must be smaller than slow (5)"),
        ({"fast": 0}, "fast: Input should be greater than or equal to 1"),
        ({"slow": "twenty"}, "slow: Input should be a valid integer"),
        ({"fsat": 3}, "fsat: Extra inputs are not permitted"),
        ({"timeframe": "7m"}, "timeframe: Input should be"),
    ],
)
def test_bad_params_raise_strategy_error_naming_them(params: dict[str, object], named: str) -> None:
    with pytest.raises(StrategyError, match="bad params") as info:
        SmaCrossStrategy(strategy_id="bad", params=params)
    assert named in str(info.value)
    assert "bad (sma_cross)" in str(info.value)


def test_params_defaults_and_immutability() -> None:
    params = SmaCrossParams()
    assert (params.fast, params.slow, params.timeframe) == (5, 20, None)
    with pytest.raises(ValueError, match="frozen"):
        params.fast = 3  # type: ignore[misc]


def test_signal_ids_are_a_function_of_strategy_instrument_side_and_bar() -> None:
    from jts.domain.enums import Side
    from jts.domain.signals import signal_id_for

    first = signal_id_for("sma", "KRX:005930", Side.BUY, 1_000)
    assert first == signal_id_for("sma", "KRX:005930", Side.BUY, 1_000)
    others = {
        signal_id_for("sma2", "KRX:005930", Side.BUY, 1_000),
        signal_id_for("sma", "KRX:000660", Side.BUY, 1_000),
        signal_id_for("sma", "KRX:005930", Side.SELL, 1_000),
        signal_id_for("sma", "KRX:005930", Side.BUY, 1_001),
    }
    assert first not in others and len(others) == 4


def test_adjacent_crosses_happen_only_between_two_closes() -> None:
    params = {"fast": 1, "slow": 2, "cross": "adjacent"}
    adjacent = SmaCrossStrategy(strategy_id="s", params=params)
    # fast=close, slow=avg of last two; fast - slow from bar 1: -0.5, -0.5, 0, +0.5.
    # below, equal, above: the tie breaks the cross; the default counts a BUY through it.
    closes = [12, 11, 10, 10, 11]
    assert _feed(adjacent, SAMSUNG, closes) == {}
    through = SmaCrossStrategy(strategy_id="t", params={"fast": 1, "slow": 2})
    assert [(i, [s.side for s in sigs]) for i, sigs in _feed(through, SAMSUNG, closes).items()] == [
        (4, [Side.BUY])
    ]


def test_adjacent_crosses_fire_on_each_strict_change_of_side() -> None:
    params = {"fast": 1, "slow": 2, "cross": "adjacent"}
    strategy = SmaCrossStrategy(strategy_id="s", params=params)
    # fast - slow from bar 1: -0.5, +0.5, 0, -0.5, +1: a BUY at 2 and at 5, no SELL at 4
    # (from equal to below is no cross), where the default sells at 4.
    out = _feed(strategy, SAMSUNG, [11, 10, 11, 11, 10, 12])
    assert [(i, [s.side for s in sigs]) for i, sigs in out.items()] == [
        (2, [Side.BUY]),
        (5, [Side.BUY]),
    ]
    assert out[2][0].reason == "SMA1 crossed above SMA2 (11 > 10.5)"
    assert SmaCrossParams().cross == "through_ties"


def _reference_crosses(closes: Sequence[int], fast: int, slow: int, cross: str) -> list[int]:
    """Bars (index, +1 buy / -1 sell) of the cross rules over two ``indicators.SMA``."""
    from jts.strategy.indicators import SMA
    from jts.strategy.indicators import crossed_above
    from jts.strategy.indicators import crossed_below

    fast_sma, slow_sma = SMA(fast), SMA(slow)
    previous: tuple[Decimal, Decimal] | None = None
    out: list[int] = []
    for i, close in enumerate(closes):
        f, s = fast_sma.update(Decimal(close) / 4), slow_sma.update(Decimal(close) / 4)
        if f is None or s is None or (f == s and cross != "adjacent"):
            continue
        before, previous = previous, (f, s)
        if before is None:
            continue
        pf, ps = before
        if cross == "adjacent":
            up, down = pf < ps and f > s, pf > ps and f < s
        else:
            up, down = crossed_above(pf, ps, f, s), crossed_below(pf, ps, f, s)
        if up:
            out.append(i)
        elif down:
            out.append(-i)
    return out


@pytest.mark.parametrize("cross", ["through_ties", "adjacent"])
def test_the_one_window_averages_cross_exactly_where_two_sma_indicators_do(cross: str) -> None:
    import random

    rng = random.Random(8)
    # A narrow walk in quarters: many ties between the averages, many crosses.
    closes = [400]
    for _ in range(3_000):
        closes.append(max(4, closes[-1] + rng.choice((-1, 0, 1))))
    strategy = SmaCrossStrategy(strategy_id="ref", params={"fast": 3, "slow": 7, "cross": cross})
    got: list[int] = []
    for i, close in enumerate(closes):
        price = Decimal(close) / 4
        bar = Bar("KRX:A", Timeframe.M1, i * 60_000_000_000, price, price, price, price, Decimal(1))
        for signal in run_guarded(strategy, bar):
            got.append(i if signal.side is Side.BUY else -i)
    expected = _reference_crosses(closes, 3, 7, cross)
    assert len(expected) > 50
    assert got == expected
