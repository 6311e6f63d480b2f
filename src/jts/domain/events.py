"""Events: the messages services exchange on the bus.

Every event carries an envelope (``event_id``, ``type``, ``version``, ``ts``,
``source``, ``key``) so consumers can de-duplicate, route and evolve schemas.
``ts`` is UTC nanoseconds; money is Decimal and serialises as a JSON string.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.signals import Signal


def new_event_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """Envelope fields shared by every event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str] = "event"
    VERSION: ClassVar[int] = 1

    event_id: str = Field(default_factory=new_event_id)
    type: str = ""
    version: int = 0
    ts: int
    source: str
    key: str

    def model_post_init(self, context: object, /) -> None:
        # Fill the type and version from the class so a producer cannot mislabel them.
        if not self.type:
            object.__setattr__(self, "type", self.TYPE)
        if not self.version:
            object.__setattr__(self, "version", self.VERSION)


class BarEvent(Event):
    TYPE: ClassVar[str] = "market.bar"

    instrument_id: str
    timeframe: Timeframe
    bar_ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @classmethod
    def from_bar(cls, bar: Bar, *, ts: int, source: str) -> BarEvent:
        return cls(
            event_id=bar_event_id(bar),
            ts=ts,
            source=source,
            key=bar.instrument_id,
            instrument_id=bar.instrument_id,
            timeframe=bar.timeframe,
            bar_ts=bar.ts,
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
        )

    def to_bar(self) -> Bar:
        return Bar(
            self.instrument_id,
            self.timeframe,
            self.bar_ts,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )


def bar_event_id(bar: Bar) -> str:
    """One id per instrument, timeframe and minute, whoever publishes it and however often.

    A restarted collector that publishes a minute again uses the same id, so every
    consumer drops the copy instead of folding the minute into its state twice.
    """
    return f"bar:{bar.instrument_id}:{bar.timeframe.value}:{bar.ts}"


class TickEvent(Event):
    TYPE: ClassVar[str] = "market.tick"

    instrument_id: str
    tick_ts: int
    price: Decimal
    size: Decimal

    @classmethod
    def from_tick(cls, tick: Tick, *, ts: int, source: str) -> TickEvent:
        return cls(
            ts=ts,
            source=source,
            key=tick.instrument_id,
            instrument_id=tick.instrument_id,
            tick_ts=tick.ts,
            price=tick.price,
            size=tick.size,
        )

    def to_tick(self) -> Tick:
        return Tick(self.instrument_id, self.tick_ts, self.price, self.size)


class SignalEvent(Event):
    TYPE: ClassVar[str] = "signal"

    signal_id: str
    strategy_id: str
    instrument_id: str
    side: Side
    signal_ts: int
    price: Decimal
    strength: Decimal
    reason: str

    @classmethod
    def from_signal(cls, signal: Signal, *, ts: int, source: str) -> SignalEvent:
        return cls(
            ts=ts,
            source=source,
            key=signal.instrument_id,
            signal_id=signal.signal_id,
            strategy_id=signal.strategy_id,
            instrument_id=signal.instrument_id,
            side=signal.side,
            signal_ts=signal.ts,
            price=signal.price,
            strength=signal.strength,
            reason=signal.reason,
        )

    def to_signal(self) -> Signal:
        return Signal(
            strategy_id=self.strategy_id,
            instrument_id=self.instrument_id,
            side=self.side,
            ts=self.signal_ts,
            price=self.price,
            strength=self.strength,
            reason=self.reason,
            signal_id=self.signal_id,
        )


