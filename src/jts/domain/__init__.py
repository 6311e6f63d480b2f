"""The pure trading model: no I/O, no frameworks beyond msgspec for bus events (``events``)."""

from jts.domain.enums import AssetClass
from jts.domain.enums import LiquiditySide
from jts.domain.enums import Market
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.signals import Signal
from jts.domain.ticks import TickRule

__all__ = [
    "AssetClass",
    "Bar",
    "Fill",
    "Instrument",
    "InstrumentId",
    "LiquiditySide",
    "Market",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "Side",
    "Signal",
    "Tick",
    "TickRule",
    "TimeInForce",
    "Timeframe",
]
