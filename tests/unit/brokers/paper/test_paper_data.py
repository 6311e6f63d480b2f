from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.paper.data import PaperMarketDataClient
from jts.brokers.paper.data import batches_from_bars
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns

SAMSUNG = krx_stock("005930", "Samsung Electronics")
HYNIX = krx_stock("000660", "SK hynix")
MIN = NANOS_PER_MINUTE


def seoul(day: int, hh: int, mm: int) -> int:
    return dt_to_ns(datetime(2026, 3, day, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")))


def bar(instrument_id: str, ts: int, price: int, volume: int = 10) -> Bar:
    p = Decimal(price)
    return Bar(instrument_id, Timeframe.M1, ts, p, p + 100, p - 100, p, Decimal(volume))


def minute_bars(instrument_id: str, start: int, prices: list[int]) -> list[Bar]:
    return [bar(instrument_id, start + i * MIN, price) for i, price in enumerate(prices)]


class MemoryBarStore:
    """A BarStore port kept in a list: enough to replay without a database."""

    def __init__(self, bars: Sequence[Bar]) -> None:
        self.bars = list(bars)
        self.reads: list[tuple[str, int, int]] = []

    async def write_bars(self, bars: Sequence[Bar]) -> int:
        self.bars += bars
        return len(bars)

    async def read_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe = Timeframe.M1
    ) -> list[Bar]:
        self.reads.append((instrument_id, start_ns, end_ns))
        found = [
            b for b in self.bars if b.instrument_id == instrument_id and start_ns <= b.ts < end_ns
        ]
        return sorted(found, key=lambda b: b.ts)

    async def latest_bars(self, instrument_ids: Sequence[str] | None = None) -> dict[str, Bar]:
        return {}

    async def instruments(self) -> list[str]:
        return sorted({b.instrument_id for b in self.bars})

    async def close(self) -> None:
        return None


async def collect(client: PaperMarketDataClient) -> list[MarketDataBatch]:
    return [batch async for batch in client.stream()]


def test_bars_are_grouped_by_close_time() -> None:
    start = seoul(3, 9, 0)
    bars = minute_bars(HYNIX.key, start, [180_000, 180_100]) + minute_bars(
        SAMSUNG.key, start, [70_000, 70_100]
    )
    batches = batches_from_bars(reversed(bars))
    assert [b.ts for b in batches] == [start + MIN, start + 2 * MIN]
    assert [bar.instrument_id for bar in batches[0].bars] == [HYNIX.key, SAMSUNG.key]


async def test_prices_and_history_come_only_from_what_was_streamed() -> None:
    start = seoul(3, 9, 0)
    client = PaperMarketDataClient.from_bars(
        minute_bars(SAMSUNG.key, start, [70_000, 70_100, 70_200, 70_300, 70_400, 70_500]),
        [SAMSUNG],
    )
    assert await client.instruments() == [SAMSUNG]
    assert await client.latest_price(SAMSUNG.key) is None
    seen = 0
    async for batch in client.stream():
        seen += 1
        history = await client.historical_bars(SAMSUNG.key, 0, batch.ts + 10 * MIN, Timeframe.M1)
        assert len(history) == seen  # nothing from the future
        assert await client.latest_price(SAMSUNG.key) == batch.bars[0].close
    five = await client.historical_bars(SAMSUNG.key, 0, start + 10 * MIN, Timeframe.M5)
    assert [(b.ts, b.open, b.close, b.volume) for b in five] == [
        (start, Decimal(70_000), Decimal(70_400), Decimal(50)),
        (start + 5 * MIN, Decimal(70_500), Decimal(70_500), Decimal(10)),
    ]


async def test_history_is_bounded() -> None:
    start = seoul(3, 9, 0)
    bars = minute_bars(SAMSUNG.key, start, [70_000 + 100 * i for i in range(10)])
    client = PaperMarketDataClient.from_bars(bars, [SAMSUNG], history_limit=3)
    await collect(client)
    kept = await client.historical_bars(SAMSUNG.key, 0, start + 60 * MIN, Timeframe.M1)
    assert [b.close for b in kept] == [Decimal(70_700), Decimal(70_800), Decimal(70_900)]


async def test_async_sources_ticks_and_disconnect() -> None:
    start = seoul(3, 9, 0)

    async def source() -> AsyncIterator[MarketDataBatch]:
        for i in range(5):
            tick = Tick(SAMSUNG.key, start + i, Decimal(70_000 + i * 100), Decimal(1))
            yield MarketDataBatch(start + i, ticks=(tick,))

    client = PaperMarketDataClient(source(), [SAMSUNG])
    got = []
    async for batch in client.stream():
        got.append(batch)
        if len(got) == 2:
            await client.disconnect()
    assert len(got) == 2
    assert await client.latest_price(SAMSUNG.key) == Decimal(70_100)


async def test_replay_from_the_store_day_by_day_without_look_ahead() -> None:
    day1 = minute_bars(SAMSUNG.key, seoul(3, 9, 0), [70_000, 70_100]) + minute_bars(
        HYNIX.key, seoul(3, 9, 0), [180_000, 180_500]
    )
    day2 = minute_bars(SAMSUNG.key, seoul(4, 9, 0), [71_000, 71_100])
    warmup = minute_bars(SAMSUNG.key, seoul(2, 15, 0), [69_000])
    store = MemoryBarStore(warmup + day1 + day2)
    start, end = seoul(3, 0, 0), seoul(5, 0, 0)
    client = PaperMarketDataClient.from_store(store, [SAMSUNG.key, HYNIX.key], start, end)
    assert [i.key for i in await client.instruments()] == [SAMSUNG.key, HYNIX.key]
    before = await client.historical_bars(SAMSUNG.key, 0, end, Timeframe.M1)
    assert [b.close for b in before] == [Decimal(69_000)]  # only what precedes the replay
    batches = []
    async for batch in client.stream():
        batches.append(batch)
        if batch.ts == seoul(3, 9, 2):
            history = await client.historical_bars(SAMSUNG.key, 0, end, Timeframe.M1)
            assert [b.close for b in history] == [Decimal(69_000), Decimal(70_000), Decimal(70_100)]
    assert [len(b.bars) for b in batches] == [2, 2, 1, 1]
    assert [b.ts for b in batches] == sorted(b.ts for b in batches)
    assert len(store.reads) > 2  # read a day at a time, not all at once
    assert await client.latest_price(HYNIX.key) == Decimal(180_500)


def test_store_replay_needs_instruments_it_cannot_infer() -> None:
    store = MemoryBarStore([])
    with pytest.raises(ConfigurationError):
        PaperMarketDataClient.from_store(store, ["UPBIT:KRW-BTC"], 0, 1)
