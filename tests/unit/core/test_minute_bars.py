"""Minute bars from trade prints: boundaries, flushes and late prints."""

from __future__ import annotations

from decimal import Decimal

from jts.core.minute_bars import MinuteBarBuilder
from jts.domain.market import Tick
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import NANOS_PER_SECOND

T0 = 1_772_400_000 * NANOS_PER_SECOND  # a whole minute
A = "KRX:005930"


def tick(seconds: int, price: int, size: int = 10, instrument: str = A) -> Tick:
    return Tick(instrument, T0 + seconds * NANOS_PER_SECOND, Decimal(price), Decimal(size))


def test_a_later_minute_closes_the_bar() -> None:
    b = MinuteBarBuilder()
    assert b.add(tick(1, 100)) is None
    assert b.add(tick(20, 105)) is None
    assert b.add(tick(59, 98, 5)) is None
    bar = b.add(tick(61, 101))
    assert bar is not None
    assert (bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        T0,
        100,
        105,
        98,
        98,
        25,
    )


def test_flush_closes_quiet_instruments_and_late_prints_are_dropped() -> None:
    b = MinuteBarBuilder()
    b.add(tick(5, 100))
    b.add(tick(6, 200, instrument="KRX:000660"))
    assert b.close_before(T0 + 30 * NANOS_PER_SECOND) == []
    closed = b.close_before(T0 + NANOS_PER_MINUTE)
    assert sorted(bar.instrument_id for bar in closed) == ["KRX:000660", A]
    b.add(tick(65, 101))
    assert b.add(tick(30, 99)) is None  # belongs to a minute already emitted
    assert b.late == 1
