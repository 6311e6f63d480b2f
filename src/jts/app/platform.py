"""The composition root of the embedded platform: one process, every part real.

``open_platform`` wires settings to adapters (SQL store, bar store, in-process
bus, paper venue, simulated feed) and hands ports to the service kernel.
``Platform.run`` drives market time: each feed batch sets the simulated clock,
lets the paper venue match resting orders against the new data, then hands the
data to the collector. With ``lockstep`` it waits for the bus to settle after
every batch, then has order execution size the minute's signals in a defined order
(see ``OrderExecutionService.release_signals``) and settles again: a run is then
deterministic for a given seed, whatever the bus's lane count or the stores.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

from jts.app.buses import inprocess_bus
from jts.app.buses import kafka_bus
from jts.app.datadir import prepare_data_dir
from jts.app.equity import EquityCurve
from jts.app.lockstep import SettledMarks
from jts.app.lockstep import close_minute
from jts.app.market_store import open_market_store
from jts.app.service_config import kernel_config
from jts.app.service_config import paper_config
from jts.app.settings import Settings
from jts.app.sources import MarketSource
from jts.app.sources import market_source
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.paper.data import PaperMarketDataClient
from jts.brokers.paper.execution import PaperExecutionClient
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.bus.kafka import KafkaMessageBus
from jts.core.clocks import SimClock
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import Instrument
from jts.domain.reports import MarketDataBatch
from jts.ports import TradingCalendar
from jts.services.kernel import KernelPorts
from jts.services.kernel import TradingKernel
from jts.services.kernel import build_trading_kernel
from jts.storage.bar_journal import FileBarJournal
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.dead_letters import DeadLetterFile
from jts.storage.dead_letters import dead_letters_path
from jts.storage.halts import FileHaltStore
from jts.storage.memory import MemoryStore
from jts.storage.sql.inspection import latest_recorded_ts
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from jts.strategy.registry import create_strategy

log = logging.getLogger("jts.app")

StepCallback = Callable[[MarketDataBatch], None]


@dataclass(slots=True)
class Platform:
    settings: Settings
    clock: SimClock
    bus: InProcessMessageBus | KafkaMessageBus
    sql: SqlStore | MemoryStore
    bar_store: ClickHouseBarStore
    calendar: TradingCalendar
    instruments: dict[str, Instrument]
    source: MarketSource
    market_data: PaperMarketDataClient
    venue: PaperExecutionClient
    kernel: TradingKernel
    equity: EquityCurve
    journal: FileBarJournal
    # The latest market time any store recorded before this run (0: a fresh data folder).
    resumed_from_ns: int = 0
    steps: int = 0
    # Market time of this run's first minute: what this run did, apart from the stores' past.
    started_ts: int | None = None
    # Over Kafka: minutes close by watermarks and lockstep waits for these (lockstep.py).
    settled: SettledMarks | None = None
    _closed: bool = field(default=False, repr=False)

    async def run(
        self,
        *,
        stop: asyncio.Event | None = None,
        lockstep: bool = True,
        minutes_per_second: float = 0.0,
        on_step: StepCallback | None = None,
    ) -> None:
        """Feed market data through the platform until the feed ends or ``stop`` is set."""
        stop = stop or asyncio.Event()
        await self.bus.start()
        await self.market_data.connect()
        await self.venue.connect()
        self.kernel.hold_signals(lockstep)
        await self.kernel.start()
        try:
            async for batch in self.market_data.stream():
                if stop.is_set():
                    break
                self.clock.set_time(batch.ts)
                if self.started_ts is None:
                    self.started_ts = batch.ts
                    self.equity.add(batch.ts, self.kernel.portfolio.snapshot().equity)
                await self.venue.on_batch(batch)
                await self.kernel.collector.ingest(batch)
                if self.settled is not None:
                    await close_minute(self.bus, batch.ts, "platform")
                    if lockstep:
                        await self.settled.wait(batch.ts)
                elif lockstep:
                    await self.kernel.settle()
                self.steps += 1
                # After the drain: the settled minute, so the same seed gives the same curve.
                self.equity.add(batch.ts, self.kernel.portfolio.snapshot().equity)
                if on_step is not None:
                    on_step(batch)
                if minutes_per_second > 0:
                    await _sleep_or_stop(stop, 1.0 / minutes_per_second)
        finally:
            await self.kernel.stop()
            self.kernel.hold_signals(False)
            await self.bus.stop()
            await self.venue.disconnect()
            await self.market_data.disconnect()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.journal.close()
        await self.bar_store.close()
        await self.sql.close()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


async def open_platform(
    settings: Settings,
    *,
    instruments: list[Instrument] | None = None,
    sessions: int | None = None,
    resume: bool = False,
    store: MemoryStore | None = None,
    strategy_ids: Sequence[str] | None = None,
) -> Platform:
    """Build every part of the embedded platform from ``settings`` (migrating the database).

    ``sessions`` overrides ``feed.sessions`` (None in ``jts run``: every session the
    calendar knows); ``resume`` continues after the latest market time any store
    recorded, so market time only moves forward across restarts. ``store`` keeps
    orders, fills and positions in memory instead of the settings' database: nothing
    of them survives the run, so there is nothing to resume. ``strategy_ids`` runs the
    settings' strategy once under each id (competing strategies, in tests) instead of
    once under ``strategy.id``.
    """
    if store is not None and resume:
        raise ConfigurationError("an in-memory store keeps nothing to resume from")
    prepare_data_dir(settings.data_dir)
    sql: SqlStore | MemoryStore
    if store is None:
        await asyncio.to_thread(upgrade, settings.sql_url)
        sql = SqlStore.open(settings.sql_url)
    else:
        sql = store
    try:
        bar_store, journal = await open_market_store(settings)
    except BaseException:
        await sql.close()
        raise
    try:
        return await _assemble(
            settings, sql, bar_store, journal, instruments, sessions, resume, strategy_ids
        )
    except BaseException:
        journal.close()
        await bar_store.close()
        await sql.close()
        raise


async def recorded_market_time(
    sql: SqlStore, bar_store: ClickHouseBarStore, *, with_bars: bool = True
) -> int:
    """The latest market time recorded anywhere: a stored bar's close, an order, a fill.

    A replay of the store (or of a file already imported) plays stored bars: those are
    its input, not its progress, so only orders and fills count there (``with_bars``).
    """
    latest = await latest_recorded_ts(sql)
    if with_bars:
        bars = (await bar_store.latest_bars()).values()
        latest = max(latest, max((bar.close_ts for bar in bars), default=0))
    return latest


async def _assemble(
    settings: Settings,
    sql: SqlStore | MemoryStore,
    bar_store: ClickHouseBarStore,
    journal: FileBarJournal,
    instruments: list[Instrument] | None,
    sessions: int | None,
    resume: bool,
    strategy_ids: Sequence[str] | None = None,
) -> Platform:
    calendar = calendar_for_venue("KRX")
    simulated = settings.feed.source == "simulated"
    recorded = 0
    if resume and isinstance(sql, SqlStore):
        recorded = await recorded_market_time(sql, bar_store, with_bars=simulated)
    market = await market_source(
        settings,
        calendar,
        bar_store,
        instruments=instruments,
        sessions=sessions if sessions is not None or resume else settings.feed.sessions,
        resume=resume,
        recorded_until=recorded,
    )
    universe = market.instruments
    by_id = {i.key: i for i in universe}
    # Start where the stores left off: anything stamped before the first bar (reconciling
    # orders an interrupted run left open) carries the last recorded market time.
    clock = SimClock(recorded)
    # Over Kafka the services are separate consumer groups, and minutes close by marks.
    bus = kafka_bus(settings) if settings.bus.kind == "kafka" else inprocess_bus(settings)
    config = kernel_config(settings, universe_size=len(universe))
    if settings.bus.kind == "kafka":
        config = replace(config, watermarks=True)
    settled = SettledMarks(bus, "platform-pacer") if config.watermarks else None
    venue = build_paper_venue(
        clock,
        paper_config(settings, history_limit=60),
        instruments=universe,
        source=market.source,
        calendar=calendar,
        reference_prices=market.reference_prices,
    )
    # The paper venue keeps no books of its own between runs: replay the stored fills.
    for fill in sorted(await sql.fills.list(), key=lambda f: (f.ts, f.fill_id)):
        venue.engine.account.apply_fill(fill)
    strategies = [
        create_strategy(
            settings.strategy.name,
            strategy_id=strategy_id,
            instruments=list(by_id),
            params=settings.strategy.params,
        )
        for strategy_id in strategy_ids or [settings.strategy.id]
    ]
    kernel = build_trading_kernel(
        KernelPorts(
            bus=bus,
            clock=clock,
            orders=sql.orders,
            outbox=sql.outbox,
            fills=sql.fills,
            positions=sql.positions,
            strategy_records=sql.strategies,
            execution_client=venue.execution,
            bar_store=bar_store,
            bar_journal=journal,
            instruments=by_id,
            strategies=strategies,
            halts=FileHaltStore(settings.data_dir),
            dead_letters=DeadLetterFile(dead_letters_path(settings.data_dir)),
        ),
        config,
    )
    return Platform(
        settings=settings,
        equity=EquityCurve(),
        clock=clock,
        bus=bus,
        sql=sql,
        bar_store=bar_store,
        calendar=venue.calendar,
        instruments=by_id,
        source=market,
        market_data=venue.market_data,
        venue=venue.execution,
        kernel=kernel,
        journal=journal,
        resumed_from_ns=recorded,
        settled=settled,
    )


def fresh_demo_dir(base: Path) -> Path:
    """A clean folder for one demo run, so runs never mix with each other or with ``jts run``."""
    target = base / "demo"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    return target
