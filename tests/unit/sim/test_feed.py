from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from itertools import islice
from zoneinfo import ZoneInfo

from jts.domain.enums import Market
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.sim.feed import SimulatedBarFeed
from jts.sim.feed import demo_instruments
from jts.sim.feed import synthetic_krx_instruments

SEOUL = ZoneInfo("Asia/Seoul")


def closes(feed: SimulatedBarFeed) -> list[tuple[str, int, Decimal]]:
    return [(bar.instrument_id, bar.ts, bar.close) for batch in feed for bar in batch.bars]


def test_same_seed_same_bars_and_a_new_seed_new_bars(xkrx) -> None:
    def make(seed: int) -> SimulatedBarFeed:
        return SimulatedBarFeed(demo_instruments(), xkrx, date(2026, 3, 3), 1, seed)

    first = closes(make(5))
    assert first == closes(make(5))
    feed = make(5)
    assert closes(feed) == closes(feed)  # iterating again replays the same data
    assert first != closes(make(6))


def test_prices_stay_on_the_tick_grid_and_inside_the_daily_limit(xkrx) -> None:
    instruments = demo_instruments() + synthetic_krx_instruments(40)
    feed = SimulatedBarFeed(instruments, xkrx, date(2026, 3, 3), 3, seed=1, minute_volatility=0.01)
    by_id = {instrument.key: instrument for instrument in instruments}
    reference = feed.reference_prices()
    session_close: dict[str, Decimal] = {}
    session = None
    hit_limit = False
    for batch in feed:
        day = xkrx.session_of(batch.bars[0].ts)
        if day != session:
            if session is not None:
                reference = dict(session_close)
            session = day
        for bar in batch.bars:
            instrument = by_id[bar.instrument_id]
            lower, upper = instrument.price_limits(reference[bar.instrument_id])
            for price in (bar.open, bar.high, bar.low, bar.close):
                assert instrument.tick_rule.is_on_grid(price), (bar, price)
                assert lower <= price <= upper, (bar, lower, upper)
            hit_limit = hit_limit or bar.high == upper or bar.low == lower
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
            session_close[bar.instrument_id] = bar.close
    assert hit_limit  # with 1% a minute some symbols reach the limit, and stop there


def test_batches_are_stamped_with_the_bar_close_inside_sessions(xkrx) -> None:
    feed = SimulatedBarFeed(demo_instruments(), xkrx, date(2026, 1, 2), 2, seed=3)
    batches = list(feed)
    first_day = [b for b in batches if xkrx.session_of(b.bars[0].ts) == date(2026, 1, 2)]
    # The first trading day of the year opens at 10:00 KST: 10:00-15:30 is 330 minutes.
    assert len(first_day) == 330
    assert first_day[0].bars[0].ts == dt_to_ns(datetime(2026, 1, 2, 10, 0, tzinfo=SEOUL))
    assert len(batches) == 330 + 390
    for batch in batches:
        assert len(batch.bars) == 5
        assert {bar.ts for bar in batch.bars} == {batch.ts - NANOS_PER_MINUTE}
        assert xkrx.is_open(batch.bars[0].ts)
    assert [b.ts for b in batches] == sorted(b.ts for b in batches)


def test_sessions_skip_holidays(xkrx) -> None:
    feed = SimulatedBarFeed(demo_instruments(), xkrx, date(2026, 2, 16), 2, seed=3)
    assert feed.session_dates == [date(2026, 2, 19), date(2026, 2, 20)]


def test_volume_is_u_shaped_in_shares(xkrx) -> None:
    feed = SimulatedBarFeed(synthetic_krx_instruments(50), xkrx, date(2026, 3, 3), 1, seed=9)
    per_minute = [sum(bar.volume for bar in batch.bars) for batch in feed]
    opening, middle, closing = per_minute[:30], per_minute[180:210], per_minute[-30:]
    assert sum(opening) > 2 * sum(middle)
    assert sum(closing) > 2 * sum(middle)
    assert all(volume == volume.to_integral_value() for volume in per_minute)


def test_start_prices_are_realistic_and_overridable(xkrx) -> None:
    feed = SimulatedBarFeed(demo_instruments(), xkrx, date(2026, 3, 3), 1, seed=0)
    assert feed.reference_prices()["KRX:005930"] == Decimal(70_000)
    assert feed.reference_prices()["KRX:005380"] == Decimal(250_000)
    custom = SimulatedBarFeed(
        demo_instruments(), xkrx, date(2026, 3, 3), 1, start_prices={"KRX:005930": Decimal(70_070)}
    )
    assert custom.reference_prices()["KRX:005930"] == Decimal(70_100)  # snapped to the grid


def test_many_symbols_are_generated_lazily(xkrx) -> None:
    feed = SimulatedBarFeed(synthetic_krx_instruments(1_800), xkrx, date(2026, 3, 3), 250, seed=2)
    first_two = list(islice(feed, 2))
    assert [len(batch.bars) for batch in first_two] == [1_800, 1_800]
    assert len(feed.session_dates) == 250


def test_demo_and_synthetic_instruments() -> None:
    demo = demo_instruments()
    assert [(i.id.code, i.name) for i in demo][:2] == [
        ("005930", "Samsung Electronics"),
        ("000660", "SK hynix"),
    ]
    assert all(i.market is Market.KOSPI and i.daily_limit == Decimal("0.30") for i in demo)
    synthetic = synthetic_krx_instruments(1_800)
    codes = [i.id.code for i in synthetic]
    assert len(set(codes)) == 1_800
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert {i.market for i in synthetic} == {Market.KOSPI, Market.KOSDAQ}


def test_prices_of_a_session_before_2023_are_on_that_days_ladders(xkrx) -> None:
    """Before 2023-01-25 KOSPI ticked 50 from 10,000 and KOSDAQ 100 from 50,000."""
    instruments = demo_instruments() + synthetic_krx_instruments(40)
    day = date(2022, 6, 2)
    feed = SimulatedBarFeed(instruments, xkrx, day, 1, seed=3)
    by_id = {instrument.key: instrument for instrument in instruments}
    coarser = 0
    for batch in islice(feed, 30):
        for bar in batch.bars:
            rule = by_id[bar.instrument_id].tick_rule_on(day)
            for price in (bar.open, bar.high, bar.low, bar.close):
                assert rule.is_on_grid(price), (bar, price)
                coarser += rule.tick_at(price) != by_id[bar.instrument_id].tick_rule.tick_at(price)
    assert coarser > 0  # some prices sit in bands where the old ladders differ
    assert {i.market for i in instruments} >= {Market.KOSPI, Market.KOSDAQ}
