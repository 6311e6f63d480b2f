"""Orders, their audit trail and their fills in memory, refused and replayed as SQL does.

Every write checks everything first and changes the tables only once nothing can
fail any more: that is what makes it one transaction. A fill is recognised by its
``fill_id``, so a replayed execution report changes nothing and says so.
"""

from __future__ import annotations

import builtins
import uuid
from bisect import insort
from collections.abc import Sequence
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import StorageError
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.ports.storage import OutboxMessage
from jts.ports.storage import StatusChange
from jts.storage.memory.tables import AuditEntry
from jts.storage.memory.tables import FillKey
from jts.storage.memory.tables import Tables
from jts.storage.memory.tables import copy_order
from jts.storage.memory.tables import stored_fill
from jts.storage.memory.tables import stored_order
from jts.storage.values import as_stored_decimal
from jts.storage.values import check_submitted
from jts.storage.values import check_time
from jts.storage.values import parse_uuid

ZERO = Decimal(0)


class MemoryOrderRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        action = f"storing order {order.client_order_id}"
        row = self._checked_new(order, action)
        messages = self._checked_outbox(tuple(outbox), action)
        # Nothing can fail from here on.
        self._insert(row, [AuditEntry(None, row.status, row.reason, row.created_ts)], messages)

    async def add_submitted(self, placed: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> None:
        if not placed:
            return
        check_submitted([order for order, _ in placed])
        action = f"storing {len(placed)} submitted order(s)"
        rows = [self._checked_new(order, action) for order, _ in placed]
        messages = self._checked_outbox(tuple(m for _, outbox in placed for m in outbox), action)
        # Nothing can fail from here on: every order, then every message, as one commit.
        for row in rows:
            trail = [
                AuditEntry(None, OrderStatus.NEW, None, row.created_ts),
                AuditEntry(OrderStatus.NEW, row.status, row.reason, row.updated_ts),
            ]
            self._insert(row, trail, ())
        self._tables.write_outbox(messages)

    def _checked_new(self, order: Order, action: str) -> Order:
        """The row to store for a new ``order``, once nothing about it is refused."""
        tables = self._tables
        order_id = str(parse_uuid(order.order_id, "order id"))
        what = f"order {order.client_order_id}"
        check_time(order.created_ts, what)
        check_time(order.updated_ts, what)
        try:
            row = stored_order(order, order_id)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"{action} failed: {exc}") from exc
        if order.client_order_id in tables.order_ids_by_client:
            raise DuplicateOrder(f"order {order.client_order_id} is stored already")
        if order_id in tables.orders:
            raise StorageError(f"{action} failed: order id {order_id} is stored already")
        return row

    def _checked_outbox(
        self, messages: tuple[OutboxMessage, ...], action: str
    ) -> tuple[OutboxMessage, ...]:
        if messages:
            try:
                self._tables.check_outbox(messages)
            except StorageError as exc:
                raise StorageError(f"{action} failed: {exc}") from exc
        return messages

    def _insert(
        self, row: Order, trail: list[AuditEntry], messages: tuple[OutboxMessage, ...]
    ) -> None:
        tables = self._tables
        order_id = row.order_id
        tables.orders[order_id] = row
        tables.order_ids_by_client[row.client_order_id] = order_id
        insort(tables.order_sequence, (row.created_ts, uuid.UUID(order_id).int, order_id))
        tables.audit[order_id] = trail
        if messages:
            tables.write_outbox(messages)

    async def save_transition(
        self,
        order: Order,
        previous: OrderStatus,
        *,
        reason: str | None = None,
        fill: Fill | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        tables = self._tables
        order_id = self._key(order.order_id)
        action = f"saving order {order.client_order_id} {previous} -> {order.status}"
        values = _state(order, action)
        stored = tables.orders.get(order_id)
        if fill is not None and fill.fill_id in tables.fills:
            return False  # a replay, whatever the order's state now
        if stored is None or stored.status != previous:
            where = "is not stored" if stored is None else f"is stored as {stored.status}"
            raise StorageError(f"{action} refused: order {order.order_id} {where}, not {previous}")
        kept: Fill | None = None
        broker = ""
        if fill is not None:
            fill_order = self._key(fill.order_id, "fill's order id")
            check_time(fill.ts, f"fill {fill.fill_id}")
            owner = tables.orders.get(fill_order)
            if owner is None:
                raise StorageError(
                    f"{action} failed: fill {fill.fill_id} names order {fill.order_id}, "
                    "which is not stored"
                )
            broker = owner.broker
            try:
                kept = stored_fill(fill, fill_order)
            except (TypeError, ValueError) as exc:
                raise StorageError(f"{action} failed: {exc}") from exc
        messages = tuple(outbox)
        if messages:
            try:
                tables.check_outbox(messages)
            except StorageError as exc:
                raise StorageError(f"{action} failed: {exc}") from exc
        # Nothing can fail from here on: the columns a state change may touch, then the rest.
        _set_state(stored, order, values)
        if kept is not None:
            self._record_fill(kept, broker)
        tables.audit[order_id].append(AuditEntry(previous, order.status, reason, order.updated_ts))
        if messages:
            tables.write_outbox(messages)
        return True

    async def save_transitions(self, changes: Sequence[StatusChange]) -> None:
        tables = self._tables
        action = f"saving {len(changes)} order status change(s)"
        checked: list[tuple[Order, StatusChange, _Values]] = []
        # Each change is checked against the status the ones before it leave.
        status: dict[str, OrderStatus] = {}
        for change in changes:
            order = change.order
            order_id = self._key(order.order_id)
            values = _state(order, action)
            stored = tables.orders.get(order_id)
            now = None if stored is None else status.get(order_id, stored.status)
            if stored is None or now != change.previous:
                where = "is not stored" if stored is None else f"is stored as {now}"
                raise StorageError(
                    f"{action} refused: order {order.order_id} {where}, not {change.previous}"
                )
            status[order_id] = order.status
            checked.append((stored, change, values))
        messages = self._checked_outbox(tuple(m for c in changes for m in c.outbox), action)
        # Nothing can fail from here on.
        for stored, change, values in checked:
            order = change.order
            _set_state(stored, order, values)
            tables.audit[stored.order_id].append(
                AuditEntry(change.previous, order.status, change.reason, order.updated_ts)
            )
        if messages:
            tables.write_outbox(messages)

    def _record_fill(self, fill: Fill, broker: str) -> None:
        tables = self._tables
        seq = tables.next_fill_seq
        tables.next_fill_seq = seq + 1
        entry: FillKey = (fill.ts, seq, fill)
        tables.fills[fill.fill_id] = fill
        insort(tables.fill_sequence, entry)
        insort(tables.fills_by_order.setdefault(fill.order_id, []), entry)
        signed = fill.quantity if fill.side == Side.BUY else -fill.quantity
        instrument = fill.instrument_id
        tables.net[instrument] = tables.net.get(instrument, ZERO) + signed
        venue = (instrument, broker)
        tables.net_by_broker[venue] = tables.net_by_broker.get(venue, ZERO) + signed

    def _key(self, order_id: str, what: str = "order id") -> str:
        """The canonical id: stored ids are canonical already, so a hit needs no parsing."""
        if order_id in self._tables.orders:
            return order_id
        return str(parse_uuid(order_id, what))

    async def get(self, order_id: str) -> Order | None:
        orders = self._tables.orders
        stored = orders.get(order_id)
        if stored is None:
            try:
                stored = orders.get(str(uuid.UUID(order_id)))
            except ValueError:
                return None
        return None if stored is None else copy_order(stored)

    async def get_by_client_id(self, client_order_id: str) -> Order | None:
        order_id = self._tables.order_ids_by_client.get(client_order_id)
        return None if order_id is None else copy_order(self._tables.orders[order_id])

    async def list(
        self,
        *,
        statuses: Sequence[OrderStatus] | None = None,
        instrument_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Order]:
        if limit is not None and limit < 0:
            raise StorageError(f"listing orders failed: LIMIT must not be negative ({limit})")
        wanted = None if statuses is None else frozenset(statuses)
        if wanted is not None and not wanted:
            return []
        orders = self._tables.orders
        found: builtins.list[Order] = []
        if limit == 0:
            return found
        for _ts, _key, order_id in reversed(self._tables.order_sequence):
            stored = orders[order_id]
            if wanted is not None and stored.status not in wanted:
                continue
            if instrument_id is not None and stored.instrument_id != instrument_id:
                continue
            found.append(copy_order(stored))
            if limit is not None and len(found) >= limit:
                break
        return found

    async def net_filled(self, instrument_id: str, *, broker: str | None = None) -> Decimal:
        if broker is None:
            return self._tables.net.get(instrument_id, ZERO)
        return self._tables.net_by_broker.get((instrument_id, broker), ZERO)

    async def net_filled_all(self, *, broker: str | None = None) -> dict[str, Decimal]:
        if broker is None:
            return dict(self._tables.net)
        return {i: net for (i, b), net in self._tables.net_by_broker.items() if b == broker}

    async def audit_trail(
        self, order_id: str
    ) -> builtins.list[tuple[OrderStatus | None, OrderStatus, int]]:
        order_id = self._key(order_id)
        return [
            (entry.from_status, entry.to_status, entry.ts)
            for entry in self._tables.audit.get(order_id, ())
        ]


class MemoryFillRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def list(self, *, order_id: str | None = None) -> list[Fill]:
        if order_id is None:
            entries = self._tables.fill_sequence
        else:
            key = str(parse_uuid(order_id, "order id"))
            entries = self._tables.fills_by_order.get(key, [])
        return [fill for _ts, _seq, fill in entries]


_Values = tuple[Decimal, Decimal | None, Decimal, Decimal | None]


def _state(order: Order, action: str) -> _Values:
    """The amounts a state change stores, refused (``StorageError``) as SQL would refuse them."""
    check_time(order.updated_ts, f"order {order.client_order_id}")
    try:
        quantity = as_stored_decimal(order.quantity)
        price = None if order.price is None else as_stored_decimal(order.price)
        filled = as_stored_decimal(order.filled_quantity)
        average = order.avg_fill_price
        average = None if average is None else as_stored_decimal(average)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{action} failed: {exc}") from exc
    return quantity, price, filled, average


def _set_state(stored: Order, order: Order, values: _Values) -> None:
    """The columns a state change may touch."""
    stored.quantity, stored.price, stored.filled_quantity, stored.avg_fill_price = values
    stored.status = order.status
    stored.venue_order_id = order.venue_order_id
    stored.reason = order.reason
    stored.updated_ts = order.updated_ts