class _OrderFields(Event):
    """An order's full state at the moment of the event."""

    order_id: str
    client_order_id: str
    instrument_id: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    broker: str
    strategy_id: str | None
    signal_id: str | None
    venue_order_id: str | None
    reason: str | None
    created_ts: int
    # Cash a market BUY spends (the venue sizes it at the fill price); None: by quantity.
    quote_quantity: Decimal | None = None

    @classmethod
    def _order_kwargs(cls, order: Order) -> dict[str, object]:
        return {
            "key": order.order_id,
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "instrument_id": order.instrument_id,
            "side": order.side,
            "order_type": order.order_type,
            "quantity": order.quantity,
            "price": order.price,
            "time_in_force": order.time_in_force,
            "status": order.status,
            "filled_quantity": order.filled_quantity,
            "avg_fill_price": order.avg_fill_price,
            "broker": order.broker,
            "strategy_id": order.strategy_id,
            "signal_id": order.signal_id,
            "venue_order_id": order.venue_order_id,
            "reason": order.reason,
            "created_ts": order.created_ts,
            "quote_quantity": order.quote_quantity,
        }

    def to_order(self) -> Order:
        return Order(
            instrument_id=self.instrument_id,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price,
            created_ts=self.created_ts,
            broker=self.broker,
            strategy_id=self.strategy_id,
            signal_id=self.signal_id,
            time_in_force=self.time_in_force,
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            status=self.status,
            filled_quantity=self.filled_quantity,
            avg_fill_price=self.avg_fill_price,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            updated_ts=self.ts,
            quote_quantity=self.quote_quantity,
        )


class OrderPending(_OrderFields):
    """An order persisted and ready for its venue (topic ``orders.pending``)."""

    TYPE: ClassVar[str] = "order.pending"

    @classmethod
    def from_order(cls, order: Order, *, ts: int, source: str) -> OrderPending:
        return cls(ts=ts, source=source, **cls._order_kwargs(order))


class OrderStatusChanged(_OrderFields):
    """A persisted order state change (topic ``orders.events``)."""

    TYPE: ClassVar[str] = "order.status"

    previous_status: OrderStatus | None

    @classmethod
    def from_order(
        cls, order: Order, previous: OrderStatus | None, *, ts: int, source: str
    ) -> OrderStatusChanged:
        return cls(
            ts=ts,
            source=source,
            previous_status=previous,
            **cls._order_kwargs(order),
        )


class FillEvent(Event):
    """An execution (topic ``fills``)."""

    TYPE: ClassVar[str] = "order.fill"

    fill_id: str
    order_id: str
    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    tax: Decimal
    liquidity: LiquiditySide
    fill_ts: int

    @classmethod
    def from_fill(cls, fill: Fill, *, ts: int, source: str) -> FillEvent:
        return cls(
            ts=ts,
            source=source,
            # By instrument: a position's fills are applied in the order the venue made
            # them, whichever of its orders they belong to (one order, one instrument).
            key=fill.instrument_id,
            fill_id=fill.fill_id,
            order_id=fill.order_id,
            client_order_id=fill.client_order_id,
            instrument_id=fill.instrument_id,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            commission=fill.commission,
            tax=fill.tax,
            liquidity=fill.liquidity,
            fill_ts=fill.ts,
        )

    def to_fill(self) -> Fill:
        return Fill(
            fill_id=self.fill_id,
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            instrument_id=self.instrument_id,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            commission=self.commission,
            tax=self.tax,
            ts=self.fill_ts,
            liquidity=self.liquidity,
        )


class PositionSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: str
    quantity: Decimal
    avg_price: Decimal
    last_price: Decimal | None
    realised_pnl: Decimal
    unrealised_pnl: Decimal


class PortfolioSnapshot(Event):
    """Cash, equity and positions of one account (topic ``portfolio.snapshots``)."""

    TYPE: ClassVar[str] = "portfolio.snapshot"

    account: str
    cash: Decimal
    equity: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    taxes: Decimal
    positions: tuple[PositionSnapshot, ...]


class RiskAlert(Event):
    """Something that needs a person (topic ``risk.alerts``), e.g. an order we did not place.

    ``kind`` is stable for machines (``foreign_order``, ``foreign_cancel``);
    ``halted`` says whether the account was moved to its safe state.
    """

    TYPE: ClassVar[str] = "risk.alert"

    account: str
    kind: str
    detail: str
    halted: bool
    client_order_id: str | None = None
    venue_order_id: str | None = None
    instrument_id: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        BarEvent,
        TickEvent,
        SignalEvent,
        OrderPending,
        OrderStatusChanged,
        FillEvent,
        PortfolioSnapshot,
        RiskAlert,
    )
}
