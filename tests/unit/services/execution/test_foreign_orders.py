"""Orders and cancels the platform did not make: reported, alerted, the account halted."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from order_desk import SAMSUNG
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import Observe
from order_desk import build_service

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import OrderPending
from jts.domain.events import RiskAlert
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.services.execution.service import FOREIGN_CANCEL_REASON
from jts.storage.halts import FileHaltStore

S = OrderStatus


async def test_a_report_of_an_order_we_did_not_place_halts_the_account_and_is_alerted(
    desk: Desk, observe: Observe, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    with caplog.at_level(logging.ERROR, logger="jts.execution.foreign"):
        await desk.outside_order(Side.BUY, 55, 70_500)
        await desk.bar(9, 1, 70_000)  # it fills: its fill report is foreign too
    await desk.bus.drain()

    assert [r.levelname for r in caplog.records].count("ERROR") == 1
    assert "OUTSIDE1" in caplog.text and "foreign_order" in caplog.text
    assert len(alerts) == 1
    alert = alerts[0]
    assert isinstance(alert, RiskAlert)
    assert (alert.kind, alert.account, alert.client_order_id, alert.halted) == (
        "foreign_order",
        "paper",
        "OUTSIDE1",
        True,
    )
    # Never absorbed into our books.
    assert await desk.store.orders.get_by_client_id("OUTSIDE1") is None
    assert await desk.store.orders.net_filled(SAMSUNG) == 0
    halt = await desk.halts.current("paper")
    assert halt is not None and "OUTSIDE1" in halt.summary

    # Safe state: new orders are refused, buy or sell.
    await desk.signal(Side.BUY, 70_000)
    await desk.signal(Side.SELL, 70_000)
    assert await desk.store.orders.list() == []
    assert desk.service.stats.skipped == {"account halted": 2}
    assert desk.link.sent == []


async def test_an_outside_cancel_of_our_order_is_foreign_not_canceled_on_request(
    desk: Desk, observe: Observe
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    await desk.signal(Side.BUY, 60_000)  # a limit far below the market: it stays working
    ours = await desk.only_order()
    assert ours.status is S.ACCEPTED
    # Someone with the venue's token sends DELETE /orders/<our id>.
    await desk.venue.execution.cancel_order(ours)
    await desk.bus.drain()

    stored = await desk.only_order()
    assert stored.status is S.CANCELED
    assert stored.reason == FOREIGN_CANCEL_REASON
    assert "on request" not in (stored.reason or "")
    assert [a.kind for a in alerts if isinstance(a, RiskAlert)] == ["foreign_cancel"]
    assert await desk.halts.current("paper") is not None
    await desk.signal(Side.BUY, 70_000)
    assert len(await desk.store.orders.list()) == 1


async def test_a_foreign_open_order_found_by_reconciliation_halts_the_account(
    desk: Desk, observe: Observe
) -> None:
    alerts = observe(topics.RISK_ALERTS)
    desk.link.deaf = True  # its reports never reach us: only the venue's order list shows it
    await desk.outside_order(Side.BUY, 5, 60_000, client_order_id="BYHAND")
    assert [o.client_order_id for o in desk.venue.engine.open_orders()] == ["BYHAND"]
    desk.link.deaf = False
    assert await desk.halts.current("paper") is None

    await desk.service.reconcile()
    await desk.service.reconcile()  # seen again: one alert, one halt
    await desk.bus.drain()
    assert [(a.kind, a.client_order_id) for a in alerts if isinstance(a, RiskAlert)] == [
        ("foreign_order", "BYHAND")
    ]
    halt = await desk.halts.current("paper")
    assert halt is not None and halt.findings == 1


async def test_the_halt_survives_a_restart_and_only_an_explicit_resume_ends_it(
    desk: Desk,
) -> None:
    await desk.outside_order(Side.BUY, 55, 70_500)
    await desk.service.stop()

    # A restart: a new process (bus, service, halt store object) on the same data folder.
    bus = InProcessMessageBus()
    link = FlakyLink(desk.venue.execution)
    halts = FileHaltStore(desk.halts.directory)
    restarted = build_service(bus, desk.clock, desk.store, link, halts)
    await bus.start()
    desk.bus, desk.link, desk.service = bus, link, restarted
    try:
        await restarted.start()
        await desk.signal(Side.BUY, 70_000)
        assert await desk.store.orders.list() == []
        # Its reconciliation at start found the outsider's order still open: same halt.
        halt = await halts.current("paper")
        assert halt is not None and halt.findings == 2

        # The operator's resume (jts orders resume) writes the file the service reads.
        operator = FileHaltStore(desk.halts.directory)
        ended = await operator.resume("paper", by="ops", reason="checked the account", ts=1)
        assert ended is not None
        await desk.signal(Side.BUY, 70_000)
        assert len(await desk.store.orders.list()) == 1
    finally:
        await restarted.stop()
        await bus.stop()
    log = [json.loads(line) for line in operator.log_path.read_text().splitlines()]
    assert [entry["action"] for entry in log] == ["halt", "halt", "resume"]
    assert log[-1]["by"] == "ops" and log[-1]["reason"] == "checked the account"


async def test_an_order_stored_before_the_halt_is_never_sent_after_it(desk: Desk) -> None:
    order = Order(
        SAMSUNG,
        Side.BUY,
        OrderType.LIMIT,
        Decimal(10),
        Decimal(70_000),
        desk.clock.timestamp_ns(),
        "paper",
    )
    await desk.store.orders.add(order)  # stored NEW, its orders.pending not handled yet
    await desk.halts.halt("paper", "foreign_order: test", desk.clock.timestamp_ns())

    await desk.service.handle_pending(
        OrderPending.from_order(order, ts=desk.clock.timestamp_ns(), source="test")
    )
    stored = await desk.only_order()
    assert stored.status is S.REJECTED
    assert stored.reason is not None and "halted" in stored.reason
    assert desk.link.sent == []


async def test_a_cancel_the_venue_made_itself_is_not_foreign(desk: Desk, observe: Observe) -> None:
    alerts = observe(topics.RISK_ALERTS)
    await desk.signal(Side.BUY, 60_000)
    ours = await desk.only_order()
    # The venue's own cancel (a market order's remainder short of cash, an IOC remainder).
    reason = "insufficient cash at fill price 70,100; rest canceled"
    await desk.service.handle_report(
        ExecutionReport(ours.client_order_id, S.CANCELED, ours.created_ts + 1, reason=reason)
    )
    await desk.bus.drain()
    stored = await desk.only_order()
    assert stored.status is S.CANCELED and stored.reason == reason
    assert [a for a in alerts if isinstance(a, RiskAlert)] == []
    assert await desk.halts.current("paper") is None
