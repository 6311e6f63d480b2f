from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import dt_to_ns

SAMSUNG = "KRX:005930"


def seoul(hh: int, mm: int) -> int:
    return dt_to_ns(datetime(2026, 3, 3, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")))


def bar(ts: int, price: int, volume: int = 10_000, instrument_id: str = SAMSUNG) -> Bar:
    p = Decimal(price)
    return Bar(instrument_id, Timeframe.M1, ts, p, p, p, p, Decimal(volume))


def order(side: Side, qty: int, price: int | None = None, cid: str = "C1") -> Order:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return Order(
        SAMSUNG,
        side,
        kind,
        Decimal(qty),
        None if price is None else Decimal(price),
        0,
        "paper",
        client_order_id=cid,
    )


class Recorder:
    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []

    async def __call__(self, report: ExecutionReport) -> None:
        self.reports.append(report)

    @property
    def statuses(self) -> list[tuple[str, OrderStatus]]:
        return [(r.client_order_id, r.status) for r in self.reports]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(seoul(9, 1))


@pytest.fixture
def venue(clock: SimClock) -> PaperVenue:
    venue = build_paper_venue(clock, source=[], reference_prices={SAMSUNG: Decimal(70_000)})
    venue.engine.on_bar(bar(seoul(9, 0), 70_000))
    return venue


async def test_submit_needs_a_report_handler(venue: PaperVenue) -> None:
    with pytest.raises(ConfigurationError):
        await venue.execution.submit_order(order(Side.BUY, 1))
    assert venue.engine.orders() == []


async def test_reports_flow_through_the_handler(venue: PaperVenue, clock: SimClock) -> None:
    recorder = Recorder()
    execution = venue.execution
    execution.set_report_handler(recorder)
    await execution.submit_order(order(Side.BUY, 10))
    assert recorder.statuses == [("C1", OrderStatus.ACCEPTED)]
    reports = await execution.on_bar(bar(seoul(9, 1), 70_100))
    assert [r.status for r in reports] == [OrderStatus.FILLED]
    assert recorder.statuses[-1] == ("C1", OrderStatus.FILLED)
    fill = recorder.reports[-1].fill
    assert fill is not None and fill.price == Decimal(70_100)

    status = await execution.query_order("C1")
    assert status is not None
    assert (status.status, status.filled_quantity, status.avg_fill_price) == (
        OrderStatus.FILLED,
        Decimal(10),
        Decimal(70_100),
    )
    assert await execution.query_order("missing") is None
    assert await execution.fills(0) == [fill]
    assert await execution.fills(fill.ts + 1) == []
    account = await execution.account()
    assert account.positions == {SAMSUNG: Decimal(10)}
    assert account.cash == Decimal(100_000_000) - 701_000 - fill.commission
    assert account.reserved_cash == 0


async def test_resubmitting_a_client_order_id_reports_the_existing_order(
    venue: PaperVenue,
) -> None:
    recorder = Recorder()
    venue.execution.set_report_handler(recorder)
    await venue.execution.submit_order(order(Side.BUY, 10, 69_000, cid="X"))
    await venue.execution.submit_order(order(Side.BUY, 10, 69_000, cid="X"))
    assert recorder.statuses == [("X", OrderStatus.ACCEPTED), ("X", OrderStatus.ACCEPTED)]
    assert "duplicate" in (recorder.reports[1].reason or "")
    assert len(await venue.execution.open_orders()) == 1


async def test_cancel_and_session_end(venue: PaperVenue, clock: SimClock) -> None:
    recorder = Recorder()
    execution = venue.execution
    execution.set_report_handler(recorder)
    await execution.submit_order(order(Side.BUY, 10, 69_000, cid="A"))
    await execution.submit_order(order(Side.BUY, 10, 69_000, cid="B"))
    await execution.cancel_order(order(Side.BUY, 10, 69_000, cid="A"))
    open_ids = [report.client_order_id for report in await execution.open_orders()]
    assert open_ids == ["B"]
    clock.set_time(seoul(15, 30))
    await execution.end_of_session()
    assert recorder.statuses[-2:] == [("A", OrderStatus.CANCELED), ("B", OrderStatus.EXPIRED)]
    assert await execution.open_orders() == []


async def test_rejections_arrive_as_reports_with_reasons(
    venue: PaperVenue, clock: SimClock
) -> None:
    recorder = Recorder()
    venue.execution.set_report_handler(recorder)
    clock.set_time(seoul(16, 0))
    await venue.execution.submit_order(order(Side.BUY, 1, 70_000))
    (report,) = recorder.reports
    assert report.status is OrderStatus.REJECTED
    assert report.reason == "market closed: KRX is not trading at 2026-03-03T07:00:00Z"


async def test_reports_keep_their_order_when_the_handler_trades(venue: PaperVenue) -> None:
    execution = venue.execution
    seen: list[tuple[str, OrderStatus]] = []

    async def react(report: ExecutionReport) -> None:
        seen.append((report.client_order_id, report.status))
        if report.client_order_id == "BUY" and report.status is OrderStatus.FILLED:
            await execution.submit_order(order(Side.SELL, 10, 70_500, cid="SELL"))

    execution.set_report_handler(react)
    await execution.submit_order(order(Side.BUY, 10, cid="BUY"))
    await execution.on_batch(MarketDataBatch(seoul(9, 2), bars=(bar(seoul(9, 1), 70_000),)))
    assert seen == [
        ("BUY", OrderStatus.ACCEPTED),
        ("BUY", OrderStatus.FILLED),
        ("SELL", OrderStatus.ACCEPTED),
    ]


def test_config_validates_its_numbers() -> None:
    with pytest.raises(ValueError):
        PaperConfig(participation_rate=Decimal("1.5"))
    with pytest.raises(ValueError):
        PaperConfig(starting_cash=Decimal(-1))
    assert PaperConfig().starting_cash == Decimal(100_000_000)
