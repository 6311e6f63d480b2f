"""CreonBroker against the bridge over fake COM: both ports, end to end over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.creon_venue import INSTRUMENT
from fakes.creon_venue import CreonHarness
from fakes.creon_venue import creon_venue
from jts.brokers.creon.adapter import CreonBroker
from jts.brokers.creon.bridge.com import LT_TRADE_REQUEST
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns

KST = timezone(timedelta(hours=9))


class Reports:
    def __init__(self) -> None:
        self.seen: list[ExecutionReport] = []

    async def __call__(self, report: ExecutionReport) -> None:
        self.seen.append(report)

    async def wait(self, count: int) -> list[ExecutionReport]:
        for _ in range(500):
            if len(self.seen) >= count:
                return self.seen
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.seen)} reports, wanted {count}: {self.seen}")

    def statuses(self, cid: str) -> list[OrderStatus]:
        return [r.status for r in self.seen if r.client_order_id == cid]


def limit(cid: str, price: int, qty: int = 10, side: Side = Side.BUY) -> Order:
    return Order(
        INSTRUMENT,
        side,
        OrderType.LIMIT,
        Decimal(qty),
        Decimal(price),
        0,
        "creon",
        client_order_id=cid,
    )


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[CreonHarness, Reports]]:
    async with creon_venue(tmp_path) as harness:
        reports = Reports()
        harness.execution.set_report_handler(reports)
        yield harness, reports


async def test_limit_buy_fills_when_the_price_comes(venue: tuple[CreonHarness, Reports]) -> None:
    harness, reports = venue
    execution = harness.execution
    await execution.submit_order(limit("C1", 69_500))
    accepted = (await reports.wait(1))[0]
    assert (accepted.status, accepted.venue_order_id) == (OrderStatus.ACCEPTED, "1001")
    opened = await execution.open_orders()
    assert [(o.client_order_id, o.venue_order_id, o.status) for o in opened] == [
        ("C1", "1001", OrderStatus.ACCEPTED)
    ]
    await harness.set_price(Decimal(69_500))
    filled = (await reports.wait(2))[1]
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
    await reports.wait(1)
    harness.market_state.set_price("A005930", 69_000, volume=4)
    partial = (await reports.wait(2))[1]
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    order.venue_order_id = partial.venue_order_id
    await harness.execution.cancel_order(order)
    cancelled = (await reports.wait(3))[2]
    assert (cancelled.status, cancelled.venue_order_id) == (OrderStatus.CANCELED, "1001")
    status = await harness.execution.query_order("C2")
    assert status is not None
    assert (status.status, status.filled_quantity) == (OrderStatus.CANCELED, Decimal(4))


async def test_rejection_is_reported_with_creons_reason(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    await harness.execution.submit_order(limit("C3", 69_500, qty=10_000))  # beyond the cash
    rejected = (await reports.wait(1))[0]
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
    rejected = (await reports.wait(1))[0]
    assert (rejected.client_order_id, rejected.status) == ("C-tick", OrderStatus.REJECTED)
    # Only the adapter words it so: the bridge and Creon answer in their own words.
    assert rejected.reason == (
        "not sent to Creon: KRX:005930: price 69,550 KRW is not on the tick ladder "
        "(ticks of 100 KRW from 50,000 below 200,000): nearest valid 69,500 below, 69,600 above"
    )
    fractional = limit("C-frac", 69_500)
    fractional.price = Decimal("69500.5")
    await harness.execution.submit_order(fractional)
    rejected = (await reports.wait(2))[1]
    assert rejected.reason is not None and rejected.reason.startswith("not sent to Creon")
    assert "not a whole number of KRW" in rejected.reason
    assert harness.market_state.requests[LT_TRADE_REQUEST] == trade_requests
    assert harness.venue_order_count() == 0
    assert await harness.execution.query_order("C-tick") is None  # never journalled


async def test_market_data(venue: tuple[CreonHarness, Reports]) -> None:
    harness, _reports = venue
    market = harness.market
    assert await market.latest_price(INSTRUMENT) == Decimal(70_000)
    await harness.set_price(Decimal(70_100))
    assert await market.latest_price(INSTRUMENT) == Decimal(70_100)
    instruments = {i.key: i for i in await market.instruments()}
    assert instruments[INSTRUMENT].name == "삼성전자"
    today = harness.market_state.today
    midnight = dt_to_ns(datetime(today.year, today.month, today.day, tzinfo=KST))
    days = await market.historical_bars(
        INSTRUMENT, midnight - 10 * NANOS_PER_DAY, midnight + NANOS_PER_DAY, Timeframe.D1
    )
    assert days[-1].ts == midnight and days[-1].close == Decimal(70_100)
    assert [b.ts for b in days] == sorted(b.ts for b in days)
    session = midnight + 9 * 60 * NANOS_PER_MINUTE
    minutes = await market.historical_bars(
        INSTRUMENT, session, session + 30 * NANOS_PER_MINUTE, Timeframe.M1
    )
    assert [b.ts for b in minutes] == [session + k * NANOS_PER_MINUTE for k in range(30)]


async def test_dropped_answer_is_unknown_then_matched_never_resent(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    harness.market_state.drop_next_order_response()
    with pytest.raises(OutcomeUnknown):
        await harness.execution.submit_order(limit("C4", 69_000))
    assert harness.venue_order_count() == 1  # the bridge did place it
    status = await harness.execution.query_order("C4")
    assert status is not None
    assert (status.venue_order_id, status.status) == ("1001", OrderStatus.ACCEPTED)
    await harness.execution.submit_order(limit("C4", 69_000))  # resubmit: nothing sent
    assert harness.venue_order_count() == 1
    accepted = (await reports.wait(1))[0]
    assert (accepted.client_order_id, accepted.venue_order_id) == ("C4", "1001")

    restarted = await harness.new_execution_client()
    again = await restarted.query_order("C4")
    assert again is not None and again.venue_order_id == "1001"
    await restarted.submit_order(limit("C4", 69_000))
    assert harness.venue_order_count() == 1
    assert harness.market_state.submissions == 1


async def test_unknown_resolved_from_a_fresh_journal_reader(
    venue: tuple[CreonHarness, Reports],
) -> None:
    """The first client dies right after the dropped answer; a new one resolves the intent."""
    harness, _reports = venue
    harness.market_state.drop_next_order_response()
    with pytest.raises(OutcomeUnknown):
        await harness.execution.submit_order(limit("C5", 68_000))
    await harness.execution.disconnect()
    fresh = await harness.new_execution_client()
    status = await fresh.query_order("C5")
    assert status is not None and status.venue_order_id == "1001"
    assert harness.venue_order_count() == 1


async def test_wrong_secret_is_authentication_failed(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, _reports = venue
    intruder = CreonBroker(
        harness.server.url, "wrong", account=harness.market_state.account, journal_path=None
    )
    with pytest.raises(AuthenticationFailed):
        await intruder.connect()
    await intruder.disconnect()


async def test_a_bridge_that_restarts_is_followed(
    venue: tuple[CreonHarness, Reports], tmp_path: Path
) -> None:
    """The poller resumes after the bridge goes away; reports come once."""
    harness, reports = venue
    await harness.execution.submit_order(limit("C6", 69_000))
    await reports.wait(1)
    harness.market_state.set_connected(False)
    with pytest.raises(RequestNotSent):
        await harness.execution.submit_order(limit("C7", 69_000))
    harness.market_state.set_connected(True)
    await harness.set_price(Decimal(69_000))
    await reports.wait(2)
    await asyncio.sleep(0.2)
    assert reports.statuses("C6") == [OrderStatus.ACCEPTED, OrderStatus.FILLED]
    assert harness.venue_order_count() == 1
    await harness.execution.submit_order(limit("C7", 69_000))  # never sent: may go now
    assert harness.venue_order_count() == 2


async def test_harness_offers_what_the_contract_suite_needs(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, _reports = venue
    assert harness.tick() == Decimal(100)
    start, end = await harness.seed_history()
    bars = await harness.market.historical_bars(INSTRUMENT, start, end, Timeframe.M1)
    assert len(bars) == 60
    before = len(harness.streamed)
    await harness.set_price(Decimal(70_100))
    for _ in range(200):
        if len(harness.streamed) > before:
            break
        await asyncio.sleep(0.01)
    assert Decimal(70_100) in [t.price for t in harness.streamed[-1].ticks]
