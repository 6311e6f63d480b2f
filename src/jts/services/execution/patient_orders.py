"""The order repository seen through a storage outage: every call waits for the store.

Order execution must delay an order while the database is locked or unreachable,
never lose it, so each repository call is retried (``StorageRetry``) until it
succeeds or the retry gives up; the caller then parks its event as a dead letter.
Repeating a call is safe: ``add`` (or ``add_submitted``) of an order that did get
stored raises ``DuplicateOrder``, and a transition stored already is refused as stale.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from decimal import Decimal

from jts.core.storage_retry import StorageRetry
from jts.domain.enums import OrderStatus
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.ports import OrderRepository
from jts.ports import OutboxMessage
from jts.ports import StatusChange


class PatientOrderRepository:
    """``OrderRepository`` whose calls wait out ``StorageUnavailable``."""

    def __init__(self, inner: OrderRepository, retry: StorageRetry) -> None:
        self.inner = inner
        self.retry = retry

    async def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        await self.retry.call(
            f"storing order {order.client_order_id}", lambda: self.inner.add(order, outbox=outbox)
        )

    async def add_submitted(self, placed: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> None:
        await self.retry.call(
            f"storing {len(placed)} submitted order(s)",
            lambda: self.inner.add_submitted(placed),
        )

    async def save_transition(
        self,
        order: Order,
        previous: OrderStatus,
        *,
        reason: str | None = None,
        fill: Fill | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        return await self.retry.call(
            f"saving order {order.client_order_id} {previous} -> {order.status}",
            lambda: self.inner.save_transition(
                order, previous, reason=reason, fill=fill, outbox=outbox
            ),
        )

    async def save_transitions(self, changes: Sequence[StatusChange]) -> None:
        await self.retry.call(
            f"saving {len(changes)} order status change(s)",
            lambda: self.inner.save_transitions(changes),
        )

    async def get(self, order_id: str) -> Order | None:
        return await self.retry.call(f"reading order {order_id}", lambda: self.inner.get(order_id))

    async def get_by_client_id(self, client_order_id: str) -> Order | None:
        return await self.retry.call(
            f"reading order {client_order_id}",
            lambda: self.inner.get_by_client_id(client_order_id),
        )

    async def list(
        self,
        *,
        statuses: Sequence[OrderStatus] | None = None,
        instrument_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Order]:
        return await self.retry.call(
            "listing orders",
            lambda: self.inner.list(statuses=statuses, instrument_id=instrument_id, limit=limit),
        )

    async def audit_trail(
        self, order_id: str
    ) -> builtins.list[tuple[OrderStatus | None, OrderStatus, int]]:
        return await self.retry.call(
            f"reading the audit trail of {order_id}", lambda: self.inner.audit_trail(order_id)
        )

    async def net_filled(self, instrument_id: str, *, broker: str | None = None) -> Decimal:
        return await self.retry.call(
            f"reading our position in {instrument_id}",
            lambda: self.inner.net_filled(instrument_id, broker=broker),
        )

    async def net_filled_all(self, *, broker: str | None = None) -> dict[str, Decimal]:
        return await self.retry.call(
            "reading our positions", lambda: self.inner.net_filled_all(broker=broker)
        )
