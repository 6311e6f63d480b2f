"""Events: the messages services exchange on the bus.

Every event carries an envelope (``event_id``, ``type``, ``version``, ``ts``,
``source``, ``key``) so consumers can de-duplicate, route and evolve schemas.
``ts`` is UTC nanoseconds; money is Decimal and serialises as a JSON string.

Events are frozen ``msgspec.Struct`` values (``benchmarks/bench_events.py``: a bar
event builds in a seventh of a pydantic model's time and reads its bar without a copy).
Nothing validates them on the hot path: a producer builds one from a domain value that
was checked when it entered the system, and ``jts.core.codec`` validates what comes in
as bytes. A domain value (bar, tick, signal, fill) is embedded whole, so its fields are
defined once, in the domain.

Event ids are derived from what the event says, never drawn at random: a republished
event keeps its id, so every consumer's de-duplication drops the copy, while two
different events cannot share one (the id digests everything that tells them apart).
"""

from __future__ import annotations

from decimal import Decimal
from hashlib import blake2b
from typing import Any
from typing import ClassVar

import msgspec

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.orders import Order
from jts.domain.signals import Signal

EVENT_ID_MAX = 64
"""Longest event id: the outbox stores it in a ``String(64)`` unique column."""


def derived_event_id(kind: str, *parts: object) -> str:
    """``kind:`` and a 128-bit digest of ``parts``: stable, short and collision-free.

    The parts are joined with a separator no id or number contains, so ``("a", "bc")``
    and ``("ab", "c")`` digest differently. ``None`` and ``""`` are told apart as well.
    """
    # A list, not a generator: ``join`` builds one anyway, and this runs per order event.
    text = "\x1f".join(["\x00" if part is None else str(part) for part in parts])
    return f"{kind}:{blake2b(text.encode('utf-8'), digest_size=16).hexdigest()}"


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    gc=False,
    forbid_unknown_fields=True,
    tag_field="type",
):
    """Envelope fields shared by every event; ``type`` is the class's wire tag.

    ``gc=False``: events hold only strings, numbers, enums and acyclic values, so the
    garbage collector need not track the many bars a run creates.
    """

    TYPE: ClassVar[str] = "event"
    VERSION: ClassVar[int] = 2

    event_id: str
    version: int = 2
    ts: int
    source: str
    key: str

    @property
    def type(self) -> str:
        return self.TYPE


class BarEvent(Event, tag="market.bar", frozen=True, kw_only=True):
    TYPE: ClassVar[str] = "market.bar"

    bar: Bar

    @classmethod
    def from_bar(cls, bar: Bar, *, ts: int, source: str) -> BarEvent:
        return cls(event_id=bar_event_id(bar), ts=ts, source=source, key=bar.instrument_id, bar=bar)


def bar_event_id(bar: Bar) -> str:
    """One id per instrument, timeframe and minute, whoever publishes it and however often.

    A restarted collector that publishes a minute again uses the same id, so every
    consumer drops the copy instead of folding the minute into its state twice.
    """
    # A ``StrEnum`` formats as its value, without the ``.value`` descriptor's call.
    return f"bar:{bar.instrument_id}:{bar.timeframe}:{bar.ts}"


class TickEvent(Event, tag="market.tick", frozen=True, kw_only=True):
    TYPE: ClassVar[str] = "market.tick"

    tick: Tick

    @classmethod
    def from_tick(cls, tick: Tick, *, ts: int, source: str, seq: int = 0) -> TickEvent:
        """``seq`` tells apart equal prints (same time, price and size) in one batch."""
        event_id = derived_event_id("tick", tick.instrument_id, tick.ts, tick.price, tick.size, seq)
        return cls(event_id=event_id, ts=ts, source=source, key=tick.instrument_id, tick=tick)


class SignalEvent(Event, tag="signal", frozen=True, kw_only=True):
    TYPE: ClassVar[str] = "signal"

    signal: Signal

    @classmethod
    def from_signal(cls, signal: Signal, *, ts: int, source: str) -> SignalEvent:
        return cls(
            event_id=derived_event_id("signal", signal.signal_id),
            ts=ts,
            source=source,
            key=signal.instrument_id,
            signal=signal,
        )


