"""Modify through the ExecutionClient port, and the times in force a venue refuses.

The same promises on every venue: a modify keeps the order's client order id
whatever number the venue gives it, later fills land on that order, a partly
filled order can be repriced and trimmed, a restarted client can modify what
the last one placed, and a change no venue could make is refused before
anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from contract.test_broker_contract import PRICE
from contract.test_broker_contract import limit
from contract.test_broker_contract import wire
from fakes.venue_harness import Reports
from fakes.venue_harness import VenueHarness
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport


async def working(venue: VenueHarness, reports: Reports, cid: str, price: Decimal) -> Order:
    """A buy of 10 the venue accepted, as the platform's own order record would read."""
    order = limit(venue, cid, price)
    await venue.execution.submit_order(order)
    ack = await reports.wait_for(cid, OrderStatus.ACCEPTED)
    order.transition(OrderStatus.SUBMITTED, ack.ts)
    order.transition(OrderStatus.ACCEPTED, ack.ts)
    order.venue_order_id = ack.venue_order_id
    return order


def modified(cid: str, price: Decimal, quantity: Decimal) -> Callable[[ExecutionReport], bool]:
    def matches(report: ExecutionReport) -> bool:
        return (
            report.client_order_id == cid
            and report.price == price
            and report.quantity == quantity
            and report.fill is None
        )

    return matches


async def filled_quantity(venue: VenueHarness, cid: str) -> Decimal:
    fills = [f for f in await venue.execution.fills(0) if f.client_order_id == cid]
    assert len({f.fill_id for f in fills}) == len(fills), "no fill reported twice"
    return sum((f.quantity for f in fills), Decimal(0))


async def test_a_modify_reprices_the_order_under_its_client_order_id(venue: VenueHarness) -> None:
    reports = wire(venue)
    t = venue.tick()
    order = await working(venue, reports, "m-price", PRICE - 10 * t)
    await venue.execution.modify_order(order, price=PRICE - 5 * t)
    answer = await reports.wait(modified("m-price", PRICE - 5 * t, Decimal(10)))
    assert answer.status is OrderStatus.ACCEPTED
    assert answer.venue_order_id
    status = await venue.execution.query_order("m-price")
    assert status is not None
    assert (status.price, status.quantity, status.status) == (
        PRICE - 5 * t,
        Decimal(10),
        OrderStatus.ACCEPTED,
    )
    assert status.venue_order_id == answer.venue_order_id
    assert [o.client_order_id for o in await venue.execution.open_orders()].count("m-price") == 1
    # Only the new price fills: the market never comes down to the old one.
    await venue.set_price(PRICE - 6 * t)
    done = await reports.wait_for("m-price", OrderStatus.FILLED)
    assert done.fill is not None and done.fill.price <= PRICE - 5 * t
    assert await filled_quantity(venue, "m-price") == 10


async def test_a_modify_lowers_the_quantity(venue: VenueHarness) -> None:
    reports = wire(venue)
    t = venue.tick()
    before = await venue.execution.account()
    order = await working(venue, reports, "m-qty", PRICE - 10 * t)
    await venue.execution.modify_order(order, quantity=Decimal(6))
    await reports.wait(modified("m-qty", PRICE - 10 * t, Decimal(6)))
    status = await venue.execution.query_order("m-qty")
    assert status is not None and (status.quantity, status.price) == (6, PRICE - 10 * t)
    await venue.set_price(PRICE - 10 * t)
    await reports.wait_for("m-qty", OrderStatus.FILLED)
    assert await filled_quantity(venue, "m-qty") == 6
    after = await venue.execution.account()
    held = before.positions.get(venue.instrument_id, Decimal(0))
    assert after.positions.get(venue.instrument_id, Decimal(0)) == held + 6


