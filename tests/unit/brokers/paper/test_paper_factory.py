"""The paper venue end to end: simulated feed, SimClock, orders, fills and a balanced ledger."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.sim.feed import demo_instruments


def test_defaults_build_a_krx_paper_venue_on_the_demo_stocks() -> None:
    venue = build_paper_venue(SimClock(), start_session=date(2026, 3, 3), seed=1)
    assert venue.execution.venue == venue.market_data.venue == "paper"
    assert venue.engine.account.cash == Decimal(100_000_000)
    assert venue.feed is not None
    assert venue.feed.session_dates == [date(2026, 3, 3)]
    assert venue.engine.reference_price("KRX:005930") == Decimal(70_000)
    assert [i.key for i in venue.feed.instruments] == [i.key for i in demo_instruments()]


async def test_commission_override_is_charged() -> None:
    config = PaperConfig(commission_rate=Decimal("0.001"), starting_cash=Decimal(10_000_000))
    clock = SimClock()
    venue = build_paper_venue(clock, config, start_session=date(2026, 3, 3), seed=2)
    fills: list[ExecutionReport] = []

    async def keep(report: ExecutionReport) -> None:
        if report.fill is not None:
            fills.append(report)

    venue.execution.set_report_handler(keep)
    async for batch in venue.market_data.stream():
        clock.set_time(batch.ts)
        await venue.execution.on_batch(batch)
        if not venue.engine.orders():
            order = Order(
                "KRX:005930", Side.BUY, OrderType.MARKET, Decimal(10), None, batch.ts, "paper"
            )
            await venue.execution.submit_order(order)
        if fills:
            break
    fill = fills[0].fill
    assert fill is not None
    assert fill.commission == (fill.notional * Decimal("0.001")).to_integral_value(
        rounding="ROUND_FLOOR"
    )


async def test_a_trading_session_end_to_end_keeps_the_books_balanced() -> None:
    clock = SimClock()
    venue = build_paper_venue(clock, start_session=date(2026, 3, 3), sessions=2, seed=4)
    execution = venue.execution
    mirror: dict[str, Order] = {}
    submitted_at: dict[str, int] = {}

    async def on_report(report: ExecutionReport) -> None:
        # Replaying every report on our own copy proves each transition is legal.
        order = mirror[report.client_order_id]
        if report.fill is not None:
            order.apply_fill(report.fill)
            assert report.fill.ts > submitted_at[report.client_order_id]
        elif report.status is not order.status:
            order.transition(report.status, report.ts, report.reason)

    execution.set_report_handler(on_report)
    rng = random.Random(4)
    ids = [i.key for i in demo_instruments()]
    n = 0
    async for batch in venue.market_data.stream():
        clock.set_time(batch.ts)
        await execution.on_batch(batch)
        if rng.random() < 0.2:
            instrument_id = rng.choice(ids)
            last = await venue.market_data.latest_price(instrument_id)
            assert last is not None
            instrument = venue.engine.instrument(instrument_id)
            assert instrument is not None
            side = rng.choice([Side.BUY, Side.SELL])
            price = instrument.tick_rule.shift(last, rng.randint(-3, 3))
            kind = rng.choice([OrderType.MARKET, OrderType.LIMIT])
            n += 1
            order = Order(
                instrument_id,
                side,
                kind,
                Decimal(rng.randint(1, 40)),
                price if kind is OrderType.LIMIT else None,
                batch.ts,
                "paper",
                client_order_id=f"E{n}",
            )
            mirror[order.client_order_id] = replace(order)
            mirror[order.client_order_id].transition(OrderStatus.SUBMITTED, batch.ts)
            submitted_at[order.client_order_id] = batch.ts
            await execution.submit_order(order)
    await execution.end_of_session()

    fills = await execution.fills(0)
    assert len(fills) > 20
    account = await execution.account()
    spent = sum((-f.cash_delta for f in fills if f.side is Side.BUY), Decimal(0))
    received = sum((f.cash_delta for f in fills if f.side is Side.SELL), Decimal(0))
    assert account.cash == Decimal(100_000_000) - spent + received
    assert account.reserved_cash == 0
    for instrument_id in ids:
        net = sum(
            (f.quantity * f.side.sign for f in fills if f.instrument_id == instrument_id),
            Decimal(0),
        )
        assert account.positions.get(instrument_id, Decimal(0)) == net >= 0
    for cid, order in mirror.items():
        venue_view = await execution.query_order(cid)
        assert venue_view is not None
        assert (order.status, order.filled_quantity) == (
            venue_view.status,
            venue_view.filled_quantity,
        )
        assert order.status.is_terminal


def test_a_research_account_has_none_of_the_venue_rules() -> None:
    from jts.brokers.common.calendars import AlwaysOpenCalendar
    from jts.domain.enums import LiquiditySide
    from jts.sim.research import research_instrument
    from jts.sim.rules import RESEARCH_RULES

    goog = research_instrument("GOOG")
    config = PaperConfig(
        rules="research",
        market_venue="RESEARCH",
        currency="USD",
        starting_cash=Decimal(10_000),
        commission_rate=Decimal("0.001"),
    )
    venue = build_paper_venue(SimClock(), config, instruments=[goog], source=[])
    assert venue.engine.rules is RESEARCH_RULES
    assert isinstance(venue.calendar, AlwaysOpenCalendar)
    day = date(2004, 8, 19)
    assert venue.engine.fees.commission_rate(goog, day, LiquiditySide.TAKER) == Decimal("0.001")
    assert venue.engine.fees.costs(goog, Side.SELL, Decimal("0.5"), Decimal("3.33"), day, day) == (
        Decimal("0.001665"),  # exact, not truncated
        Decimal(0),  # no tax
    )
    default = build_paper_venue(SimClock(), start_session=date(2026, 3, 3))
    assert default.engine.rules.name == "venue"
