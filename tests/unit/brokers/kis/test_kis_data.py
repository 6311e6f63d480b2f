"""KIS quotes, candles and the real-time stream against the fake KIS server."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.kis_server import P_DAILY
from fakes.kis_server import P_MINUTE_DAY
from fakes.kis_venue import SAMSUNG
from fakes.kis_venue import kis_venue
from jts.brokers.kis.parsing import SEOUL
from jts.brokers.kis.parsing import kst_day
from jts.brokers.kis.parsing import kst_ns
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MINUTE
from waiting import eventually


def minute_rows(
    day: str, start: str, count: int
) -> list[tuple[str, str, Decimal, Decimal, Decimal, Decimal, int]]:
    first = datetime.strptime(day + start, "%Y%m%d%H%M%S")
    rows = []
    for i in range(count):
        t = first + timedelta(minutes=i)
        p = Decimal(70_000 + 100 * (i % 7))
        rows.append((day, t.strftime("%H%M%S"), p, p + 100, p - 100, p, 1_000 + i))
    return rows


async def test_latest_price(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        assert await h.market.latest_price(SAMSUNG) == 70_000


async def test_minute_history_of_past_days_and_today_is_paged_completely(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        today = datetime.now(SEOUL)
        past = today - timedelta(days=1)
        day_past, day_today = past.strftime("%Y%m%d"), today.strftime("%Y%m%d")
        h.fake.add_minute_bars("005930", minute_rows(day_past, "090000", 390))
        h.fake.add_minute_bars("005930", minute_rows(day_today, "090000", 95))
        start = kst_ns(day_past, "000000")
        end = kst_ns(day_today, "235959")
        bars = await h.market.historical_bars(SAMSUNG, start, end, Timeframe.M1)
        assert len(bars) == 390 + 95
        assert all(b.timeframe is Timeframe.M1 for b in bars)
        assert [b.ts for b in bars] == sorted({b.ts for b in bars})
        # 120 rows per past-day call, 30 per call for today.
        chart_calls = [r for r in h.fake.requests if "chartprice" in r[1]]
        assert len(chart_calls) >= 4 + 4


async def test_daily_history(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        days = []
        d = datetime(2026, 1, 2)
        while len(days) < 150:
            if d.weekday() < 5:
                days.append(
                    (
                        d.strftime("%Y%m%d"),
                        Decimal(70_000),
                        Decimal(71_000),
                        Decimal(69_000),
                        Decimal(70_500),
                        1_000_000,
                    )
                )
            d += timedelta(days=1)
        h.fake.add_daily_bars("005930", days)
        bars = await h.market.historical_bars(
            SAMSUNG, kst_ns(days[0][0], "000000"), kst_ns(days[-1][0], "235959"), Timeframe.D1
        )
        assert len(bars) == 150
        assert bars[0].close == Decimal(70_500)


# Midnight in Seoul at the end of a day, a month and a year (each a past day for the fake).
BOUNDARIES = [
    pytest.param("20260304", "20260303", id="day"),
    pytest.param("20260401", "20260331", id="month"),
    pytest.param("20260101", "20251231", id="year"),
]


@pytest.mark.parametrize(("midnight", "last_day"), BOUNDARIES)
def test_the_last_nanosecond_before_midnight_is_the_day_before(
    midnight: str, last_day: str
) -> None:
    end = kst_ns(midnight, "000000")
    assert kst_day(end - 1).strftime("%Y%m%d") == last_day
    assert kst_day(end).strftime("%Y%m%d") == midnight


def _asked(h: object, path: str, field: str) -> list[str]:
    fake = h.fake  # type: ignore[attr-defined]
    return [params[field] for p, params in fake.queries if p == path]


@pytest.mark.parametrize(("midnight", "last_day"), BOUNDARIES)
async def test_a_daily_range_ending_at_midnight_asks_for_no_extra_day(
    tmp_path: Path, midnight: str, last_day: str
) -> None:
    async with kis_venue(tmp_path) as h:
        p = Decimal(70_000)
        h.fake.add_daily_bars("005930", [(last_day, p, p, p, p, 1_000)])
        end = kst_ns(midnight, "000000")
        bars = await h.market.historical_bars(SAMSUNG, end - 3 * 86_400 * 10**9, end, Timeframe.D1)
        assert [kst_day(b.ts).strftime("%Y%m%d") for b in bars] == [last_day]
        assert _asked(h, P_DAILY, "FID_INPUT_DATE_2") == [last_day]


@pytest.mark.parametrize(("midnight", "last_day"), BOUNDARIES)
async def test_a_minute_range_ending_at_midnight_asks_for_no_extra_day(
    tmp_path: Path, midnight: str, last_day: str
) -> None:
    async with kis_venue(tmp_path) as h:
        h.fake.add_minute_bars("005930", minute_rows(last_day, "090000", 391))
        end = kst_ns(midnight, "000000")
        bars = await h.market.historical_bars(SAMSUNG, end - 86_400 * 10**9, end, Timeframe.M1)
        assert len(bars) == 391
        assert set(_asked(h, P_MINUTE_DAY, "FID_INPUT_DATE_1")) == {last_day}


async def test_a_past_day_is_paged_from_its_closing_auction_row(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        day = "20260303"
        rows = minute_rows(day, "090000", 390)  # 09:00 .. 15:29
        p = Decimal(70_300)
        rows.append((day, "153000", p, p, p, p, 250_000))  # the closing auction's one print
        h.fake.add_minute_bars("005930", rows)
        close = kst_ns(day, "153000")
        # The session's bars end with the minute opening at the close.
        bars = await h.market.historical_bars(
            SAMSUNG, kst_ns(day, "090000"), close + NANOS_PER_MINUTE, Timeframe.M1
        )
        assert len(bars) == 391
        assert bars[-1].ts == close and bars[-1].volume == 250_000
        assert _asked(h, P_MINUTE_DAY, "FID_INPUT_HOUR_1")[0] == "153059"


async def test_a_row_stamped_with_seconds_is_the_bar_of_its_minute(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        day = "20260303"
        p = Decimal(70_000)
        h.fake.add_minute_bars(
            "005930",
            [(day, "101500", p, p, p, p, 10), (day, "101612", p, p, p, p, 20)],
        )
        bars = await h.market.historical_bars(
            SAMSUNG, kst_ns(day, "101500"), kst_ns(day, "101700"), Timeframe.M1
        )
        assert [b.ts for b in bars] == [kst_ns(day, "101500"), kst_ns(day, "101600")]
        assert [b.volume for b in bars] == [10, 20]


async def test_stream_gives_ticks_and_survives_a_dropped_socket(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        received = h.streamed  # the harness consumes the stream, as the collector would
        realtime = h.session.realtime
        assert realtime is not None
        await eventually(lambda: ("H0STCNT0", "005930") in _subs(h))
        await h.set_price(Decimal(70_100))
        await eventually(lambda: any(b.ticks for b in received))
        h.fake.drop_websockets()
        await eventually(lambda: realtime.connects >= 2 and ("H0STCNT0", "005930") in _subs(h))
        await h.set_price(Decimal(70_200))
        await eventually(lambda: sum(1 for b in received if b.ticks) >= 2)
        prices = [b.ticks[0].price for b in received if b.ticks]
        assert prices[:2] == [Decimal(70_100), Decimal(70_200)]
        assert h.market.streamed == [SAMSUNG]
        await eventually(lambda: h.fake.pongs >= 1)  # PINGPONG answered


async def test_a_corrupt_frame_is_dropped_and_counted(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        realtime = h.session.realtime
        assert realtime is not None
        await realtime._data("0|H0STCNT0|001|005930^0901^not-a-price")
        await realtime._data("garbage")
        assert realtime.quarantined == 2


def _subs(h: object) -> set[tuple[str, str]]:
    fake = h.fake  # type: ignore[attr-defined]
    return set().union(*fake.ws_subscriptions.values()) if fake.ws_subscriptions else set()


async def test_order_book_subscription(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        assert h.market.watch_order_book(SAMSUNG)
        await eventually(lambda: ("H0STASP0", "005930") in _subs(h))
        await h.set_price(Decimal(70_000))
        await eventually(lambda: SAMSUNG in h.market.order_books)
        book = h.market.order_books[SAMSUNG]
        assert len(book.asks) == 10 and len(book.bids) == 10
        assert book.asks[0][0] == Decimal(70_100) and book.bids[0][0] == Decimal(70_000)
        assert book.spread == Decimal(100)
        assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
