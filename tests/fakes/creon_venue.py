"""A Creon venue for tests: the bridge over fake COM, on a real port, and Creon clients.

``creon_venue(tmp_path)`` is what the broker contract suite uses::

    async with creon_venue(tmp_path) as venue:
        await venue.execution.submit_order(order)
        await venue.set_price(Decimal(69_900))
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from fakes.venue_harness import Reports
from jts.brokers.creon.bridge.app import build_bridge_app
from jts.brokers.creon.bridge.fake.faults import drop_order_responses
from jts.brokers.creon.bridge.fake.market import FakeCreonMarket
from jts.brokers.creon.bridge.service import CreonBridge
from jts.brokers.creon.config import CreonConfig
from jts.brokers.creon.data import CreonMarketData
from jts.brokers.creon.execution import CreonExecution
from jts.brokers.creon.factory import CreonVenue
from jts.brokers.creon.factory import build_creon
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.domain.ticks import TickRule
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.ports.brokers import ExecutionClient
from jts.ports.brokers import MarketDataClient
from sockets import serve
from waiting import eventually

SECRET = secrets.token_urlsafe(32)
INSTRUMENT = "KRX:005930"
CODE = "A005930"
KST = timezone(timedelta(hours=9))


@dataclass
class BridgeServer:
    """The bridge app (over a fake market) served by uvicorn in this process."""

    market: FakeCreonMarket
    bridge: CreonBridge
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_bridge(
    market: FakeCreonMarket,
    *,
    secret: str = SECRET,
    max_wait: float = 3.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    state_path: Path | None = None,
) -> BridgeServer:
    bridge = CreonBridge(market.factory(), state_path=state_path, max_wait=max_wait, sleep=sleep)
    app: Any = drop_order_responses(
        build_bridge_app(market.factory(), secret, bridge=bridge), market
    )
    served = await serve(app, log_level="critical")
    return BridgeServer(market, bridge, served.port, served.server, served.task)


@dataclass
class CreonHarness:
    market_state: FakeCreonMarket
    server: BridgeServer
    journal_path: Path
    market: MarketDataClient
    execution: ExecutionClient
    instrument_id: str = INSTRUMENT
    # Creon orders live one day (CpTd0311 has no GTC); IOC and FOK are its conditions.
    unsupported_time_in_force: frozenset[TimeInForce] = frozenset({TimeInForce.GTC})
    code: str = CODE
    clients: list[CreonVenue] = field(default_factory=list)
    streamed: list[MarketDataBatch] = field(default_factory=list)
    _streaming: asyncio.Task[None] | None = None

    def tick(self) -> Decimal:
        return TickRule.krx_stock().tick_at(Decimal(self.market_state.listings[self.code].price))

    async def seed_history(self) -> tuple[int, int]:
        """The fake holds seeded minute bars for today's session: 09:00-10:00 KST."""
        today = self.market_state.today
        start = dt_to_ns(datetime(today.year, today.month, today.day, 9, tzinfo=KST))
        return start, start + 60 * NANOS_PER_MINUTE

    async def _consume(self, client: CreonMarketData) -> None:
        async for batch in client.stream():
            self.streamed.append(batch)

    async def set_price(self, price: Decimal) -> None:
        """Trade at ``price`` on the fake market; crossing limit orders fill."""
        self.market_state.set_price(self.code, price)
        await asyncio.sleep(0)

    async def trade(self, price: Decimal, quantity: Decimal) -> None:
        """A trade of exactly ``quantity`` at ``price``; crossing orders fill up to it."""
        self.market_state.trade(self.code, int(price), int(quantity))
        await asyncio.sleep(0)

    def venue_order_count(self) -> int:
        return len(self.market_state.orders())

    def config(self, secret: str = SECRET) -> CreonConfig:
        return CreonConfig(
            bridge_url=self.server.url,
            secret=SecretStr(secret),
            account=self.market_state.account,
            request_timeout=5.0,
            poll_wait=1.0,
        )

    def venue(self, journal: Path | None = None, **options: Any) -> CreonVenue:
        """Both ports over a new bridge client, journaling intents in ``journal``."""
        venue = build_creon(self.config(), state_dir=None, journal=journal, **options)
        self.clients.append(venue)
        return venue

    async def new_execution_client(self) -> CreonExecution:
        client = self.venue(self.journal_path).execution
        await client.connect()
        return client

    async def close(self) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
            await asyncio.gather(self._streaming, return_exceptions=True)
        for client in self.clients:
            await client.execution.disconnect()
            await client.data.disconnect()
        await self.server.stop()


@asynccontextmanager
async def creon_venue(tmp_path: Path, **market_options: Any) -> AsyncIterator[CreonHarness]:
    # The stream polls quotes; lift the look-up counter so polling never starves the tests
    # (test_limits covers the counters).
    market_options.setdefault("quote_limit", 1_000_000)
    market = FakeCreonMarket(**market_options)
    server = await start_bridge(market)
    journal = tmp_path / "creon-intents.jsonl"
    harness = CreonHarness(market, server, journal, market=None, execution=None)  # type: ignore[arg-type]
    try:
        # Market data on its own bridge client, so its polling never spends the budget
        # the execution tests count.
        market_client = harness.venue(watch=(INSTRUMENT,), quote_interval=0.05).data
        await market_client.connect()
        harness._streaming = asyncio.create_task(harness._consume(market_client))
        # The first round only learns the volumes a later trade is measured against.
        await eventually(lambda: market_client.polls >= 1)
        execution = harness.venue(journal).execution
        await execution.connect()
        harness.market = market_client
        harness.execution = execution
        yield harness
    finally:
        await harness.close()


async def first(reports: Reports, count: int, within: float = 10.0) -> list[ExecutionReport]:
    """The first ``count`` reports, once that many have arrived."""
    await reports.wait(lambda _report: len(reports.items) >= count, within)
    return reports.items[:count]


def limit_order(cid: str, price: int, qty: int = 10, side: Side = Side.BUY) -> Order:
    return Order(
        INSTRUMENT,
        side,
        OrderType.LIMIT,
        Decimal(qty),
        Decimal(price),
        0,
        "creon",
        client_order_id=cid,
    )


@asynccontextmanager
async def wired_venue(
    tmp_path: Path, **market_options: Any
) -> AsyncIterator[tuple[CreonHarness, Reports]]:
    """``creon_venue`` with a report collector on its execution client."""
    async with creon_venue(tmp_path, **market_options) as harness:
        reports = Reports()
        harness.execution.set_report_handler(reports)
        yield harness, reports
