"""The one place that builds the trading services, for every environment.

Embedded demo, paper run and (later) backtest and distributed processes differ
only in the ports handed in here: clock, feed, execution client, stores, bus.
No service knows which environment it runs in.
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
from jts.services.market_data import CollectorConfig
from jts.services.market_data import MarketDataCollector
from jts.services.portfolio import PortfolioConfig
from jts.services.portfolio import PortfolioService
from jts.services.strategy_engine import StrategyEngine
from jts.strategy.base import Strategy


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

    async def stop(self) -> None:
        """Stop producers first and let the bus deliver what they sent before the rest stop."""
        await self.collector.stop()
        await self.bus.drain()
        for component in reversed(self.components[:-1]):
            await component.stop()
            await self.bus.drain()


def build_trading_kernel(ports: KernelPorts, config: KernelConfig | None = None) -> TradingKernel:
    config = config or KernelConfig()
    return TradingKernel(
        bus=ports.bus,
        collector=MarketDataCollector(
            ports.bus, ports.clock, ports.bar_store, config.collector, ports.bar_journal
        ),
        strategy_engine=StrategyEngine(
            ports.bus, ports.clock, ports.strategies, ports.strategy_records
        ),
        execution=OrderExecutionService(
            ports.bus,
            ports.clock,
            ports.orders,
            ports.execution_client,
            ports.instruments,
            ports.outbox,
            config.sizing,
            halts=ports.halts,
            storage_retry=config.storage_retry,
            dead_letters=ports.dead_letters,
        ),
        portfolio=PortfolioService(
            ports.bus,
            ports.clock,
            ports.positions,
            ports.fills,
            config.portfolio,
            storage_retry=config.storage_retry,
        ),
    )
