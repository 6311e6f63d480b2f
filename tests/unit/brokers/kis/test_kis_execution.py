"""KIS orders against the fake KIS server: reports, fills, cancels, and no doubled order."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.kis_venue import APP_KEY
from fakes.kis_venue import SAMSUNG
from fakes.kis_venue import KisHarness
from fakes.kis_venue import kis_venue
from fakes.venue_harness import Reports
from jts.brokers.common.intents import RESOLVE_GRACE_NS
from jts.brokers.kis.execution import NOTICE_MARGIN_NS
from jts.brokers.kis.execution import KisExecution
from jts.brokers.kis.session import open_session
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.orders import Order
from jts.domain.timestamps import NANOS_PER_SECOND
from waiting import eventually


def order(cid: str, *, side: Side = Side.BUY, qty: int = 10, price: int | None = 70_000) -> Order:
    return Order(
        SAMSUNG,
        side,
        OrderType.LIMIT if price is not None else OrderType.MARKET,
        Decimal(qty),
        None if price is None else Decimal(price),
        1,
        "kis",
        client_order_id=cid,
    )


async def wired(h: KisHarness) -> Reports:
    reports = Reports()
    h.execution.set_report_handler(reports)
    assert h.session.realtime is not None
    await asyncio.wait_for(h.session.realtime.connected.wait(), 5)
    return reports


async def test_limit_buy_is_accepted_then_filled_through_the_notice_stream(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-1"))
        accepted = await reports.wait_for("c-1", OrderStatus.ACCEPTED)
        assert accepted.venue_order_id == h.fake.orders[0].odno
        await h.set_price(Decimal(69_900))
        filled = await reports.wait_for("c-1", OrderStatus.FILLED)
        assert filled.fill is not None
        assert filled.fill.quantity == 10 and filled.fill.price == 70_000
        # The fee schedule is applied to venue fills: 0.015 % of 700,000 KRW.
        assert (filled.fill.commission, filled.fill.tax) == (105, 0)
        account = await h.execution.account()
        assert account.positions[SAMSUNG] == 10
        # The inquiry agrees and reports nothing twice.
        fills = await h.execution.fills(0)
        assert [f.quantity for f in fills] == [Decimal(10)]
        assert [r.status for r in reports.items].count(OrderStatus.FILLED) == 1


async def test_cancel_and_open_orders(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-2", price=60_000))
        accepted = await reports.wait_for("c-2", OrderStatus.ACCEPTED)
        open_orders = await h.execution.open_orders()
        assert [o.client_order_id for o in open_orders] == ["c-2"]
        live = order("c-2", price=60_000)
        live.venue_order_id = accepted.venue_order_id
        await h.execution.cancel_order(live)
        await reports.wait_for("c-2", OrderStatus.CANCELED)
        assert await h.execution.open_orders() == []
        status = await h.execution.query_order("c-2")
        assert status is not None and status.status is OrderStatus.CANCELED


async def test_a_cancel_frees_the_order_and_its_reserved_cash_at_once(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        # Inquiries only (no notice socket, no poll): what the client knows comes from asking.
        session = open_session(h.settings, h.settings.accounts[0], state_dir=tmp_path / "own")
        client = KisExecution(session.rest, state_dir=tmp_path / "own", poll_interval=3_600)
        reports = Reports()
        client.set_report_handler(reports)
        await client.connect()
        try:
            before = await client.account()
            await client.submit_order(order("c-20", price=60_000))
            accepted = await reports.wait_for("c-20", OrderStatus.ACCEPTED)
            assert (await client.account()).reserved_cash == before.reserved_cash + 600_000
            assert [o.client_order_id for o in await client.open_orders()] == ["c-20"]
            live = order("c-20", price=60_000)
            live.venue_order_id = accepted.venue_order_id
            await client.cancel_order(live)
            # At once: not after the cached inquiry or account state runs out.
            assert await client.open_orders() == []
            assert (await client.account()).reserved_cash == before.reserved_cash
            assert reports.of("c-20")[-1].status is OrderStatus.CANCELED
        finally:
            await client.disconnect()


async def test_a_refused_order_is_a_rejection_with_the_venue_reason(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        h.fake.reject_next_order()
        await h.execution.submit_order(order("c-3"))
        rejected = await reports.wait_for("c-3", OrderStatus.REJECTED)
        assert rejected.reason is not None and "APBK0919" in rejected.reason
        assert h.venue_order_count() == 0


def order_requests(h: KisHarness) -> list[str]:
    """Order and revise/cancel calls the fake KIS server received."""
    return [path for _, path, _ in h.fake.requests if path.endswith(("order-cash", "rvsecncl"))]


async def test_a_buy_off_the_tick_ladder_is_refused_before_reaching_kis(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-tick", price=71_550))
        rejected = await reports.wait_for("c-tick", OrderStatus.REJECTED)
        assert rejected.reason == (
            "not sent to KIS: KRX:005930: price 71,550 KRW is not on the tick ladder "
            "(ticks of 100 KRW from 50,000 below 200,000): nearest valid 71,500 below, 71,600 above"
        )
        assert order_requests(h) == []
        assert await h.execution.query_order("c-tick") is None  # never sent, never journalled


async def test_a_fractional_sell_is_refused_not_cut_to_a_lower_price(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        sell = order("c-frac", side=Side.SELL, qty=1, price=None)
        sell.order_type, sell.price = OrderType.LIMIT, Decimal("71500.9")
        await h.execution.submit_order(sell)
        rejected = await reports.wait_for("c-frac", OrderStatus.REJECTED)
        assert rejected.reason is not None
        assert "71,500.9 KRW" in rejected.reason and "not a whole number of KRW" in rejected.reason
        assert "nearest valid 71,500 below, 71,600 above" in rejected.reason
        assert order_requests(h) == []
        assert h.fake.orders == []


async def test_a_modify_off_the_tick_ladder_is_refused_before_reaching_kis(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-mod", price=60_000))
        accepted = await reports.wait_for("c-mod", OrderStatus.ACCEPTED)
        live = order("c-mod", price=60_000)
        live.venue_order_id = accepted.venue_order_id
        sent = order_requests(h)
        for bad in (Decimal(61_050), Decimal("61000.5")):
            with pytest.raises(InvalidOrder, match="nearest valid 61,000 below, 61,100 above"):
                await h.execution.modify_order(live, price=bad)
        assert order_requests(h) == sent
        assert [o.price for o in h.fake.orders] == [Decimal(60_000)]


async def test_answer_lost_after_the_venue_accepted_gives_one_order_across_retry_and_restart(
    tmp_path: Path,
) -> None:
    """The issue's fault test: drop the connection after KIS placed the order."""
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        h.fake.drop_next("order-cash", after_processing=True)
        with pytest.raises(OutcomeUnknown):
            await h.execution.submit_order(order("c-4"))
        assert h.venue_order_count() == 1
        # A retry of the same order is refused, not sent.
        with pytest.raises(OutcomeUnknown):
            await h.execution.submit_order(order("c-4"))
        assert h.venue_order_count() == 1
        # Reconciliation finds it by matching today's orders.
        found = await h.execution.query_order("c-4")
        assert found is not None
        assert found.venue_order_id == h.fake.orders[0].odno
        assert found.client_order_id == "c-4"
        # A restarted process with the same journal knows it and does not send it again.
        restarted = await h.new_execution_client()
        restarted.set_report_handler(reports)
        again = await restarted.query_order("c-4")
        assert again is not None and again.venue_order_id == found.venue_order_id
        await restarted.submit_order(order("c-4"))
        assert h.venue_order_count() == 1
        assert (await restarted.open_orders())[0].client_order_id == "c-4"


