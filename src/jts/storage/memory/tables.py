"""The rows of one in-memory store, and copies that keep them private.

Repositories share one ``Tables`` the way SQL repositories share an engine: an
order's transition writes the order, its audit entry, its fill and its outbox
rows here together. Orders and strategy records are mutable, so what goes in and
what comes out is a copy; fills, events and outbox messages are frozen and shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.errors import StorageError
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.ports.storage import OutboxMessage
from jts.ports.storage import StoredOutboxMessage
from jts.storage.values import as_stored_decimal


@dataclass(frozen=True, slots=True)
class AuditEntry:
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None
    ts: int


@dataclass(slots=True)
class OutboxEntry:
    stored: StoredOutboxMessage
    published_ts: int | None = None


# (ts, sequence, fill): sorts like the SQL ``ORDER BY ts, id``; the sequence is unique.
FillKey = tuple[int, int, Fill]


class Tables:
    """Every row of one store, indexed the ways the repositories read them."""

    def __init__(self, wall_ns: Callable[[], int], *, keep_published: bool = True) -> None:
        self.wall_ns = wall_ns
        # False: an outbox row goes once it is marked published (see ``MemoryStore``).
        self.keep_published = keep_published
        # Orders by canonical id; creation order (created_ts, UUID as int, id) ascending,
        # the SQL ``ORDER BY created_ts, id`` read backwards for newest first.
        self.orders: dict[str, Order] = {}
        self.order_ids_by_client: dict[str, str] = {}
        self.order_sequence: list[tuple[int, int, str]] = []
        self.audit: dict[str, list[AuditEntry]] = {}
        self.fills: dict[str, Fill] = {}
        self.fill_sequence: list[FillKey] = []
        self.fills_by_order: dict[str, list[FillKey]] = {}
        self.next_fill_seq = 1
        # Signed filled quantity per instrument, and per (instrument, order's broker).
        self.net: dict[str, Decimal] = {}
        self.net_by_broker: dict[tuple[str, str], Decimal] = {}
        self.outbox: dict[str, OutboxEntry] = {}
        self.unpublished: dict[int, OutboxEntry] = {}  # by sequence: oldest first
        self.next_outbox_seq = 1
        self.positions: dict[str, dict[str, Position]] = {}
        self.strategies: dict[str, StrategyRecord] = {}  # by name
        self.strategy_names: dict[str, str] = {}  # by id

    def check_outbox(self, messages: tuple[OutboxMessage, ...]) -> None:
        """Refuse an event id stored already or repeated, as the unique column does."""
        seen: set[str] = set()
        for message in messages:
            event_id = message.event.event_id
            if event_id in self.outbox or event_id in seen:
                raise StorageError(f"outbox event {event_id} is stored already")
            seen.add(event_id)

    def write_outbox(self, messages: tuple[OutboxMessage, ...]) -> None:
        """Append checked messages; created_ts is wall-clock time, as in the SQL outbox."""
        now = self.wall_ns()
        for message in messages:
            seq = self.next_outbox_seq
            self.next_outbox_seq = seq + 1
            entry = OutboxEntry(StoredOutboxMessage(seq, message, now))
            self.outbox[message.event.event_id] = entry
            self.unpublished[seq] = entry


def copy_order(order: Order) -> Order:
    """A fresh ``Order`` with the same fields (every field is immutable)."""
    return Order(
        instrument_id=order.instrument_id,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        created_ts=order.created_ts,
        broker=order.broker,
        strategy_id=order.strategy_id,
        signal_id=order.signal_id,
        time_in_force=order.time_in_force,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        status=order.status,
        filled_quantity=order.filled_quantity,
        avg_fill_price=order.avg_fill_price,
        venue_order_id=order.venue_order_id,
        reason=order.reason,
        updated_ts=order.updated_ts,
        quote_quantity=order.quote_quantity,
    )


def stored_order(order: Order, order_id: str) -> Order:
    """What the orders table would hold for ``order``; raises TypeError/ValueError for bad money."""
    price = order.price
    average = order.avg_fill_price
    quote = order.quote_quantity
    return Order(
        instrument_id=order.instrument_id,
        side=order.side,
        order_type=order.order_type,
        quantity=as_stored_decimal(order.quantity),
        price=None if price is None else as_stored_decimal(price),
        created_ts=order.created_ts,
        broker=order.broker,
        strategy_id=order.strategy_id,
        signal_id=order.signal_id,
        time_in_force=order.time_in_force,
        order_id=order_id,
        client_order_id=order.client_order_id,
        status=order.status,
        filled_quantity=as_stored_decimal(order.filled_quantity),
        avg_fill_price=None if average is None else as_stored_decimal(average),
        venue_order_id=order.venue_order_id,
        reason=order.reason,
        updated_ts=order.updated_ts,
        quote_quantity=None if quote is None else as_stored_decimal(quote),
    )


def stored_fill(fill: Fill, order_id: str) -> Fill:
    """``fill`` as the fills table gives it back: canonical order id, exact amounts."""
    quantity = as_stored_decimal(fill.quantity)
    price = as_stored_decimal(fill.price)
    commission = as_stored_decimal(fill.commission)
    tax = as_stored_decimal(fill.tax)
    if (
        order_id == fill.order_id
        and quantity is fill.quantity
        and price is fill.price
        and commission is fill.commission
        and tax is fill.tax
    ):
        return fill  # frozen, nothing to rewrite: shared safely
    return Fill(
        fill_id=fill.fill_id,
        order_id=order_id,
        client_order_id=fill.client_order_id,
        instrument_id=fill.instrument_id,
        side=fill.side,
        quantity=quantity,
        price=price,
        commission=commission,
        tax=tax,
        ts=fill.ts,
        liquidity=fill.liquidity,
    )


def stored_position(position: Position, money: dict[str, Decimal]) -> Position:
    """The positions table's row: rounded money, and no currency column (read as the default)."""
    last = position.last_price
    return Position(
        instrument_id=position.instrument_id,
        account=position.account,
        quantity=as_stored_decimal(position.quantity),
        avg_price=as_stored_decimal(position.avg_price),
        realised_pnl=as_stored_decimal(money["realised_pnl"]),
        fees=as_stored_decimal(money["fees"]),
        taxes=as_stored_decimal(money["taxes"]),
        bought_quantity=as_stored_decimal(position.bought_quantity),
        sold_quantity=as_stored_decimal(position.sold_quantity),
        last_price=None if last is None else as_stored_decimal(last),
        updated_ts=position.updated_ts,
    )


def copy_position(position: Position) -> Position:
    return Position(
        instrument_id=position.instrument_id,
        account=position.account,
        quantity=position.quantity,
        avg_price=position.avg_price,
        realised_pnl=position.realised_pnl,
        fees=position.fees,
        taxes=position.taxes,
        bought_quantity=position.bought_quantity,
        sold_quantity=position.sold_quantity,
        last_price=position.last_price,
        updated_ts=position.updated_ts,
        currency=position.currency,
    )


def copy_strategy(record: StrategyRecord) -> StrategyRecord:
    return StrategyRecord(
        name=record.name,
        status=record.status,
        created_at=record.created_at,
        dsl_code=record.dsl_code,
        id=record.id,
    )


def utc_time(value: datetime, what: str) -> datetime:
    """An aware time in UTC, as the timestamp columns return it; naive times are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(
            f"{what}: naive datetime {value!r}: only timezone-aware times are stored"
        )
    return value.astimezone(UTC)
