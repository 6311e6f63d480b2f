"""Modifying a working order: the books follow the venue, and only our own modifies are ours."""

from __future__ import annotations

from decimal import Decimal

import pytest
from order_desk import Desk
from order_desk import Observe

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import InvalidOrder
from jts.domain.events import OrderStatusChanged
from jts.domain.events import RiskAlert
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import ExecutionReport
from jts.services.execution.service import FOREIGN_MODIFY_REASON

S = OrderStatus


def alerts_of(events: list[object]) -> list[str]:
    return [e.kind for e in events if isinstance(e, RiskAlert)]


async def test_our_modify_is_stored_published_and_filled_at_the_new_price(
    desk: Desk, observe: Observe
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    changes = observe(topics.ORDERS_EVENTS)
    await desk.signal(Side.BUY, 60_000)  # far below the market: it keeps working
    ours = await desk.only_order()
    first_venue_id = ours.venue_order_id
    quantity = ours.quantity

    await desk.service.modify(ours.client_order_id, price=Decimal(69_900))
    await desk.bus.drain()

    stored = await desk.only_order()
    assert (stored.status, stored.price, stored.quantity) == (S.ACCEPTED, 69_900, quantity)
    assert stored.venue_order_id and stored.venue_order_id != first_venue_id
    assert stored.reason == MODIFIED_ON_REQUEST
    trail = await desk.store.orders.audit_trail(stored.order_id)
    assert trail[-1][:2] == (S.ACCEPTED, S.ACCEPTED)
    last = [e for e in changes if isinstance(e, OrderStatusChanged)][-1]
    assert (last.price, last.previous_status, last.status) == (69_900, S.ACCEPTED, S.ACCEPTED)
    assert alerts_of(alerts) == []
    assert await desk.halts.current("paper") is None

    await desk.bar(9, 2, 69_900)
    filled = await desk.only_order()
    assert filled.status is S.FILLED and filled.avg_fill_price == 69_900


async def test_a_lower_quantity_is_stored_and_only_that_much_fills(desk: Desk) -> None:
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    await desk.service.modify(ours.client_order_id, quantity=ours.quantity - 10)
    await desk.bus.drain()
    assert (await desk.only_order()).quantity == ours.quantity - 10
    # The modify never reached the venue twice, and the order fills the trimmed size.
    await desk.bar(9, 2, 60_000, volume=1_000_000)
    done = await desk.only_order()
    assert (done.status, done.filled_quantity) == (S.FILLED, ours.quantity - 10)


async def test_a_modify_no_venue_could_make_changes_nothing(desk: Desk) -> None:
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    with pytest.raises(InvalidOrder, match="nearest valid"):
        await desk.service.modify(ours.client_order_id, price=Decimal("60050"))
    with pytest.raises(InvalidOrder, match="not raise it"):
        await desk.service.modify(ours.client_order_id, quantity=ours.quantity + 1)
    desk.link.lose_next_request = True
    with pytest.raises(BrokerUnavailable):
        await desk.service.modify(ours.client_order_id, price=Decimal(59_900))
    stored = await desk.only_order()
    assert (stored.price, stored.quantity, stored.venue_order_id) == (
        ours.price,
        ours.quantity,
        ours.venue_order_id,
    )
    # A refused or lost modify leaves no pending request: a later outside change is foreign.
    await desk.venue.execution.modify_order(stored, price=Decimal(59_800))
    await desk.bus.drain()
    assert (await desk.only_order()).reason == FOREIGN_MODIFY_REASON


async def test_a_modify_made_at_the_venue_by_someone_else_is_taken_and_halts(
    desk: Desk, observe: Observe
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    # By hand in the HTS, or with a stolen token: the venue changed our order.
    await desk.venue.execution.modify_order(ours, price=Decimal(65_000))
    await desk.bus.drain()

    stored = await desk.only_order()
    assert (stored.status, stored.price) == (S.ACCEPTED, 65_000)  # the books follow the venue
    assert stored.reason == FOREIGN_MODIFY_REASON
    assert alerts_of(alerts) == ["foreign_modify"]
    halt = await desk.halts.current("paper")
    assert halt is not None and ours.client_order_id in halt.summary
    await desk.signal(Side.BUY, 70_000)
    assert len(await desk.store.orders.list()) == 1  # no new order while halted


async def test_reconciliation_finds_terms_changed_while_reports_were_lost(
    desk: Desk, observe: Observe
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    desk.link.deaf = True
    await desk.venue.execution.modify_order(ours, price=Decimal(61_000), quantity=ours.quantity - 5)
    desk.link.deaf = False
    assert (await desk.only_order()).price == ours.price

    await desk.service.reconcile()
    await desk.service.reconcile()  # nothing more to take the second time
    await desk.bus.drain()
    stored = await desk.only_order()
    assert (stored.price, stored.quantity) == (61_000, ours.quantity - 5)
    assert alerts_of(alerts) == ["foreign_modify"]
    trail = await desk.store.orders.audit_trail(stored.order_id)
    assert [step[:2] for step in trail].count((S.ACCEPTED, S.ACCEPTED)) == 1


async def test_a_replayed_older_modify_report_is_ignored(desk: Desk, observe: Observe) -> None:
    """A restarted adapter replays the day's events: an earlier modify must not come back."""
    alerts = observe(topics.RISK_ALERTS)
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    await desk.service.modify(ours.client_order_id, price=Decimal(59_000))
    await desk.bar(9, 2, 65_000)  # time passes; nothing fills
    await desk.service.modify(ours.client_order_id, price=Decimal(58_000))
    await desk.bus.drain()
    now = await desk.only_order()
    replay = ExecutionReport(
        ours.client_order_id,
        S.ACCEPTED,
        ours.updated_ts,
        venue_order_id="PAPER-O2",
        reason=MODIFIED_ON_REQUEST,
        price=Decimal(59_000),
        quantity=ours.quantity,
    )
    await desk.service.handle_report(replay)
    await desk.bus.drain()
    after = await desk.only_order()
    assert (after.price, after.venue_order_id) == (58_000, now.venue_order_id)
    assert alerts_of(alerts) == []
