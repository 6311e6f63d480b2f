from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jts.strategy.indicators import EMA
from jts.strategy.indicators import SMA
from jts.strategy.indicators import crossed_above
from jts.strategy.indicators import crossed_below
from jts.strategy.indicators import sma


def test_roadmap_example() -> None:
    assert sma([100, 102, 101, 103, 105], 3) == [101, 102, 103]


def test_sma_is_decimal_and_reads_floats_as_written() -> None:
    result = sma([0.1, 0.2, 0.3], 3)
    assert result == [Decimal("0.2")]
    assert all(isinstance(v, Decimal) for v in result)
    assert sma([Decimal("1.5"), Decimal("2.5")], 2) == [Decimal("2")]
    assert sma([1, 2], 3) == []
    assert sma([], 1) == []


@pytest.mark.parametrize("period", [0, -1, 2.5, True])
def test_period_must_be_a_positive_int(period: object) -> None:
    with pytest.raises(ValueError, match="period"):
        sma([1, 2, 3], period)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="period"):
        SMA(period)  # type: ignore[arg-type]


def test_streaming_sma_warms_up_then_slides() -> None:
    avg = SMA(3)
    assert [avg.update(v) for v in [100, 102, 101, 103, 105]] == [None, None, 101, 102, 103]
    assert avg.ready
    assert avg.value == 103
    avg.reset()
    assert avg.value is None
    assert not avg.ready
    assert avg.update(7) is None


prices = st.lists(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000000"), places=4),
    max_size=60,
)


@given(values=prices, period=st.integers(min_value=1, max_value=12))
def test_batch_and_streaming_sma_agree(values: list[Decimal], period: int) -> None:
    streaming = SMA(period)
    outputs = [streaming.update(v) for v in values]
    assert [v for v in outputs if v is not None] == sma(values, period)
    assert outputs[: period - 1] == [None] * min(period - 1, len(values))


def test_ema_is_seeded_with_the_sma_then_smooths() -> None:
    ema = EMA(3)  # alpha = 0.5
    assert ema.update(1) is None
    assert ema.update(2) is None
    assert ema.update(3) == Decimal(2)
    assert ema.update(6) == Decimal(4)
    assert ema.update(2) == Decimal(3)
    assert ema.ready
    ema.reset()
    assert ema.value is None


def test_ema_of_a_constant_is_the_constant() -> None:
    ema = EMA(10)
    values = [ema.update(Decimal("70150")) for _ in range(50)]
    assert values[-1] == Decimal("70150")


def test_cross_helpers() -> None:
    d = Decimal
    assert crossed_above(d(1), d(2), d(3), d(2))
    assert crossed_above(d(2), d(2), d(3), d(2))  # from equal to above counts
    assert not crossed_above(d(3), d(2), d(4), d(2))  # already above: no new cross
    assert not crossed_above(d(1), d(2), d(2), d(2))  # touching is not crossing
    assert crossed_below(d(3), d(2), d(1), d(2))
    assert not crossed_below(d(1), d(2), d(0), d(2))
    assert not crossed_below(d(1), d(2), d(3), d(2))