async def test_a_partly_filled_order_is_repriced_and_trimmed(venue: VenueHarness) -> None:
    reports = wire(venue)
    t = venue.tick()
    order = await working(venue, reports, "m-part", PRICE - 10 * t)
    await venue.trade(PRICE - 10 * t, Decimal(4))
    partial = await reports.wait_for("m-part", OrderStatus.PARTIALLY_FILLED)
    assert partial.fill is not None and partial.fill.quantity == 4
    order.apply_fill(partial.fill)

    await venue.execution.modify_order(order, price=PRICE - 12 * t)
    answer = await reports.wait(modified("m-part", PRICE - 12 * t, Decimal(10)))
    assert answer.status is OrderStatus.PARTIALLY_FILLED
    order.amend(answer.price, answer.quantity, answer.ts)
    status = await venue.execution.query_order("m-part")
    assert status is not None
    assert (status.filled_quantity, status.quantity, status.price) == (4, 10, PRICE - 12 * t)

    with pytest.raises(InvalidOrder, match="already filled"):
        await venue.execution.modify_order(order, quantity=Decimal(4))
    await venue.execution.modify_order(order, quantity=Decimal(7))
    await reports.wait(modified("m-part", PRICE - 12 * t, Decimal(7)))
    await venue.set_price(PRICE - 13 * t)
    done = await reports.wait_for("m-part", OrderStatus.FILLED)
    assert done.fill is not None and done.fill.quantity == 3
    assert await filled_quantity(venue, "m-part") == 7


async def test_a_restarted_client_modifies_what_the_last_one_placed(venue: VenueHarness) -> None:
    reports = wire(venue)
    t = venue.tick()
    order = await working(venue, reports, "m-restart", PRICE - 10 * t)
    restarted = await venue.new_execution_client()
    restarted.set_report_handler(reports)
    await restarted.modify_order(order, price=PRICE - 5 * t)
    await reports.wait(modified("m-restart", PRICE - 5 * t, Decimal(10)))
    status = await restarted.query_order("m-restart")
    assert status is not None and status.price == PRICE - 5 * t
    await venue.set_price(PRICE - 6 * t)
    await reports.wait_for("m-restart", OrderStatus.FILLED)
    assert await filled_quantity(venue, "m-restart") == 10


async def test_a_modify_no_venue_could_make_is_refused_before_sending(venue: VenueHarness) -> None:
    reports = wire(venue)
    t = venue.tick()
    below = PRICE - 10 * t
    order = await working(venue, reports, "m-refused", below)
    count = venue.venue_order_count()
    with pytest.raises(InvalidOrder, match=f"nearest valid {below:,} below"):
        await venue.execution.modify_order(order, price=below + t / 2)
    with pytest.raises(InvalidOrder, match="not raise it"):
        await venue.execution.modify_order(order, quantity=Decimal(11))
    with pytest.raises(InvalidOrder, match="changes nothing"):
        await venue.execution.modify_order(order, price=below, quantity=Decimal(10))
    market = Order(venue.instrument_id, Side.BUY, OrderType.MARKET, Decimal(1), None, 1, "contract")
    with pytest.raises(InvalidOrder, match="only a limit order"):
        await venue.execution.modify_order(market, price=below)
    status = await venue.execution.query_order("m-refused")
    assert status is not None and (status.price, status.quantity) == (below, 10)
    assert venue.venue_order_count() == count
    assert [r for r in reports.of("m-refused") if r.price is not None] == []


async def test_a_time_in_force_the_venue_cannot_honour_is_refused_naming_it(
    venue: VenueHarness,
) -> None:
    if not venue.unsupported_time_in_force:
        pytest.skip("this venue honours every time in force")
    reports = wire(venue)
    count = venue.venue_order_count()
    for tif in sorted(venue.unsupported_time_in_force):
        cid = f"m-tif-{tif.value.lower()}"
        order = limit(venue, cid, PRICE - 10 * venue.tick())
        order.time_in_force = tif
        await venue.execution.submit_order(order)
        rejected = await reports.wait_for(cid, OrderStatus.REJECTED)
        assert rejected.reason is not None and tif.value in rejected.reason
    assert venue.venue_order_count() == count
    assert await venue.execution.open_orders() == []
