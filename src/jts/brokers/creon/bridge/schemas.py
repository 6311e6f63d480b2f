"""What the bridge and the adapter say to each other over HTTP.

Prices travel as decimal strings, times as UTC nanoseconds, codes as Creon
writes them (``A005930``). The adapter imports these models too, so both sides
agree by construction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from pydantic import Field

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side

EventKind = Literal["fill", "confirm", "reject", "accepted"]
ModifyKind = Literal["normal", "modify", "cancel"]


class ErrorOut(BaseModel):
    detail: str
    code: str


class HealthOut(BaseModel):
    connected: bool
    server_type: int
    trade_ready: bool
    trade_error: str | None = None
    account: str | None = None
    remain_orders: int
    remain_lookups: int
    events: int


class InstrumentOut(BaseModel):
    code: str
    name: str
    market: int  # CpCodeMgr.GetStockMarketKind: 1 KOSPI, 2 KOSDAQ, 3 Freeboard/KONEX


class QuoteOut(BaseModel):
    code: str
    name: str
    price: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    ask: Decimal
    bid: Decimal
    prev_close: Decimal
    upper_limit: Decimal
    lower_limit: Decimal
    volume: int
    ts: int


class BarOut(BaseModel):
    ts: int  # open time
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class BarsOut(BaseModel):
    code: str
    timeframe: str
    bars: list[BarOut]


class OrderIn(BaseModel):
    side: Side
    code: str = Field(pattern=r"^A\d{6}$")
    quantity: int = Field(gt=0)
    price: Decimal | None = None
    order_type: OrderType = OrderType.LIMIT
    condition: Literal["NONE", "IOC", "FOK"] = "NONE"


class OrderAck(BaseModel):
    order_no: str
    code: str
    side: Side
    quantity: int
    price: Decimal | None
    placed_ns: int
    message: str


class CancelOut(BaseModel):
    order_no: str
    cancel_order_no: str
    quantity: int


class OrderOut(BaseModel):
    order_no: str
    code: str
    side: Side
    quantity: int
    price: Decimal | None  # None: market order
    filled_quantity: int
    avg_fill_price: Decimal | None
    open_quantity: int
    status: OrderStatus
    ts: int  # when the bridge placed it, else when it first saw it
    reject_reason: str | None = None


class FillOut(BaseModel):
    fill_id: str
    order_no: str
    code: str
    side: Side
    quantity: int
    price: Decimal
    cumulative: int  # the order's filled quantity after this fill
    ts: int


class PositionOut(BaseModel):
    code: str
    name: str
    quantity: int
    sellable: int
    avg_price: Decimal


class BalanceOut(BaseModel):
    account: str
    cash: Decimal  # CpTd6033 header 9: D+2 expected deposit
    reserved_cash: Decimal  # open buy orders at their limit price
    positions: list[PositionOut]


class EventOut(BaseModel):
    """One CpConclusion event, numbered from 1 in the order the bridge received them."""

    seq: int
    ts: int
    kind: EventKind
    modify: ModifyKind
    order_no: str
    orig_order_no: str | None
    code: str
    side: Side
    quantity: int
    price: Decimal
    filled_quantity: int  # the order's cumulative fill after this event
    order_quantity: int | None  # known when the bridge placed the order
    fill_id: str | None = None


class EventPage(BaseModel):
    events: list[EventOut]
    head: int
