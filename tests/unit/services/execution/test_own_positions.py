"""Sells sized from memory: our net filled quantity agrees with the store, without a read."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from typing import cast

from order_desk import SAMSUNG
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import build_service

from jts.bus.inprocess import InProcessMessageBus
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.ports import OrderRepository
from jts.services.execution.own_positions import OwnPositions
from jts.storage.sql.repositories import SqlStore
from repository_samples import T0
from repository_samples import Store
from repository_samples import accepted_order
from repository_samples import make_fill
from repository_samples import make_order

S = OrderStatus
HYNIX = "KRX:000660"


class CountedReads:
    """An order repository that counts its position reads and can act in the middle of one."""

    def __init__(self, inner: OrderRepository) -> None:
        self.inner = inner
        self.reads = 0
        self.during_read: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def net_filled(self, instrument_id: str, *, broker: str | None = None) -> Decimal:
        self.reads += 1
        value = await self.inner.net_filled(instrument_id, broker=broker)
        hook, self.during_read = self.during_read, None
        if hook is not None:
            await hook()
        return value

    async def net_filled_all(self, *, broker: str | None = None) -> dict[str, Decimal]:
        self.reads += 1
        return await self.inner.net_filled_all(broker=broker)


def counted(store: Store) -> tuple[CountedReads, OwnPositions]:
    reads = CountedReads(store.orders)
    return reads, OwnPositions(cast(OrderRepository, reads), "paper")


async def book(store: Store, own: OwnPositions, order: Order, fill: Fill) -> None:
    assert await store.orders.save_transition(order, order.apply_fill(fill), fill=fill)
    own.booked(fill)


async def agree(store: Store, own: OwnPositions, *instruments: str) -> None:
    for instrument_id in instruments:
        assert await own.net(instrument_id) == await store.orders.net_filled(
            instrument_id, broker="paper"
        )


async def test_partial_fills_move_it_as_the_store_moves_and_a_restart_loads_the_same(
    store: Store,
) -> None:
    bought = await accepted_order(store, quantity="10")
    reads, own = counted(store)
    await own.load()
    await book(store, own, bought, make_fill(bought, "B1", "4", "70100", bought.updated_ts + 1))
    assert bought.status is S.PARTIALLY_FILLED
    await agree(store, own, SAMSUNG, HYNIX)
    await book(store, own, bought, make_fill(bought, "B2", "6", "70100", bought.updated_ts + 1))
    sold = replace(make_order(quantity="7"), side=Side.SELL)
    await store.orders.add(sold)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        assert await store.orders.save_transition(sold, sold.transition(target, T0 + step))
    await book(store, own, sold, make_fill(sold, "S1", "2.5", "71000", T0 + 10))
    assert sold.status is S.PARTIALLY_FILLED
    other = await accepted_order(store, instrument_id=HYNIX, quantity="3")
    await book(store, own, other, make_fill(other, "H1", "3", "150000", other.updated_ts + 1))

    await agree(store, own, SAMSUNG, HYNIX, "KRX:035720")
    assert await own.net(SAMSUNG) == Decimal("7.5")
    assert reads.reads == 1  # the load at start, nothing per sell

    restarted_reads, restarted = counted(store)
    await restarted.load()
    await agree(store, restarted, SAMSUNG, HYNIX, "KRX:035720")
    assert restarted_reads.reads == 1


async def test_a_fill_in_doubt_is_read_again_from_the_store(store: Store) -> None:
    bought = await accepted_order(store, quantity="10")
    reads, own = counted(store)
    await own.load()
    fill = make_fill(bought, "B1", "4", "70100", bought.updated_ts + 1)
    # Stored, but the answer was lost (the store raised after the commit): memory doubts.
    assert await store.orders.save_transition(bought, bought.apply_fill(fill), fill=fill)
    own.doubt(SAMSUNG)

    assert await own.net(SAMSUNG) == Decimal(4)
    assert await own.net(SAMSUNG) == Decimal(4)
    assert reads.reads == 2  # the load, then one read for the doubt, then memory again


async def test_a_read_that_a_fill_overtook_is_not_kept(store: Store) -> None:
    bought = await accepted_order(store, quantity="10")
    reads, own = counted(store)  # not loaded: every instrument is read once
    late = make_fill(bought, "B1", "4", "70100", bought.updated_ts + 1)

    async def fill_meanwhile() -> None:
        await book(store, own, bought, late)

    reads.during_read = fill_meanwhile
    assert await own.net(SAMSUNG) == 0  # what the store had when it was asked
    assert await own.net(SAMSUNG) == Decimal(4)  # not the stale 0: read again
    assert reads.reads == 2
    assert await own.net(SAMSUNG) == Decimal(4)
    assert reads.reads == 2


async def test_the_service_sizes_sells_without_reading_the_store(desk: Desk) -> None:
    await desk.signal(Side.BUY, 70_000)
    await desk.bar(9, 1, 70_000, volume=500)  # a partial fill at first
    await desk.bar(9, 2, 70_000)
    await desk.service.stop()

    # The next process loads our position once at start, then sells from memory.
    reads = CountedReads(desk.store.orders)
    counted_store = cast(SqlStore, SimpleNamespace(orders=reads, outbox=desk.store.outbox))
    bus = InProcessMessageBus()
    restarted = build_service(bus, desk.clock, counted_store, FlakyLink(desk.venue.execution))
    await bus.start()
    try:
        await restarted.start()
        await replace(desk, bus=bus, service=restarted).signal(Side.SELL, 71_000)
    finally:
        await restarted.stop()
        await bus.stop()

    sells = [o for o in await desk.store.orders.list() if o.side is Side.SELL]
    assert [s.quantity for s in sells] == [Decimal(142)]
    assert reads.reads == 1
