"""Modify and cancel at Creon: one order across its numbers, reports only on Creon's confirmation.

A price modify (ours through CpTd0313, or one made by hand in the HTS) gives the
remaining quantity a new Creon number; the fills under it are the same order's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from fakes.creon_venue import INSTRUMENT
from fakes.creon_venue import CreonHarness
from fakes.creon_venue import limit_order as limit
from fakes.creon_venue import wired_venue
from fakes.venue_harness import Reports
from jts.brokers.common.intents import OrderIntent
from jts.brokers.creon.execution import CreonExecution
from jts.brokers.creon.http import BridgeClient
from jts.brokers.creon.schemas import EventOut
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import BrokerError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RequestNotSent
from jts.domain.orders import Order
from jts.domain.reports import MODIFIED_ON_REQUEST
from jts.domain.reports import ExecutionReport


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[CreonHarness, Reports]]:
    async with wired_venue(tmp_path) as wired:
        yield wired


async def placed(harness: CreonHarness, reports: Reports, cid: str, price: int) -> Order:
    order = limit(cid, price)
    await harness.execution.submit_order(order)
    ack = await reports.wait_for(cid, OrderStatus.ACCEPTED)
    order.transition(OrderStatus.SUBMITTED, ack.ts)
    order.transition(OrderStatus.ACCEPTED, ack.ts)
    order.venue_order_id = ack.venue_order_id
    return order


def modify_of(cid: str) -> Callable[[ExecutionReport], bool]:
    def matches(report: ExecutionReport) -> bool:
        return report.client_order_id == cid and report.reason == MODIFIED_ON_REQUEST

    return matches


async def test_a_hand_modify_in_the_hts_keeps_the_order_and_its_fills(
    venue: tuple[CreonHarness, Reports],
) -> None:
    """The HTS renumbers the order; its fills are ours, and it is not CANCELED with 0 filled."""
    harness, reports = venue
    before = await harness.execution.account()
    await placed(harness, reports, "H1", 69_000)
    new = harness.market_state.modify_by_hand(1001, 69_200)
    moved = await reports.wait(modify_of("H1"))
    assert (moved.status, moved.venue_order_id) == (OrderStatus.ACCEPTED, str(new))
    assert (moved.price, moved.quantity) == (Decimal(69_200), Decimal(10))
    await harness.set_price(Decimal(69_200))
    done = await reports.wait_for("H1", OrderStatus.FILLED)
    assert done.fill is not None
    assert (done.fill.client_order_id, done.fill.order_id) == ("H1", str(new))
    assert (done.fill.quantity, done.fill.price) == (Decimal(10), Decimal(69_200))
    status = await harness.execution.query_order("H1")
    assert status is not None
    assert (status.status, status.filled_quantity, status.quantity) == (
        OrderStatus.FILLED,
        Decimal(10),
        Decimal(10),
    )
    assert status.venue_order_id == str(new)
    assert [f.client_order_id for f in await harness.execution.fills(0)] == ["H1"]
    after = await harness.execution.account()
    held = before.positions.get(INSTRUMENT, Decimal(0))
    assert after.positions[INSTRUMENT] == held + 10


async def test_a_restarted_client_chains_a_hand_modify_from_the_look_ups(
    venue: tuple[CreonHarness, Reports],
) -> None:
    """Modified by hand and partly filled while no client listened: one order, all its fills."""
    harness, reports = venue
    await placed(harness, reports, "H2", 69_000)
    await harness.execution.disconnect()
    new = harness.market_state.modify_by_hand(1001, 69_100)
    harness.market_state.trade("A005930", 69_100, 4)
    head = harness.server.bridge.journal.head
    # Events after the restart only: the chain must come from the look-ups' 원주문번호.
    restarted = harness.venue(harness.journal_path, after_seq=head).execution
    await restarted.connect()
    fills = await restarted.fills(0)
    assert [(f.client_order_id, f.order_id, f.quantity) for f in fills] == [
        ("H2", str(new), Decimal(4))
    ]
    status = await restarted.query_order("H2")
    assert status is not None
    assert (status.status, status.venue_order_id, status.price) == (
        OrderStatus.PARTIALLY_FILLED,
        str(new),
        Decimal(69_100),
    )
    assert (status.filled_quantity, status.quantity) == (Decimal(4), Decimal(10))
    opened = await restarted.open_orders()
    assert [(o.client_order_id, o.filled_quantity, o.quantity) for o in opened] == [
        ("H2", Decimal(4), Decimal(10))
    ]


async def test_our_modify_binds_the_new_number_and_later_cancels_follow_it(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    order = await placed(harness, reports, "M1", 69_000)
    await harness.execution.modify_order(order, price=Decimal(68_900))
    moved = await reports.wait(modify_of("M1"))
    assert moved.venue_order_id == "1002"
    assert isinstance(harness.execution, CreonExecution)
    assert harness.execution.journal.venue_ids_of("M1") == ["1001", "1002"]
    order.amend(moved.price, moved.quantity, moved.ts)
    await harness.execution.cancel_order(order)  # the order's number is now 1002
    canceled = await reports.wait_for("M1", OrderStatus.CANCELED)
    assert canceled.venue_order_id == "1002"
    status = await harness.execution.query_order("M1")
    assert status is not None and status.status is OrderStatus.CANCELED


async def test_a_lower_quantity_and_a_new_price_in_one_modify(
    venue: tuple[CreonHarness, Reports],
) -> None:
    """The partial cancel goes first, on the number the order has, then the reprice."""
    harness, reports = venue
    order = await placed(harness, reports, "M2", 69_000)
    await harness.execution.modify_order(order, price=Decimal(68_800), quantity=Decimal(7))
    await reports.wait(
        lambda r: r.client_order_id == "M2" and r.price == Decimal(68_800) and r.quantity == 7
    )
    status = await harness.execution.query_order("M2")
    assert status is not None
    assert (status.price, status.quantity, status.status) == (
        Decimal(68_800),
        Decimal(7),
        OrderStatus.ACCEPTED,
    )
    cancel, modify = (o for o in harness.market_state.all_orders() if o.orig_order_no == 1001)
    assert (cancel.is_cancel, cancel.quantity) == (True, 3)
    assert (modify.is_modify, modify.quantity, modify.price) == (True, 7, 68_800)


async def test_a_cancel_is_canceled_only_when_creon_confirms_it(
    venue: tuple[CreonHarness, Reports], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, reports = venue
    order = await placed(harness, reports, "K1", 69_000)
    # The message pump holds CpConclusion events: the confirm has not come yet.
    monkeypatch.setattr(harness.market_state, "deliver_events", lambda: None)
    await harness.execution.cancel_order(order)  # Creon accepted the request
    assert [r.status for r in reports.of("K1")] == [OrderStatus.ACCEPTED]
    monkeypatch.undo()
    canceled = await reports.wait_for("K1", OrderStatus.CANCELED)
    assert canceled.venue_order_id == "1001"


async def test_modifies_creon_cannot_make_are_refused_unsent(
    venue: tuple[CreonHarness, Reports],
) -> None:
    harness, reports = venue
    order = await placed(harness, reports, "M3", 69_000)
    count = len(harness.market_state.all_orders())
    with pytest.raises(InvalidOrder, match="nearest valid 69,000 below, 69,100 above"):
        await harness.execution.modify_order(order, price=Decimal(69_050))
    with pytest.raises(InvalidOrder, match="not raise it"):
        await harness.execution.modify_order(order, quantity=Decimal(12))
    assert len(harness.market_state.all_orders()) == count


def offline(answer: Callable[[httpx.Request], httpx.Response]) -> CreonExecution:
    """An execution client whose bridge answers with ``answer``; order 1001 is ours."""
    bridge = BridgeClient("http://bridge", "secret", account="1")
    bridge._http = httpx.AsyncClient(
        base_url="http://bridge", transport=httpx.MockTransport(answer)
    )
    execution = CreonExecution(bridge, journal_path=None)
    execution.journal.record(
        OrderIntent("X1", INSTRUMENT, limit("X1", 69_000).side, Decimal(10), Decimal(69_000), 0)
    )
    execution.journal.bind("X1", "1001")
    return execution


def working(cid: str = "X1") -> Order:
    order = limit(cid, 69_000)
    order.transition(OrderStatus.SUBMITTED, 1)
    order.transition(OrderStatus.ACCEPTED, 1)
    return order


async def test_a_cancel_creon_accepted_without_its_canceled_quantity_is_no_failure() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json={"order_no": "1001", "cancel_order_no": "1002"})

    execution = offline(answer)
    await execution.cancel_order(working())
    assert [(r.method, r.url.path, r.url.params["code"]) for r in asked] == [
        ("DELETE", "/orders/1001", "A005930")
    ]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {"detail": "[40031] 정정가능수량이 없습니다", "code": "REJECTED", "sent": True},
            OrderRejectedByVenue,
        ),
        (
            502,
            {"detail": "COM: not dispatched", "code": "COM_ERROR", "sent": False},
            RequestNotSent,
        ),
        (
            502,
            {"detail": "COM: after BlockRequest", "code": "COM_ERROR", "sent": True},
            OutcomeUnknown,
        ),
        (
            502,
            {"detail": "BlockRequest returned 1", "code": "COMM_FAILURE", "sent": True},
            OutcomeUnknown,
        ),
    ],
)
async def test_a_modify_that_fails_at_the_bridge_says_whether_it_was_sent(
    status: int, body: dict[str, object], expected: type[BrokerError]
) -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(status, json=body)

    execution = offline(answer)
    with pytest.raises(expected) as raised:
        await execution.modify_order(working(), price=Decimal(68_900))
    assert type(raised.value) is expected
    assert all(r.url.path == "/orders/1001/modify" for r in asked)
    # Sent, or maybe sent: asked once. Provably not sent: the guard may ask again.
    assert len(asked) == 1 or expected is RequestNotSent
    assert execution.journal.venue_ids_of("X1") == ["1001"]  # no new number bound


async def test_a_modify_creon_refuses_after_accepting_leaves_the_order_on_its_number() -> None:
    """The new number was bound at the answer; the reject event takes it back."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = {
            "order_no": "1002",
            "original_order_no": "1001",
            "code": "A005930",
            "price": "68900",
            "quantity": 10,
        }
        return httpx.Response(200, json=body)

    execution = offline(answer)
    reports = Reports()
    execution.set_report_handler(reports)
    await execution.modify_order(working(), price=Decimal(68_900))
    intent = execution.journal.get("X1")
    assert intent is not None and intent.venue_order_id == "1002"
    event = EventOut(
        seq=1,
        ts=2,
        kind="reject",
        modify="modify",
        order_no="1002",
        orig_order_no="1001",
        code="A005930",
        side=Side.BUY,
        quantity=10,
        price=Decimal(68_900),
        filled_quantity=0,
        order_quantity=None,
    )
    await execution._dispatch(event)
    intent = execution.journal.get("X1")
    assert intent is not None and intent.venue_order_id == "1001"
    assert reports.items == []  # nothing changed at Creon
