"""What the Creon bridge and the adapter say to each other over HTTP.

Prices travel as decimal strings, times as UTC nanoseconds, codes as Creon
writes them (``A005930``). Both sides import these models, so they agree by
construction; the module lives beside ``bridge`` (not in it) because it is the
venue's one wire shape, and imports only pydantic and ``jts.domain`` so the
bridge stays portable to 32-bit Windows Python.
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
    """Every error body. ``sent``: the request reached Creon (BlockRequest was called).

    False means nothing left the bridge, so a retry is safe; True with a failure
    code means Creon may have acted.
    """

    detail: str
    code: str
    sent: bool = False


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


class ModifyIn(BaseModel):
    """CpTd0313 price modify; ``quantity`` is its input 5 (0 = all that remains)."""

    code: str = Field(pattern=r"^A\d{6}$")
    price: Decimal = Field(gt=0)
    quantity: int = Field(default=0, ge=0)


class ModifyOut(BaseModel):
    """Creon moves the modified quantity to a new order number (CpTd0313 header 7)."""

    order_no: str  # the new number; fills of the modified quantity come under it
    original_order_no: str
    code: str
    price: Decimal
    quantity: int | None  # the modified quantity, when Creon's answer carries it


class CancelOut(BaseModel):
    """A 200 means Creon accepted the cancel; the confirm event says it is done."""

    order_no: str
    cancel_order_no: str  # CpTd0314 header 6
    quantity: int | None = None  # header 5, the canceled quantity, when Creon gives it


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
    orig_order_no: str | None = None  # set on an order that replaced another (a modify)


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