class MinuteMark(Event, tag="minute.mark", frozen=True, kw_only=True):
    """A watermark: ``stage`` has published everything it will for minutes <= ``minute_ts``.

    Published on every partition of a topic (``partition`` of ``partitions``), after that
    partition's events of the minute, so a consumer that has handled the mark has handled
    everything before it there. ``origin`` of ``origins`` names the upstream lane the mark
    vouches for (a strategy engine forwards one per ``market.bars`` partition), so a
    downstream consumer knows the minute is complete once it holds every (origin,
    partition) pair, however many instances forwarded them. Not a bar, signal or fill:
    consumers that do not track minutes ignore it like any event they do not handle.
    """

    TYPE: ClassVar[str] = "minute.mark"

    stage: str
    minute_ts: int
    origin: int = 0
    origins: int = 1
    partition: int = 0
    partitions: int = 1

    @classmethod
    def of(
        cls,
        stage: str,
        minute_ts: int,
        *,
        source: str,
        origin: int = 0,
        origins: int = 1,
        partition: int = 0,
        partitions: int = 1,
    ) -> MinuteMark:
        # One id per stage, minute and lane: a republished mark is dropped as a copy.
        event_id = derived_event_id("mark", stage, minute_ts, origin, origins, partition)
        return cls(
            event_id=event_id,
            ts=minute_ts,
            source=source,
            key=f"mark:{partition}",
            stage=stage,
            minute_ts=minute_ts,
            origin=origin,
            origins=origins,
            partition=partition,
            partitions=partitions,
        )

    def on(self, partition: int, partitions: int) -> MinuteMark:
        """This mark as published on ``partition`` of ``partitions``."""
        return MinuteMark.of(
            self.stage,
            self.minute_ts,
            source=self.source,
            origin=self.origin,
            origins=self.origins,
            partition=partition,
            partitions=partitions,
        )


class _OrderFields(Event, frozen=True, kw_only=True):
    """An order's full state at the moment of the event.

    The fields are the order's own, not an embedded ``Order``: an order is the execution
    service's mutable state machine, so embedding it would let the publisher's next
    transition (or any consumer) rewrite an event already on the bus. ``to_order`` gives
    each consumer its own copy instead.
    """

    VERSION: ClassVar[int] = 1

    version: int = 1
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
    def _order_kwargs(cls, order: Order) -> dict[str, Any]:
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


class OrderPending(_OrderFields, tag="order.pending", frozen=True, kw_only=True):
    """An order persisted and ready for its venue (topic ``orders.pending``).

    One id per order: publishing a stranded order again after a restart is the same
    event, and the router must see it once.
    """

    TYPE: ClassVar[str] = "order.pending"

    @classmethod
    def from_order(cls, order: Order, *, ts: int, source: str) -> OrderPending:
        event_id = derived_event_id("order.pending", order.client_order_id)
        return cls(event_id=event_id, ts=ts, source=source, **cls._order_kwargs(order))


class OrderStatusChanged(_OrderFields, tag="order.status", frozen=True, kw_only=True):
    """A persisted order state change (topic ``orders.events``).

    The id digests the transition: both statuses, the quantities and prices (a modify
    keeps the status), the venue's id, the reason and the order's ``updated_ts``, so a
    status the order returns to later (ACCEPTED, UNKNOWN, ACCEPTED again) is a new event.
    """

    TYPE: ClassVar[str] = "order.status"

    previous_status: OrderStatus | None

    @classmethod
    def from_order(
        cls, order: Order, previous: OrderStatus | None, *, ts: int, source: str
    ) -> OrderStatusChanged:
        event_id = derived_event_id(
            "order.status",
            order.client_order_id,
            previous,
            order.status,
            order.filled_quantity,
            order.avg_fill_price,
            order.quantity,
            order.price,
            order.venue_order_id,
            order.reason,
            order.updated_ts,
        )
        return cls(
            event_id=event_id,
            ts=ts,
            source=source,
            previous_status=previous,
            **cls._order_kwargs(order),
        )


class FillEvent(Event, tag="order.fill", frozen=True, kw_only=True):
    """An execution (topic ``fills``)."""

    TYPE: ClassVar[str] = "order.fill"

    fill: Fill

    @classmethod
    def from_fill(cls, fill: Fill, *, ts: int, source: str) -> FillEvent:
        return cls(
            event_id=derived_event_id("order.fill", fill.client_order_id, fill.fill_id),
            ts=ts,
            source=source,
            # By instrument: a position's fills are applied in the order the venue made
            # them, whichever of its orders they belong to (one order, one instrument).
            key=fill.instrument_id,
            fill=fill,
        )


