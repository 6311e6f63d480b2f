"""CreonMarketData against the bridge over fake COM: instruments, quotes, charts, the stream."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path

from fakes.creon_venue import INSTRUMENT
from fakes.creon_venue import creon_venue
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from waiting import eventually

KST = timezone(timedelta(hours=9))


async def test_market_data(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as harness:
        market = harness.market
        assert await market.latest_price(INSTRUMENT) == Decimal(70_000)
        await harness.set_price(Decimal(70_100))
        assert await market.latest_price(INSTRUMENT) == Decimal(70_100)
        instruments = {i.key: i for i in await market.instruments()}
        assert instruments[INSTRUMENT].name == "삼성전자"
        today = harness.market_state.today
        midnight = dt_to_ns(datetime(today.year, today.month, today.day, tzinfo=KST))
        days = await market.historical_bars(
            INSTRUMENT, midnight - 10 * NANOS_PER_DAY, midnight + NANOS_PER_DAY, Timeframe.D1
        )
        assert days[-1].ts == midnight and days[-1].close == Decimal(70_100)
        assert [b.ts for b in days] == sorted(b.ts for b in days)
        session = midnight + 9 * 60 * NANOS_PER_MINUTE
        minutes = await market.historical_bars(
            INSTRUMENT, session, session + 30 * NANOS_PER_MINUTE, Timeframe.M1
        )
        assert [b.ts for b in minutes] == [session + k * NANOS_PER_MINUTE for k in range(30)]


async def test_harness_offers_what_the_contract_suite_needs(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as harness:
        assert harness.tick() == Decimal(100)
        start, end = await harness.seed_history()
        bars = await harness.market.historical_bars(INSTRUMENT, start, end, Timeframe.M1)
        assert len(bars) == 60
        before = len(harness.streamed)
        await harness.set_price(Decimal(70_100))
        await eventually(lambda: len(harness.streamed) > before)
        assert Decimal(70_100) in [t.price for t in harness.streamed[-1].ticks]
