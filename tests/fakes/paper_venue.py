"""The paper venue as a service on a real port, driven like a broker, for the contract suite."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.brokers.paper.remote import RemotePaperExecutionClient
from jts.brokers.paper.server import build_venue_api
from jts.core.clocks import SimClock
from jts.domain.enums import TimeInForce
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.ticks import TickRule
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from sockets import serve
from waiting import eventually

SAMSUNG = "KRX:005930"
TOKEN = secrets.token_urlsafe(32)
SESSION_OPEN = dt_to_ns(datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Seoul")))


@dataclass
class PaperHarness:
    venue: PaperVenue
    clock: SimClock
    url: str
    execution: RemotePaperExecutionClient
    feed: asyncio.Queue[MarketDataBatch]
    instrument_id: str = SAMSUNG
    streamed: list[MarketDataBatch] = field(default_factory=list)
    minute: int = 1
    clients: list[RemotePaperExecutionClient] = field(default_factory=list)
    # The engine keeps DAY, IOC and GTC alike.
    unsupported_time_in_force: frozenset[TimeInForce] = frozenset()

    @property
    def market(self) -> object:
        return self.venue.market_data

    def tick(self) -> Decimal:
        return TickRule.krx_stock().tick_at(Decimal(70_000))

    async def set_price(self, price: Decimal, volume: Decimal = Decimal(100_000)) -> None:
        ts = SESSION_OPEN + self.minute * NANOS_PER_MINUTE
        self.minute += 1
        self.clock.set_time(ts + NANOS_PER_MINUTE)
        bar = Bar(SAMSUNG, Timeframe.M1, ts, price, price, price, price, volume)
        seen = len(self.streamed)
        await self.feed.put(MarketDataBatch(ts + NANOS_PER_MINUTE, bars=(bar,)))
        await eventually(lambda: len(self.streamed) > seen)  # the stream task has no event

    async def trade(self, price: Decimal, quantity: Decimal) -> None:
        """A bar whose volume lets the engine fill exactly ``quantity`` at its participation."""
        rate = self.venue.engine.config.participation_rate
        volume = quantity / rate
        assert volume == volume.to_integral_value(), f"{quantity} is no whole bar at {rate}"
        await self.set_price(price, volume)

    async def seed_history(self) -> tuple[int, int]:
        start = SESSION_OPEN + self.minute * NANOS_PER_MINUTE
        for step in range(5):
            await self.set_price(Decimal(70_000 + 100 * step))
        return start, SESSION_OPEN + self.minute * NANOS_PER_MINUTE

    def venue_order_count(self) -> int:
        return len(self.venue.engine.orders())

    async def new_execution_client(self) -> RemotePaperExecutionClient:
        client = RemotePaperExecutionClient(self.url, TOKEN, poll_wait=0.5, timeout=2.0)
        await client.connect()
        self.clients.append(client)
        return client


@asynccontextmanager
async def paper_venue(tmp_path: Path) -> AsyncIterator[PaperHarness]:
    clock = SimClock(SESSION_OPEN + NANOS_PER_MINUTE)
    feed: asyncio.Queue[MarketDataBatch] = asyncio.Queue()

    async def source() -> AsyncIterator[MarketDataBatch]:
        while True:
            yield await feed.get()

    venue = build_paper_venue(
        clock,
        instruments=[krx_stock("005930", "Samsung Electronics")],
        source=source(),
        reference_prices={SAMSUNG: Decimal(70_000)},
    )
    served = await serve(build_venue_api(venue.execution, token=TOKEN), lifespan="off")
    url = served.url
    execution = RemotePaperExecutionClient(url, TOKEN, poll_wait=0.5, timeout=2.0)
    await execution.connect()
    harness = PaperHarness(venue, clock, url, execution, feed)

    async def consume() -> None:
        # What the platform does with the paper venue: every batch also matches orders.
        async for batch in venue.market_data.stream():
            await venue.execution.on_batch(batch)
            harness.streamed.append(batch)

    streaming = asyncio.create_task(consume())
    await harness.set_price(Decimal(70_000))
    try:
        yield harness
    finally:
        streaming.cancel()
        await asyncio.gather(streaming, return_exceptions=True)
        for client in [execution, *harness.clients]:
            await client.disconnect()
        await served.stop()
