"""The one place that builds the trading services, for every environment.

Embedded demo, paper run, backtest and the distributed ``jts serve`` processes differ
only in the ports handed in here: clock, feed, execution client, stores, bus.
No service knows which environment it runs in. A distributed process runs one
service, so each service has its own builder; ``build_trading_kernel`` wires all
four from the same builders. Composition code imports services only through this
module (an import-linter contract), so nothing else can construct one.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from jts.core.component import Component
from jts.core.storage_retry import StorageRetry
from jts.domain.instruments import Instrument
from jts.ports import BarJournal
from jts.ports import BarStore
from jts.ports import Clock
from jts.ports import DeadLetterSink
from jts.ports import ExecutionClient
from jts.ports import FillRepository
from jts.ports import MessageBus
from jts.ports import OrderRepository
from jts.ports import OutboxRepository
from jts.ports import PositionRepository
from jts.ports import StrategyRepository
from jts.ports import TradingHaltStore
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.services.execution import client_order_id_for
from jts.services.market_data import CollectorConfig
from jts.services.market_data import MarketDataCollector
from jts.services.portfolio import PortfolioConfig
from jts.services.portfolio import PortfolioService
from jts.services.strategy_engine import StrategyEngine
from jts.strategy.base import Strategy

__all__ = [
    "CollectorConfig",
    "KernelConfig",
    "KernelPorts",
    "MarketDataCollector",
    "OrderExecutionService",
    "PortfolioConfig",
    "PortfolioService",
    "SizingConfig",
    "StrategyEngine",
    "TradingKernel",
    "build_collector",
    "build_execution",
    "build_portfolio",
    "build_strategy_engine",
    "build_trading_kernel",
    "client_order_id_for",
]


@dataclass(frozen=True, slots=True)
class KernelPorts:
    bus: MessageBus
    clock: Clock
    orders: OrderRepository
    outbox: OutboxRepository
    fills: FillRepository
    positions: PositionRepository
    strategy_records: StrategyRepository
    execution_client: ExecutionClient
    bar_store: BarStore | None
    instruments: Mapping[str, Instrument]
    strategies: Sequence[Strategy]
    # Makes each batch of bars durable before it is published (None: backtests, tests).
    bar_journal: BarJournal | None = None
    # Where halts after foreign orders are kept; None keeps them in memory only.
    halts: TradingHaltStore | None = None
    # Where order execution parks an event it gave up on during a storage outage.
    dead_letters: DeadLetterSink | None = None


@dataclass(frozen=True, slots=True)
class KernelConfig:
    collector: CollectorConfig = field(default_factory=CollectorConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    storage_retry: StorageRetry = field(default_factory=StorageRetry)
    # Over Kafka: minutes complete by watermarks (``jts.core.watermarks``), not by settle.
    watermarks: bool = False


@dataclass(slots=True)
class TradingKernel:
    bus: MessageBus
    collector: MarketDataCollector
    strategy_engine: StrategyEngine
    execution: OrderExecutionService
    portfolio: PortfolioService

    @property
    def components(self) -> list[Component]:
        """In start order: consumers before producers."""
        return [self.portfolio, self.execution, self.strategy_engine, self.collector]

    async def start(self) -> None:
        for component in self.components:
            await component.start()

    def hold_signals(self, hold: bool) -> None:
        """In lockstep, signals wait for ``settle`` so a minute's are sized in one defined order."""
        self.execution.hold_signals = hold

    async def settle(self) -> None:
        """Let everything the latest market data caused happen, held signals included."""
        await self.bus.drain()
        # Most minutes hold no signal: then no call to release them.
        while self.execution.held_signals and await self.execution.release_signals():
            await self.bus.drain()

    async def stop(self) -> None:
        """Stop producers first and let the bus deliver what they sent before the rest stop."""
        await self.collector.stop()
        await self.bus.drain()
        for component in reversed(self.components[:-1]):
            await component.stop()
            await self.bus.drain()


def build_collector(
    bus: MessageBus,
    clock: Clock,
    config: CollectorConfig,
    *,
    bar_store: BarStore | None,
    bar_journal: BarJournal | None = None,
) -> MarketDataCollector:
    return MarketDataCollector(bus, clock, bar_store, config, bar_journal)


def build_strategy_engine(
    bus: MessageBus,
    clock: Clock,
    strategies: Sequence[Strategy],
    records: StrategyRepository,
    *,
    forward_marks: bool = False,
) -> StrategyEngine:
    return StrategyEngine(bus, clock, strategies, records, forward_marks=forward_marks)


def build_execution(
    bus: MessageBus,
    clock: Clock,
    config: KernelConfig,
    *,
    orders: OrderRepository,
    outbox: OutboxRepository,
    client: ExecutionClient,
    instruments: Mapping[str, Instrument],
    halts: TradingHaltStore | None = None,
    dead_letters: DeadLetterSink | None = None,
    venue_marks: bool = False,
) -> OrderExecutionService:
    return OrderExecutionService(
        bus,
        clock,
        orders,
        client,
        instruments,
        outbox,
        config.sizing,
        halts=halts,
        storage_retry=config.storage_retry,
        dead_letters=dead_letters,
        release_on_marks=config.watermarks,
        venue_marks=venue_marks,
    )


def build_portfolio(
    bus: MessageBus,
    clock: Clock,
    config: KernelConfig,
    *,
    positions: PositionRepository,
    fills: FillRepository,
) -> PortfolioService:
    return PortfolioService(
        bus,
        clock,
        positions,
        fills,
        config.portfolio,
        storage_retry=config.storage_retry,
        settle_marks=config.watermarks,
    )


def build_trading_kernel(ports: KernelPorts, config: KernelConfig | None = None) -> TradingKernel:
    config = config or KernelConfig()
    return TradingKernel(
        bus=ports.bus,
        collector=build_collector(
            ports.bus,
            ports.clock,
            config.collector,
            bar_store=ports.bar_store,
            bar_journal=ports.bar_journal,
        ),
        strategy_engine=build_strategy_engine(
            ports.bus,
            ports.clock,
            ports.strategies,
            ports.strategy_records,
            forward_marks=config.watermarks,
        ),
        execution=build_execution(
            ports.bus,
            ports.clock,
            config,
            orders=ports.orders,
            outbox=ports.outbox,
            client=ports.execution_client,
            instruments=ports.instruments,
            halts=ports.halts,
            dead_letters=ports.dead_letters,
        ),
        portfolio=build_portfolio(
            ports.bus, ports.clock, config, positions=ports.positions, fills=ports.fills
        ),
    )
