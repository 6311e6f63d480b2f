"""CreonExecution against the bridge over fake COM, end to end over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.creon_venue import INSTRUMENT
from fakes.creon_venue import CreonHarness
from fakes.creon_venue import first
from fakes.creon_venue import limit_order as limit
from fakes.creon_venue import wired_venue
from fakes.venue_harness import Reports
from jts.brokers.creon.bridge.com import LT_TRADE_REQUEST
from jts.brokers.creon.execution import CreonExecution
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import TimeInForce
from jts.domain.errors import RequestNotSent
from waiting import eventually


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[CreonHarness, Reports]]:
    async with wired_venue(tmp_path) as wired:
        yield wired


def statuses(reports: Reports, cid: str) -> list[OrderStatus]:
    return [r.status for r in reports.of(cid)]


async def test_limit_buy_fills_when_the_price_comes(venue: tuple[CreonHarness, Reports]) -> None:
    harness, reports = venue
    execution = harness.execution
    await execution.submit_order(limit("C1", 69_500))
    accepted = (await first(reports, 1))[0]
    assert (accepted.status, accepted.venue_order_id) == (OrderStatus.ACCEPTED, "1001")
    opened = await execution.open_orders()
    assert [(o.client_order_id, o.venue_order_id, o.status) for o in opened] == [
        ("C1", "1001", OrderStatus.ACCEPTED)
    ]
    await harness.set_price(Decimal(69_500))
    filled = (await first(reports, 2))[1]
    assert filled.status is OrderStatus.FILLED
    assert filled.fill is not None
    assert (filled.fill.quantity, filled.fill.price) == (Decimal(10), Decimal(69_500))
    assert filled.fill.client_order_id == "C1"
    assert filled.fill.commission == Decimal(104)  # 695,000 * 0.015 %, rounded down
    fills = await execution.fills(0)
    assert [f.fill_id for f in fills] == [filled.fill.fill_id]
    status = await execution.query_order("C1")
    assert status is not None and status.status is OrderStatus.FILLED
    assert status.avg_fill_price == Decimal(69_500)
    account = await execution.account()
    assert account.cash == Decimal(100_000_000 - 695_000)
    assert account.positions == {INSTRUMENT: Decimal(60)}
    assert await execution.open_orders() == []


async def test_partial_fills_then_cancel(venue: tuple[CreonHarness, Reports]) -> None:
    harness, reports = venue
    order = limit("C2", 69_000, qty=10)
    await harness.execution.submit_order(order)
    await first(reports, 1)
    harness.market_state.set_price("A005930", 69_000, volume=4)
    partial = (await first(reports, 2))[1]
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    order.venue_order_id = partial.venue_order_id
    await harness.execution.cancel_order(order)
    cancelled = await reports.wait_for("C2", OrderStatus.CANCELED)
    assert cancelled.venue_order_id == "1001"
    status = await harness.execution.query_order("C2")
    assert status is not None
    assert (status.status, status.filled_quantity) == (OrderStatus.CANCELED, Decimal(4))


async def test_rejection_is_reported_with_creons_reason(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    await harness.execution.submit_order(limit("C3", 69_500, qty=10_000))  # beyond the cash
    rejected = (await first(reports, 1))[0]
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason is not None and "매수가능금액" in rejected.reason
    status = await harness.execution.query_order("C3")
    assert status is not None and status.status is OrderStatus.REJECTED
    await harness.execution.submit_order(limit("C3", 69_500, qty=10_000))  # a replay sends nothing
    assert harness.venue_order_count() == 0
    assert harness.market_state.requests[0] <= 2  # the one rejected order + one query


async def test_a_price_off_the_tick_ladder_is_refused_before_the_bridge_is_called(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    trade_requests = harness.market_state.requests[LT_TRADE_REQUEST]
    await harness.execution.submit_order(limit("C-tick", 69_550))
    rejected = (await first(reports, 1))[0]
    assert (rejected.client_order_id, rejected.status) == ("C-tick", OrderStatus.REJECTED)
    # Only the adapter words it so: the bridge and Creon answer in their own words.
    assert rejected.reason == (
        "not sent to Creon: KRX:005930: price 69,550 KRW is not on the tick ladder "
        "(ticks of 100 KRW from 50,000 below 200,000): nearest valid 69,500 below, 69,600 above"
    )
    fractional = limit("C-frac", 69_500)
    fractional.price = Decimal("69500.5")
    await harness.execution.submit_order(fractional)
    rejected = (await first(reports, 2))[1]
    assert rejected.reason is not None and rejected.reason.startswith("not sent to Creon")
    assert "not a whole number of KRW" in rejected.reason
    assert harness.market_state.requests[LT_TRADE_REQUEST] == trade_requests
    assert harness.venue_order_count() == 0
    assert await harness.execution.query_order("C-tick") is None  # never journalled


async def test_a_buy_of_a_cash_amount_is_refused_before_the_bridge_is_called(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    spend = limit("C-spend", 69_000)
    spend.order_type, spend.price = OrderType.MARKET, None
    spend.quote_quantity = Decimal(1_000_000)
    await harness.execution.submit_order(spend)
    rejected = await reports.wait_for("C-spend", OrderStatus.REJECTED)
    assert rejected.reason == (
        "not sent to Creon: Creon takes a number of shares, not a cash amount to spend "
        "(quote quantity)"
    )
    assert harness.venue_order_count() == 0


async def test_gtc_is_refused_naming_it_and_ioc_is_sent_as_creons_ioc(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    gtc = limit("C-gtc", 69_000)
    gtc.time_in_force = TimeInForce.GTC
    await harness.execution.submit_order(gtc)
    rejected = await reports.wait_for("C-gtc", OrderStatus.REJECTED)
    assert rejected.reason == (
        "not sent to Creon: Creon orders live one day: time in force GTC is not supported"
    )
    assert harness.venue_order_count() == 0
    ioc = limit("C-ioc", 69_000)
    ioc.time_in_force = TimeInForce.IOC
    await harness.execution.submit_order(ioc)
    await reports.wait(lambda r: r.client_order_id == "C-ioc")
    assert [o.condition for o in harness.market_state.orders()] == ["1"]  # CpTd0311 input 7


async def test_a_bridge_that_restarts_is_followed(venue: tuple[CreonHarness, Reports]) -> None:
    """The poller resumes after the bridge goes away; reports come once."""
    harness, reports = venue
    await harness.execution.submit_order(limit("C6", 69_000))
    await first(reports, 1)
    harness.market_state.set_connected(False)
    with pytest.raises(RequestNotSent):
        await harness.execution.submit_order(limit("C7", 69_000))
    harness.market_state.set_connected(True)
    await harness.set_price(Decimal(69_000))
    await reports.wait_for("C6", OrderStatus.FILLED)
    head = harness.server.bridge.journal.head
    execution = harness.execution
    assert isinstance(execution, CreonExecution)
    await eventually(lambda: execution.last_seq >= head)  # every event taken
    assert statuses(reports, "C6") == [OrderStatus.ACCEPTED, OrderStatus.FILLED]
    assert harness.venue_order_count() == 1
    await harness.execution.submit_order(limit("C7", 69_000))  # never sent: may go now
    assert harness.venue_order_count() == 2
