"""Ports: the Protocols business code depends on; adapters implement them."""

from jts.ports.brokers import CatchesUp
from jts.ports.brokers import ExecutionClient
from jts.ports.brokers import MarketDataClient
from jts.ports.brokers import ReportHandler
from jts.ports.bus import Handler
from jts.ports.bus import InlineHandler
from jts.ports.bus import MessageBus
from jts.ports.bus import PartitionedBus
from jts.ports.bus import awaiting
from jts.ports.calendar import TradingCalendar
from jts.ports.clock import Clock
from jts.ports.clock import WallClock
from jts.ports.storage import BacktestRunRepository
from jts.ports.storage import BarJournal
from jts.ports.storage import BarStore
from jts.ports.storage import DeadLetter
from jts.ports.storage import DeadLetterSink
from jts.ports.storage import FillRepository
from jts.ports.storage import OrderRepository
from jts.ports.storage import OutboxMessage
from jts.ports.storage import OutboxRepository
from jts.ports.storage import PositionRepository
from jts.ports.storage import StatusChange
from jts.ports.storage import StoredOutboxMessage
from jts.ports.storage import StrategyRepository
from jts.ports.storage import TradingHaltStore

__all__ = [
    "BacktestRunRepository",
    "BarJournal",
    "BarStore",
    "CatchesUp",
    "Clock",
    "DeadLetter",
    "DeadLetterSink",
    "ExecutionClient",
    "FillRepository",
    "Handler",
    "InlineHandler",
    "MarketDataClient",
    "MessageBus",
    "OrderRepository",
    "OutboxMessage",
    "OutboxRepository",
    "PartitionedBus",
    "PositionRepository",
    "ReportHandler",
    "StatusChange",
    "StoredOutboxMessage",
    "StrategyRepository",
    "TradingCalendar",
    "TradingHaltStore",
    "WallClock",
    "awaiting",
]