async def test_answer_lost_before_the_venue_acted_resolves_to_not_placed(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        clock = SimClock(time.time_ns())
        client = KisExecution(h.session.rest, state_dir=h.state_dir, clock=clock.timestamp_ns)
        h.clients.append(client)
        client.set_report_handler(Reports())
        await client.connect()
        h.fake.drop_next("order-cash", after_processing=False)
        with pytest.raises(OutcomeUnknown):
            await client.submit_order(order("c-5"))
        assert h.venue_order_count() == 0
        # Within the grace period the venue may just not list it yet: no verdict.
        clock.advance(RESOLVE_GRACE_NS - 1)
        with pytest.raises(BrokerUnavailable, match="not listed by KIS yet"):
            await client.query_order("c-5")
        clock.advance(1)  # the grace period is over: it was never placed
        assert await client.query_order("c-5") is None


async def test_fills_missed_by_the_socket_come_from_the_inquiry(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-6"))
        await reports.wait_for("c-6", OrderStatus.ACCEPTED)
        assert h.session.realtime is not None
        await h.session.realtime.stop()  # notices lost
        await h.set_price(Decimal(69_000))
        filled = await reports.wait_for("c-6", OrderStatus.FILLED)  # from the 0.2 s poll
        assert filled.fill is not None and filled.fill.quantity == 10


async def test_modify_moves_the_order_to_a_new_price_and_number(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-7", price=60_000))
        accepted = await reports.wait_for("c-7", OrderStatus.ACCEPTED)
        live = order("c-7", price=60_000)
        live.venue_order_id = accepted.venue_order_id
        await h.execution.modify_order(live, price=Decimal(61_000))
        answer = reports.of("c-7")[-1]
        assert (answer.status, answer.price, answer.quantity) == (
            OrderStatus.ACCEPTED,
            Decimal(61_000),
            Decimal(10),
        )
        new_odno = answer.venue_order_id
        assert new_odno is not None and new_odno != accepted.venue_order_id
        [modified] = [o for o in h.fake.orders if o.odno == new_odno]
        assert modified.price == 61_000
        status = await h.execution.query_order("c-7")
        assert status is not None
        assert (status.venue_order_id, status.price) == (new_odno, Decimal(61_000))
        assert status.status is OrderStatus.ACCEPTED
        await h.set_price(Decimal(60_500))  # crosses 61,000, not 60,000
        filled = await reports.wait_for("c-7", OrderStatus.FILLED)
        assert filled.fill is not None and filled.fill.price == 61_000
        assert OrderStatus.CANCELED not in [r.status for r in reports.of("c-7")]


async def test_market_buy_and_sell(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("m-buy", price=None, qty=3))
        bought = await reports.wait_for("m-buy", OrderStatus.FILLED)
        assert bought.fill is not None and bought.fill.price == 70_000
        assert h.fake.orders[0].ord_dvsn == "01"
        await h.execution.submit_order(order("m-sell", side=Side.SELL, price=None, qty=3))
        sold = await reports.wait_for("m-sell", OrderStatus.FILLED)
        # The sell-side tax applies: 0.20 % (KOSPI, from 2026) of 210,000 KRW; commission floored.
        assert sold.fill is not None and (sold.fill.tax, sold.fill.commission) == (420, 31)
        assert (await h.execution.account()).positions.get(SAMSUNG, 0) == 0


class ShiftedClock:
    """Wall time moved on by ``shift``: an adapter's later, without the test waiting for it."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> int:
        return time.time_ns() + self.offset

    def shift(self, nanos: int) -> None:
        self.offset += nanos


async def test_a_notice_delayed_past_the_inquiry_is_not_counted_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jts.brokers.kis")
    clock = ShiftedClock()
    async with kis_venue(tmp_path, clock=clock) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-8"))
        accepted = await reports.wait_for("c-8", OrderStatus.ACCEPTED)
        assert accepted.venue_order_id is not None
        h.fake.hold_notices()  # the socket stalls
        h.fake.fill(accepted.venue_order_id, 4)
        partial = await reports.wait_for("c-8", OrderStatus.PARTIALLY_FILLED)  # the inquiry
        assert partial.fill is not None and partial.fill.quantity == 4
        clock.shift(NOTICE_MARGIN_NS + NANOS_PER_SECOND)
        await h.execution.fills(0)  # an inquiry asked well after the fill
        h.fake.release_notices()  # the stalled notice of those 4 arrives late
        await eventually(lambda: "already counted by an inquiry" in caplog.text)
        h.fake.fill(accepted.venue_order_id, 6)
        await reports.wait_for("c-8", OrderStatus.FILLED)
        fills = [r.fill for r in reports.of("c-8") if r.fill is not None]
        assert [f.quantity for f in fills] == [4, 6]


async def test_account_is_inquired_again_only_after_something_changed(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)

        def balance_calls() -> int:
            return sum(1 for r in h.fake.requests if r[1].endswith("inquire-balance"))

        first = await h.execution.account()
        again = await h.execution.account()
        assert again == first and balance_calls() == 1
        await h.execution.submit_order(order("c-9", price=69_000, qty=100))
        await reports.wait_for("c-9", OrderStatus.ACCEPTED)
        after = await h.execution.account()
        assert balance_calls() == 2
        assert after.reserved_cash == first.reserved_cash + 100 * 69_000


async def test_a_restarted_client_watches_the_orders_still_open(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-10"))
        await reports.wait_for("c-10", OrderStatus.ACCEPTED)
        await h.execution.disconnect()  # the process goes away
        # Without the notice socket only the inquiry poll can see the fill.
        restarted = await h.new_execution_client(notices=False)
        after = Reports()
        restarted.set_report_handler(after)
        await h.set_price(Decimal(69_000))
        filled = await after.wait_for("c-10", OrderStatus.FILLED)
        assert filled.fill is not None and filled.fill.quantity == 10


async def test_reconciling_many_orders_shares_one_inquiry(tmp_path: Path) -> None:
    async with kis_venue(tmp_path, poll_interval=60) as h:
        reports = await wired(h)
        for i in range(5):
            await h.execution.submit_order(order(f"r-{i}", price=60_000 + 100 * i))
            await reports.wait_for(f"r-{i}", OrderStatus.ACCEPTED)
        before = sum(1 for r in h.fake.requests if r[1].endswith("inquire-daily-ccld"))
        for i in range(5):  # what reconciliation does per open order
            assert await h.execution.query_order(f"r-{i}") is not None
            await h.execution.fills(0)
        after = sum(1 for r in h.fake.requests if r[1].endswith("inquire-daily-ccld"))
        assert after - before == 1


def revisions(h: KisHarness) -> list[dict[str, str]]:
    """The bodies of the order-rvsecncl calls the fake KIS received, in order."""
    return [params for path, params in h.fake.queries if path.endswith("order-rvsecncl")]


async def test_a_cut_and_a_reprice_are_a_partial_cancel_then_a_whole_remainder_modify(
    tmp_path: Path,
) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-cut", price=60_000))
        accepted = await reports.wait_for("c-cut", OrderStatus.ACCEPTED)
        first = accepted.venue_order_id
        h.fake.fill(first, 3)  # 3 of 10 done: 7 left
        await reports.wait_for("c-cut", OrderStatus.PARTIALLY_FILLED)
        live = order("c-cut", price=60_000)
        live.venue_order_id = first
        live.filled_quantity = Decimal(3)
        await h.execution.modify_order(live, price=Decimal(61_000), quantity=Decimal(8))
        cut, move = revisions(h)
        assert (cut["RVSE_CNCL_DVSN_CD"], cut["QTY_ALL_ORD_YN"], cut["ORD_QTY"]) == ("02", "N", "2")
        assert cut["ORGN_ODNO"] == first
        assert (move["RVSE_CNCL_DVSN_CD"], move["QTY_ALL_ORD_YN"]) == ("01", "Y")
        assert (move["ORGN_ODNO"], move["ORD_UNPR"]) == (first, "61000")
        # KIS kept one order: the original (3 filled, 2 canceled) and its remainder of 5.
        original, remainder = h.fake.orders
        assert (original.filled_qty, original.cancelled_qty, original.remaining) == (3, 2, 0)
        assert (remainder.orgn_odno, remainder.qty, remainder.price) == (first, 5, 61_000)
        answer = reports.of("c-cut")[-1]
        assert (answer.status, answer.venue_order_id) == (
            OrderStatus.PARTIALLY_FILLED,
            remainder.odno,
        )
        assert (answer.price, answer.quantity) == (Decimal(61_000), Decimal(8))
        status = await h.execution.query_order("c-cut")
        assert status is not None
        assert (status.quantity, status.filled_quantity, status.price, status.status) == (
            Decimal(8),
            Decimal(3),
            Decimal(61_000),
            OrderStatus.PARTIALLY_FILLED,
        )
        await h.set_price(Decimal(60_500))
        done = await reports.wait_for("c-cut", OrderStatus.FILLED)
        assert done.fill is not None and done.fill.quantity == 5


async def test_a_lower_quantity_alone_keeps_the_kis_order_number(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        await h.execution.submit_order(order("c-low", price=60_000))
        accepted = await reports.wait_for("c-low", OrderStatus.ACCEPTED)
        live = order("c-low", price=60_000)
        live.venue_order_id = accepted.venue_order_id
        await h.execution.modify_order(live, quantity=Decimal(4))
        [cut] = revisions(h)
        assert (cut["RVSE_CNCL_DVSN_CD"], cut["QTY_ALL_ORD_YN"], cut["ORD_QTY"]) == ("02", "N", "6")
        assert reports.of("c-low")[-1].venue_order_id == accepted.venue_order_id
        assert len(h.fake.orders) == 1 and h.fake.orders[0].remaining == 4
        [working] = await h.execution.open_orders()
        assert (working.quantity, working.venue_order_id) == (Decimal(4), accepted.venue_order_id)
        # The cut rest fills in full: FILLED, never read as canceled.
        await h.set_price(Decimal(59_000))
        await reports.wait_for("c-low", OrderStatus.FILLED)
        status = await h.execution.query_order("c-low")
        assert status is not None and status.status is OrderStatus.FILLED
        assert OrderStatus.CANCELED not in [r.status for r in reports.of("c-low")]


async def test_ioc_goes_as_kis_ioc_and_gtc_is_refused_unsent(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        ioc = order("c-ioc", price=70_000, qty=5)
        ioc.time_in_force = TimeInForce.IOC
        await h.execution.submit_order(ioc)
        await reports.wait_for("c-ioc", OrderStatus.FILLED)
        assert h.fake.orders[0].ord_dvsn == "11"
        rest = order("c-ioc-rest", price=60_000, qty=5)
        rest.time_in_force = TimeInForce.IOC
        await h.execution.submit_order(rest)
        await reports.wait_for("c-ioc-rest", OrderStatus.CANCELED)  # nothing crossed at once
        sent = order_requests(h)
        gtc = order("c-gtc", price=60_000)
        gtc.time_in_force = TimeInForce.GTC
        await h.execution.submit_order(gtc)
        rejected = await reports.wait_for("c-gtc", OrderStatus.REJECTED)
        assert rejected.reason == (
            "not sent to KIS: KIS cannot keep an order past the day: time in force GTC"
        )
        assert order_requests(h) == sent


async def test_a_buy_of_a_cash_amount_is_refused_unsent(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        reports = await wired(h)
        spend = order("c-spend", price=None)
        spend.quote_quantity = Decimal(1_000_000)
        await h.execution.submit_order(spend)
        rejected = await reports.wait_for("c-spend", OrderStatus.REJECTED)
        assert rejected.reason == (
            "not sent to KIS: KIS takes a number of shares, not a cash amount to spend "
            "(quote quantity)"
        )
        assert order_requests(h) == []


async def test_a_cut_that_stood_is_reported_when_kis_refuses_the_reprice(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        h.fake._accounts[APP_KEY].cash = Decimal(600_000)  # exactly 10 at 60,000
        reports = await wired(h)
        await h.execution.submit_order(order("c-poor", price=60_000))
        accepted = await reports.wait_for("c-poor", OrderStatus.ACCEPTED)
        live = order("c-poor", price=60_000)
        live.venue_order_id = accepted.venue_order_id
        # 8 at 80,000 needs 160,000 more than the 480,000 the cut leaves reserved.
        with pytest.raises(OrderRejectedByVenue, match="APBK0919"):
            await h.execution.modify_order(live, price=Decimal(80_000), quantity=Decimal(8))
        answer = reports.of("c-poor")[-1]
        assert (answer.price, answer.quantity, answer.venue_order_id) == (
            Decimal(60_000),
            Decimal(8),
            accepted.venue_order_id,
        )
        assert [(o.price, o.remaining) for o in h.fake.orders] == [(Decimal(60_000), 8)]
        status = await h.execution.query_order("c-poor")
        assert status is not None and (status.quantity, status.price) == (8, 60_000)