class PositionSnapshot(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, forbid_unknown_fields=True
):
    instrument_id: str
    quantity: Decimal
    avg_price: Decimal
    last_price: Decimal | None
    realised_pnl: Decimal
    unrealised_pnl: Decimal


class PortfolioSnapshot(Event, tag="portfolio.snapshot", frozen=True, kw_only=True):
    """Cash, equity and positions of one account (topic ``portfolio.snapshots``).

    Build it with ``of``: two snapshots of one account at one clock time differ when a
    fill came between them, so the id digests the figures, not only account and time.
    """

    TYPE: ClassVar[str] = "portfolio.snapshot"
    VERSION: ClassVar[int] = 1

    version: int = 1
    account: str
    cash: Decimal
    equity: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    taxes: Decimal
    positions: tuple[PositionSnapshot, ...]

    @classmethod
    def of(
        cls,
        *,
        ts: int,
        source: str,
        account: str,
        cash: Decimal,
        equity: Decimal,
        realised_pnl: Decimal,
        unrealised_pnl: Decimal,
        fees: Decimal,
        taxes: Decimal,
        positions: tuple[PositionSnapshot, ...],
    ) -> PortfolioSnapshot:
        event_id = derived_event_id(
            "portfolio.snapshot",
            account,
            ts,
            cash,
            equity,
            realised_pnl,
            unrealised_pnl,
            fees,
            taxes,
            *(
                field
                for p in positions
                for field in (
                    p.instrument_id,
                    p.quantity,
                    p.avg_price,
                    p.last_price,
                    p.realised_pnl,
                    p.unrealised_pnl,
                )
            ),
        )
        return cls(
            event_id=event_id,
            ts=ts,
            source=source,
            key=account,
            account=account,
            cash=cash,
            equity=equity,
            realised_pnl=realised_pnl,
            unrealised_pnl=unrealised_pnl,
            fees=fees,
            taxes=taxes,
            positions=positions,
        )


class RiskAlert(Event, tag="risk.alert", frozen=True, kw_only=True):
    """Something that needs a person (topic ``risk.alerts``), e.g. an order we did not place.

    ``kind`` is stable for machines (``foreign_order``, ``foreign_cancel``);
    ``halted`` says whether the account was moved to its safe state. Build it with
    ``of``: the id digests the whole alert, time included, so only a copy shares it.
    """

    TYPE: ClassVar[str] = "risk.alert"
    VERSION: ClassVar[int] = 1

    version: int = 1
    account: str
    kind: str
    detail: str
    halted: bool
    client_order_id: str | None = None
    venue_order_id: str | None = None
    instrument_id: str | None = None

    @classmethod
    def of(
        cls,
        *,
        ts: int,
        source: str,
        key: str,
        account: str,
        kind: str,
        detail: str,
        halted: bool,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        instrument_id: str | None = None,
    ) -> RiskAlert:
        event_id = derived_event_id(
            "risk.alert",
            ts,
            key,
            account,
            kind,
            detail,
            halted,
            client_order_id,
            venue_order_id,
            instrument_id,
        )
        return cls(
            event_id=event_id,
            ts=ts,
            source=source,
            key=key,
            account=account,
            kind=kind,
            detail=detail,
            halted=halted,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id,
            instrument_id=instrument_id,
        )


def _registry(*classes: type[Event]) -> dict[str, type[Event]]:
    """Event classes by wire tag; refuses a class whose ``TYPE`` is not its tag."""
    registry: dict[str, type[Event]] = {}
    for cls in classes:
        tag = cls.__struct_config__.tag
        if tag != cls.TYPE:
            raise TypeError(f"{cls.__name__}: wire tag {tag!r} is not its TYPE {cls.TYPE!r}")
        registry[cls.TYPE] = cls
    return registry


EVENT_TYPES: dict[str, type[Event]] = _registry(
    BarEvent,
    TickEvent,
    SignalEvent,
    OrderPending,
    OrderStatusChanged,
    FillEvent,
    PortfolioSnapshot,
    RiskAlert,
    MinuteMark,
)
