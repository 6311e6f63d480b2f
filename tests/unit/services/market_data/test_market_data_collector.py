"""The collector on real parts: chDB bar store on tmp_path, in-process bus.

chDB runs one engine per process on one data directory, so the store fixture
always closes it, even when a test fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from jts.brokers.common.calendars import known_calendar
from jts.bus.direct import DirectMessageBus
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.errors import StorageError
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.services.market_data import CollectorConfig
from jts.services.market_data import MarketDataCollector
from jts.storage.bar_journal import FileBarJournal
from jts.storage.bar_journal import journal_segments
from jts.storage.bar_journal import read_segment
from jts.storage.bar_journal import recover_journal
from jts.storage.clickhouse.store import ClickHouseBarStore

Observe = Callable[[str], list[Event]]

SAMSUNG = "KRX:005930"
HYNIX = "KRX:000660"
T0 = dt_to_ns(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
DAY = (T0, T0 + 24 * 60 * NANOS_PER_MINUTE)


def bar(
    instrument_id: str,
    minute: int,
    close: int = 100,
    *,
    offset_ns: int = 0,
    timeframe: Timeframe = Timeframe.M1,
) -> Bar:
    price = Decimal(close)
    ts = T0 + minute * NANOS_PER_MINUTE + offset_ns
    return Bar(instrument_id, timeframe, ts, price, price, price, price, Decimal(10))


def batch(*bars: Bar, ticks: tuple[Tick, ...] = ()) -> MarketDataBatch:
    return MarketDataBatch(ts=max(b.close_ts for b in bars), bars=bars, ticks=ticks)


@pytest.fixture
async def bar_store(tmp_path: Path) -> AsyncIterator[ClickHouseBarStore]:
    opened = await ClickHouseBarStore.open(None, tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


async def stored(store: ClickHouseBarStore, instrument_id: str) -> list[tuple[int, int]]:
    """(open time, close) of every stored bar; the test prices are whole numbers."""
    return [(b.ts, int(b.close)) for b in await store.read_bars(instrument_id, *DAY)]


def published(events: list[Event]) -> list[tuple[str, int, Decimal]]:
    return [(e.bar.instrument_id, e.bar.ts, e.bar.close) for e in events if isinstance(e, BarEvent)]


async def test_bars_go_to_the_store_and_the_bus(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, observe: Observe
) -> None:
    bars_seen = observe(topics.MARKET_BARS)
    ticks_seen = observe(topics.MARKET_TICKS)
    collector = MarketDataCollector(bus, SimClock(T0), bar_store, CollectorConfig(flush_bars=4))
    await collector.start()
    tick = Tick(SAMSUNG, T0 + 30 * 10**9, Decimal(101), Decimal(3))
    await collector.ingest(batch(bar(SAMSUNG, 0, 100), bar(HYNIX, 0, 200), ticks=(tick,)))
    await collector.ingest(batch(bar(SAMSUNG, 1, 101), bar(HYNIX, 1, 201)))
    await bus.drain()

    # Four bars reached the flush size: written in one batch, and every one published.
    assert await stored(bar_store, SAMSUNG) == [(T0, 100), (T0 + NANOS_PER_MINUTE, 101)]
    assert await stored(bar_store, HYNIX) == [(T0, 200), (T0 + NANOS_PER_MINUTE, 201)]
    assert sorted(published(bars_seen)) == sorted(
        [
            (SAMSUNG, T0, Decimal(100)),
            (HYNIX, T0, Decimal(200)),
            (SAMSUNG, T0 + NANOS_PER_MINUTE, Decimal(101)),
            (HYNIX, T0 + NANOS_PER_MINUTE, Decimal(201)),
        ]
    )
    assert len(ticks_seen) == 1
    assert (collector.stats.bars, collector.stats.stored, collector.stats.ticks) == (4, 4, 1)
    await collector.stop()


async def test_bad_bars_are_quarantined_neither_stored_nor_published(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, observe: Observe
) -> None:
    bars_seen = observe(topics.MARKET_BARS)
    collector = MarketDataCollector(bus, SimClock(T0), bar_store)
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0, 100), bar(SAMSUNG, 1, 101)))
    await collector.ingest(batch(bar(SAMSUNG, 1, 999)))  # duplicate minute
    await collector.ingest(batch(bar(SAMSUNG, 0, 998)))  # older than the last bar
    await collector.ingest(batch(bar(SAMSUNG, 2, 997, offset_ns=1_000_000_000)))  # 09:02:01
    await collector.ingest(batch(bar(SAMSUNG, 5, 996, timeframe=Timeframe.M5)))  # not one-minute
    await collector.ingest(batch(bar(SAMSUNG, 2, 102)))  # the feed recovers
    await bus.drain()
    await collector.stop()  # flushes

    assert await stored(bar_store, SAMSUNG) == [
        (T0, 100),
        (T0 + NANOS_PER_MINUTE, 101),
        (T0 + 2 * NANOS_PER_MINUTE, 102),
    ]
    assert [close for _, _, close in published(bars_seen)] == [100, 101, 102]
    assert collector.stats.quarantined == 4
    assert collector.quarantine.total == 4
    reasons = [item.reason for item in collector.quarantine.items]
    assert sum("not newer than the last bar" in r for r in reasons) == 2
    assert sum("aligned to the minute" in r for r in reasons) == 2
    assert all("99" in item.item for item in collector.quarantine.items)


async def test_a_research_collector_takes_daily_bars_and_still_refuses_old_ones(
    bus: InProcessMessageBus, observe: Observe
) -> None:
    bars_seen = observe(topics.MARKET_BARS)
    collector = MarketDataCollector(
        bus, SimClock(T0), None, CollectorConfig(calendars=None, minute_bars_only=False)
    )
    await collector.start()
    day = 24 * 60
    for minute, close in ((0, 100), (day, 101), (0, 99)):  # the last one is older
        await collector.ingest(batch(bar("RESEARCH:GOOG", minute, close, timeframe=Timeframe.D1)))
    await bus.drain()
    await collector.stop()
    assert [close for _, _, close in published(bars_seen)] == [100, 101]
    [refused] = collector.quarantine.items
    assert "not newer than the last bar" in refused.reason


async def test_bars_failing_the_shared_bar_checks_are_quarantined(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, observe: Observe
) -> None:
    bars_seen = observe(topics.MARKET_BARS)
    config = CollectorConfig(calendars=known_calendar, max_jump=Decimal("0.30"))
    collector = MarketDataCollector(bus, SimClock(T0), bar_store, config)
    await collector.start()
    infinite = Bar(SAMSUNG, Timeframe.M1, T0 + NANOS_PER_MINUTE, *(Decimal("Infinity"),) * 4,
                   Decimal(1))  # fmt: skip
    await collector.ingest(batch(bar(SAMSUNG, 0, 100)))
    await collector.ingest(batch(infinite))
    await collector.ingest(batch(bar('KRX:00"5930', 1, 100)))  # a quote in the id
    await collector.ingest(batch(bar(SAMSUNG, 2, 200)))  # doubles: kept, flagged
    await collector.ingest(batch(bar(SAMSUNG, 7 * 60, 200)))  # 16:00 KST
    await bus.drain()
    await collector.stop()

    assert await stored(bar_store, SAMSUNG) == [(T0, 100), (T0 + 2 * NANOS_PER_MINUTE, 200)]
    assert [close for _, _, close in published(bars_seen)] == [100, 200]
    reasons = [item.reason for item in collector.quarantine.items]
    assert len(reasons) == 3
    assert "Infinity is not a finite number" in reasons[0]
    assert "a KRX code is 6" in reasons[1]
    assert "16:00 Tue (Asia/Seoul) is not a trading minute" in reasons[2]
    assert collector.stats.flagged == 1


async def test_stop_flushes_the_buffer(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore
) -> None:
    collector = MarketDataCollector(bus, SimClock(T0), bar_store, CollectorConfig(flush_bars=100))
    await collector.start()
    for minute in range(3):
        await collector.ingest(batch(bar(SAMSUNG, minute, 100 + minute)))
    await bus.drain()
    assert await stored(bar_store, SAMSUNG) == []  # still buffered
    assert collector.stats.stored == 0

    await collector.stop()
    assert [close for _, close in await stored(bar_store, SAMSUNG)] == [100, 101, 102]
    assert collector.stats.stored == 3


async def test_a_bar_already_in_the_store_is_not_counted_as_stored(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore
) -> None:
    # A restarted collector does not remember the last run's bars; the store does.
    await bar_store.write_bars([bar(SAMSUNG, 0, 100)])
    collector = MarketDataCollector(bus, SimClock(T0), bar_store)
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0, 100), bar(HYNIX, 0, 200)))
    await collector.stop()
    assert collector.stats.stored == 1
    assert await stored(bar_store, SAMSUNG) == [(T0, 100)]


class _OutageStore:
    """A BarStore whose first writes fail, as a store that is briefly unreachable would."""

    def __init__(self, inner: ClickHouseBarStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def write_bars(self, bars: Sequence[Bar]) -> int:
        if self.failures:
            self.failures -= 1
            raise StorageError("store unreachable")
        return await self.inner.write_bars(bars)

    async def read_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe = Timeframe.M1
    ) -> list[Bar]:
        return await self.inner.read_bars(instrument_id, start_ns, end_ns, timeframe)

    async def latest_bars(self, instrument_ids: Sequence[str] | None = None) -> dict[str, Bar]:
        return await self.inner.latest_bars(instrument_ids)

    async def instruments(self) -> list[str]:
        return await self.inner.instruments()

    async def close(self) -> None:
        return None


async def test_a_failed_store_write_keeps_the_bars_for_the_next_flush(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore
) -> None:
    store = _OutageStore(bar_store, failures=1)
    collector = MarketDataCollector(bus, SimClock(T0), store, CollectorConfig(flush_bars=2))
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0, 100)))
    with pytest.raises(StorageError):
        await collector.ingest(batch(bar(SAMSUNG, 1, 101)))
    await collector.ingest(batch(bar(SAMSUNG, 2, 102)))
    await collector.stop()
    assert [close for _, close in await stored(bar_store, SAMSUNG)] == [100, 101, 102]


async def test_a_batch_is_journalled_before_it_is_published(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, tmp_path: Path
) -> None:
    journal = FileBarJournal(tmp_path / "journal")
    journalled_when_published: list[int] = []

    async def on_bar(event: Event) -> None:
        # What a crash right now would leave: the journal must already hold this bar.
        segments = journal_segments(tmp_path / "journal")
        journalled_when_published.append(sum(len(read_segment(p).bars) for p in segments))

    bus.subscribe(topics.MARKET_BARS, on_bar, group="probe")
    collector = MarketDataCollector(
        bus, SimClock(T0), bar_store, CollectorConfig(flush_bars=100), journal
    )
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0, 100)))
    await bus.drain()
    await collector.ingest(batch(bar(SAMSUNG, 1, 101)))
    await bus.drain()
    assert journalled_when_published == [1, 2]
    assert await stored(bar_store, SAMSUNG) == []  # below the flush size: journal only

    # A crash now: a new process recovers both bars into the store before resuming.
    journal.close()
    recovered = FileBarJournal(tmp_path / "journal")
    assert await recover_journal(recovered, bar_store) == 2
    assert await stored(bar_store, SAMSUNG) == [(T0, 100), (T0 + NANOS_PER_MINUTE, 101)]
    assert recovered.pending() == []
    recovered.close()
    assert FileBarJournal(tmp_path / "journal").pending() == []
    await collector.stop()


async def test_a_flush_releases_only_the_journal_it_stored(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, tmp_path: Path
) -> None:
    journal = FileBarJournal(tmp_path / "journal")
    collector = MarketDataCollector(
        bus, SimClock(T0), bar_store, CollectorConfig(flush_bars=2), journal
    )
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0), bar(HYNIX, 0)))  # flushed
    await collector.ingest(batch(bar(SAMSUNG, 1)))  # journalled, not yet stored
    journal.close()
    assert [b.ts for b in FileBarJournal(tmp_path / "journal").pending()] == [T0 + NANOS_PER_MINUTE]
    await collector.stop()


async def test_the_same_minute_is_always_the_same_event(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, observe: Observe
) -> None:
    seen = observe(topics.MARKET_BARS)
    first = MarketDataCollector(bus, SimClock(T0), bar_store)
    await first.start()
    await first.ingest(batch(bar(SAMSUNG, 0, 100)))
    # A restarted collector (fresh memory) publishes the minute again: same event id.
    second = MarketDataCollector(bus, SimClock(T0), bar_store)
    await second.start()
    await second.ingest(batch(bar(SAMSUNG, 0, 100)))
    await bus.drain()
    ids = {e.event_id for e in seen}
    assert len(ids) == 1
    await first.stop()
    await second.stop()


async def test_a_restarted_live_collector_skips_minutes_already_published(
    bus: InProcessMessageBus, bar_store: ClickHouseBarStore, observe: Observe
) -> None:
    seen = observe(topics.MARKET_BARS)
    collector = MarketDataCollector(bus, SimClock(T0), bar_store)
    collector.resume_after({SAMSUNG: T0 + NANOS_PER_MINUTE})
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 1, 101), bar(HYNIX, 1, 201)))
    await collector.ingest(batch(bar(SAMSUNG, 2, 102)))
    await bus.drain()
    assert sorted(published(seen)) == [
        (HYNIX, T0 + NANOS_PER_MINUTE, Decimal(201)),
        (SAMSUNG, T0 + 2 * NANOS_PER_MINUTE, Decimal(102)),
    ]
    await collector.stop()


async def test_bars_checked_upstream_skip_the_bar_checks_but_not_order_and_shape(
    bus: InProcessMessageBus, observe: Observe
) -> None:
    bars_seen = observe(topics.MARKET_BARS)
    config = CollectorConfig(
        calendars=known_calendar, max_jump=Decimal("0.30"), checked_upstream=True
    )
    collector = MarketDataCollector(bus, SimClock(T0), None, config)
    await collector.start()
    await collector.ingest(batch(bar(SAMSUNG, 0, 100)))
    await collector.ingest(batch(bar(SAMSUNG, 1, 200)))  # a jump the checks would flag
    await collector.ingest(batch(bar(SAMSUNG, 1, 300)))  # duplicate minute: still refused
    await collector.ingest(batch(bar(SAMSUNG, 7 * 60, 200)))  # 16:00 KST: passed upstream
    await collector.ingest(batch(bar(SAMSUNG, 8 * 60, 200, timeframe=Timeframe.M5)))
    await bus.drain()
    await collector.stop()

    assert [close for _, _, close in published(bars_seen)] == [100, 200, 200]
    assert collector.stats.flagged == 0
    reasons = [item.reason for item in collector.quarantine.items]
    assert len(reasons) == 2
    assert "not newer than the last bar" in reasons[0]
    assert "aligned to the minute" in reasons[1]


async def test_one_at_a_time_each_bar_is_handled_before_the_next_is_published() -> None:
    bus = DirectMessageBus()
    order: list[str] = []

    async def strategy(event: Event) -> None:
        assert isinstance(event, BarEvent)
        order.append(f"bar {event.bar.instrument_id}")
        await asyncio.sleep(0)  # a handler that yields must not let the next bar in
        await bus.publish(topics.SIGNALS, event)  # what the bar caused, on the next topic

    async def execution(event: Event) -> None:
        assert isinstance(event, BarEvent)
        order.append(f"signal {event.bar.instrument_id}")

    bus.subscribe(topics.MARKET_BARS, strategy, group="strategy")
    bus.subscribe(topics.SIGNALS, execution, group="execution")
    await bus.start()
    config = CollectorConfig(publish_concurrently=False)
    collector = MarketDataCollector(bus, SimClock(T0), None, config)
    await collector.start()
    await collector.ingest(batch(bar(HYNIX, 0), bar(SAMSUNG, 0)))
    await bus.drain()
    await collector.stop()
    await bus.stop()

    assert order == [f"bar {HYNIX}", f"signal {HYNIX}", f"bar {SAMSUNG}", f"signal {SAMSUNG}"]
