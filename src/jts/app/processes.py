"""What each ``jts serve`` process is made of: the composition roots of distributed mode.

The services are the same classes the embedded platform runs; only their ports
differ. Every process talks over Kafka; each owns only what it must:

=================  =========================================================
market-data        the feed and the time-series store (its only writer)
strategy-engine    strategies; reads bars from the bus
order-execution    orders and the outbox in SQL, the venue over HTTP
portfolio          positions from fills, in SQL
paper-venue        the simulated broker (matching engine) behind an HTTP API,
                   driven by bars from the bus; stands in for KIS or Creon
=================  =========================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from jts.app.buses import MarketTimeBus
from jts.app.buses import kafka_bus
from jts.app.live_feed import live_market_data
from jts.app.lockstep import SettledMarks
from jts.app.lockstep import close_minute
from jts.app.market_store import open_market_store
from jts.app.service_config import kernel_config
from jts.app.service_config import minute_marks
from jts.app.service_config import paper_config
from jts.app.service_process import Closer
from jts.app.service_process import Periodic
from jts.app.service_process import ServiceProcess
from jts.app.service_process import bus_check
from jts.app.service_process import closing
from jts.app.service_process import collector_stats
from jts.app.service_process import sql_check
from jts.app.service_process import store_check
from jts.app.settings import Settings
from jts.app.sources import instruments_for
from jts.app.sources import market_source
from jts.app.sources import select_instruments
from jts.app.tokens import service_token
from jts.app.tokens import venue_client_token
from jts.app.venues import broker_execution
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.paper.data import PaperMarketDataClient
from jts.brokers.paper.factory import build_paper_venue
from jts.brokers.paper.remote import RemotePaperExecutionClient
from jts.brokers.paper.server import build_venue_api
from jts.bus.kafka import KafkaMessageBus
from jts.core import topics
from jts.core.clocks import LiveClock
from jts.core.clocks import MarketClock
from jts.core.clocks import SimClock
from jts.core.component import Component
from jts.core.watermarks import STAGE_BARS
from jts.core.watermarks import STAGE_VENUE
from jts.core.watermarks import Watermark
from jts.core.watermarks import broadcast
from jts.domain.errors import ConfigurationError
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import MinuteMark
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.ports import Clock
from jts.ports import ExecutionClient
from jts.ports import MessageBus
from jts.services.kernel import build_collector
from jts.services.kernel import build_execution
from jts.services.kernel import build_portfolio
from jts.services.kernel import build_strategy_engine
from jts.sim.feed import SimulatedBarFeed
from jts.storage.dead_letters import DeadLetterFile
from jts.storage.dead_letters import dead_letters_path
from jts.storage.halts import FileHaltStore
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from jts.strategy.registry import create_strategy

log = logging.getLogger("jts.serve")

SERVICES = ("market-data", "strategy-engine", "order-execution", "portfolio", "paper-venue")


async def build_process(
    service: str, settings: Settings, *, sessions: int | None = None
) -> ServiceProcess:
    if service not in SERVICES:
        raise ConfigurationError(f"unknown service {service!r}; one of: {', '.join(SERVICES)}")
    bus = kafka_bus(settings)
    builders: dict[str, Callable[[], Awaitable[ServiceProcess]]] = {
        "market-data": lambda: _market_data(settings, bus, sessions),
        "strategy-engine": lambda: _strategy_engine(settings, bus),
        "order-execution": lambda: _order_execution(settings, bus),
        "portfolio": lambda: _portfolio(settings, bus),
        "paper-venue": lambda: _paper_venue(settings, bus),
    }
    return await builders[service]()


async def _open_sql(settings: Settings) -> SqlStore:
    await asyncio.to_thread(upgrade, settings.sql_url)
    return SqlStore.open(settings.sql_url)


def _universe(settings: Settings) -> list[Instrument]:
    """The instruments every process agrees on without opening the feed."""
    if settings.feed.source == "kis" and settings.kis.full_universe():
        return instruments_for(list(settings.kis.full_universe()))
    if settings.feed.source != "simulated" and not settings.feed.symbols:
        raise ConfigurationError(
            f"jts serve with feed.source {settings.feed.source!r} needs feed.symbols, so that "
            "processes other than market-data know the universe"
        )
    if settings.feed.source == "simulated":
        return select_instruments(settings)
    return instruments_for(list(settings.feed.symbols))


# -- market data -----------------------------------------------------------------------------


async def _market_data(
    settings: Settings, bus: KafkaMessageBus, sessions: int | None
) -> ServiceProcess:
    if settings.feed.source in ("kis", "creon"):
        return await live_market_data(settings, bus)
    bar_store, journal = await open_market_store(settings)
    try:
        calendar = calendar_for_venue("KRX")
        latest = await bar_store.latest_bars()
        recorded = max((bar.close_ts for bar in latest.values()), default=0)
        market = await market_source(
            settings, calendar, bar_store, sessions=sessions, resume=True, recorded_until=recorded
        )
    except BaseException:
        journal.close()
        await bar_store.close()
        raise
    clock = SimClock(recorded)
    collector = build_collector(
        bus,
        clock,
        kernel_config(settings, universe_size=len(market.instruments)).collector,
        bar_store=bar_store,
        bar_journal=journal,
    )
    client = PaperMarketDataClient(market.source, market.instruments)
    progress: dict[str, Any] = {"feed": market.description, "finished": False, "minutes": 0}
    pace = settings.feed.speed
    marks = minute_marks(settings)
    # In lockstep each minute waits for order execution and the portfolio (lockstep.py).
    settled = SettledMarks(bus, "market-data-pacer") if settings.bus.kafka.lockstep else None

    async def feed(stop: asyncio.Event) -> None:
        await client.connect()
        try:
            async for batch in client.stream():
                if stop.is_set():
                    return
                clock.set_time(batch.ts)
                await collector.ingest(batch)
                if marks:
                    await close_minute(bus, batch.ts, "market-data")
                if settled is not None:
                    await _until_settled(settled, batch.ts, stop)
                progress["minutes"] += 1
                if pace > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0 / pace)
            await collector.flush()
            progress["finished"] = True
            log.info("market data feed finished: %s", market.description)
        finally:
            await client.disconnect()

    return ServiceProcess(
        name="market-data",
        bus=bus,
        components=[collector],
        checks={"bus": bus_check(bus), "clickhouse": store_check(bar_store)},
        stats=collector_stats(collector, bus, progress),
        foreground=feed,
        closers=[bar_store.close, closing(journal)],
    )


async def _until_settled(settled: SettledMarks, minute_ts: int, stop: asyncio.Event) -> None:
    waiting = asyncio.create_task(settled.wait(minute_ts))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiting, stopping):
        task.cancel()
    await asyncio.gather(waiting, stopping, return_exceptions=True)


# -- strategy engine -------------------------------------------------------------------------


async def _strategy_engine(settings: Settings, bus: KafkaMessageBus) -> ServiceProcess:
    sql = await _open_sql(settings)
    clock = MarketClock()
    universe = _universe(settings)
    strategy = create_strategy(
        settings.strategy.name,
        strategy_id=settings.strategy.id,
        instruments=[i.key for i in universe],
        params=settings.strategy.params,
    )
    engine = build_strategy_engine(
        MarketTimeBus(bus, clock),
        clock,
        [strategy],
        sql.strategies,
        forward_marks=minute_marks(settings),
    )

    def stats() -> Mapping[str, Any]:
        return {
            "bars": engine.stats.bars,
            "signals": engine.stats.signals,
            "faults": engine.stats.faults,
        }

    return ServiceProcess(
        name="strategy-engine",
        bus=bus,
        components=[engine],
        checks={"bus": bus_check(bus), "sql": sql_check(sql)},
        stats=stats,
        closers=[sql.close],
    )


# -- order execution -------------------------------------------------------------------------


async def _order_execution(settings: Settings, bus: KafkaMessageBus) -> ServiceProcess:
    sql = await _open_sql(settings)
    # Until the first event arrives, market time is where this service left off.
    latest = await sql.orders.list(limit=1)
    universe = {i.key: i for i in _universe(settings)}
    venue: ExecutionClient
    clock: Clock
    events: MessageBus
    if settings.execution.venue == "paper":
        market = MarketClock(latest[0].updated_ts if latest else 0)
        clock, events = market, MarketTimeBus(bus, market)
        venue = RemotePaperExecutionClient(settings.serve.venue_url(), venue_client_token(settings))
    else:
        # A live broker: wall-clock time, and credentials checked before anything starts.
        clock, events = LiveClock(), bus
        venue = broker_execution(settings, settings.execution.venue)
    execution = build_execution(
        events,
        clock,
        kernel_config(settings, universe_size=len(universe)),
        orders=sql.orders,
        outbox=sql.outbox,
        client=venue,
        instruments=universe,
        halts=FileHaltStore(settings.data_dir),
        dead_letters=DeadLetterFile(dead_letters_path(settings.data_dir)),
        # The paper venue matches bars in its own process and marks each minute it did.
        venue_marks=settings.execution.venue == "paper" and minute_marks(settings),
    )
    reconciler = Periodic("reconciliation", settings.serve.reconcile_interval, execution.reconcile)

    async def venue_check() -> str | None:
        await venue.account()
        return None

    def stats() -> Mapping[str, Any]:
        s = execution.stats
        return {
            "signals": s.signals,
            "orders": s.orders,
            "fills": s.fills,
            "unknown": s.unknown,
            "open_orders": len(execution.open_orders),
            "outbox": {
                "delivered": execution.relay.stats.delivered,
                "recovered": execution.relay.stats.recovered,
                "failed": execution.relay.stats.failed,
            },
        }

    return ServiceProcess(
        name="order-execution",
        bus=bus,
        # The venue link first: reconciliation at start needs it.
        components=[_Connection("venue", venue.connect, venue.disconnect), execution, reconciler],
        checks={"bus": bus_check(bus), "sql": sql_check(sql), "venue": venue_check},
        stats=stats,
        closers=[sql.close],
    )


# -- portfolio -------------------------------------------------------------------------------


async def _portfolio(settings: Settings, bus: KafkaMessageBus) -> ServiceProcess:
    sql = await _open_sql(settings)
    clock = MarketClock()
    portfolio = build_portfolio(
        MarketTimeBus(bus, clock),
        clock,
        kernel_config(settings, universe_size=len(_universe(settings))),
        positions=sql.positions,
        fills=sql.fills,
    )

    def stats() -> Mapping[str, Any]:
        return {
            "cash": str(portfolio.cash),
            "positions": {k: str(p.quantity) for k, p in sorted(portfolio.positions.items())},
        }

    return ServiceProcess(
        name="portfolio",
        bus=bus,
        components=[portfolio],
        checks={"bus": bus_check(bus), "sql": sql_check(sql)},
        stats=stats,
        closers=[sql.close],
    )


# -- the paper venue -------------------------------------------------------------------------


async def _paper_venue(settings: Settings, bus: KafkaMessageBus) -> ServiceProcess:
    clock = MarketClock()
    universe = _universe(settings)
    calendar = calendar_for_venue("KRX")
    references = {}
    if settings.feed.source == "simulated":
        # The seeded feed's previous closes: the venue's daily price-limit references.
        feed = SimulatedBarFeed(universe, calendar, settings.feed.start_date, 1, settings.feed.seed)
        references = feed.reference_prices()
    venue = build_paper_venue(
        clock,
        paper_config(settings),
        instruments=universe,
        source=[],
        calendar=calendar,
        reference_prices=references,
    )
    api = build_venue_api(venue.execution, token=service_token(settings))
    counts = {"bars": 0}
    marks = minute_marks(settings)

    matched = Watermark(STAGE_BARS)
    # With marks on, a minute's bars are matched together at its close, in instrument order
    # as the embedded platform's ``on_batch`` does, not in the order keys were delivered.
    waiting: list[tuple[int, Bar]] = []

    async def match(bar: Bar) -> None:
        # A bar reaches the venue when it closes, as in the embedded platform.
        clock.observe(bar.close_ts)
        counts["bars"] += 1
        await venue.execution.on_bar(bar)

    async def on_bar(event: Event) -> None:
        if isinstance(event, BarEvent):
            if marks:
                waiting.append((event.ts, event.bar))
            else:
                await match(event.bar)
            return
        if marks and isinstance(event, MinuteMark) and matched.observe(event):
            minute = matched.minute
            assert minute is not None
            due = sorted(
                (item for item in waiting if item[0] <= minute),
                key=lambda item: (item[0], item[1].instrument_id),
            )
            waiting[:] = [item for item in waiting if item[0] > minute]
            for _, bar in due:
                await match(bar)
            # Every bar of the minute matched: order execution may size it (minute_marks).
            await broadcast(
                bus, topics.SIGNALS, MinuteMark.of(STAGE_VENUE, minute, source="paper-venue")
            )

    bus.subscribe(topics.MARKET_BARS, on_bar, group="paper-venue")

    def stats() -> Mapping[str, Any]:
        engine = venue.engine
        return {
            "bars": counts["bars"],
            "orders": len(engine.orders()),
            "open_orders": len(engine.open_orders()),
            "fills": len(engine.fills()),
        }

    return ServiceProcess(
        name="paper-venue",
        bus=bus,
        components=[],
        checks={"bus": bus_check(bus)},
        stats=stats,
        api=api,
    )


# -- small components ------------------------------------------------------------------------


class _Connection(Component):
    def __init__(
        self, name: str, connect: Callable[[], Awaitable[None]], disconnect: Closer
    ) -> None:
        super().__init__(name)
        self._connect = connect
        self._disconnect = disconnect

    async def _on_start(self) -> None:
        await self._connect()

    async def _on_stop(self) -> None:
        await self._disconnect()
