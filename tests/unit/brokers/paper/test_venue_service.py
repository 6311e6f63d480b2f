"""The paper venue as a service: its HTTP API on a real port, driven by the HTTP client."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest

from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.brokers.paper.remote import RemotePaperExecutionClient
from jts.brokers.paper.schemas import OrderIn
from jts.brokers.paper.server import build_venue_api
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import AuthenticationFailed
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import ConfigurationError
from jts.domain.errors import InvalidOrder
from jts.domain.errors import UnknownOrder
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.timestamps import dt_to_ns
from sockets import Port
from sockets import Served
from sockets import serve
from waiting import eventually

SAMSUNG = "KRX:005930"
TOKEN = secrets.token_urlsafe(32)


def seoul(hh: int, mm: int) -> int:
    return dt_to_ns(datetime(2026, 3, 3, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")))


def bar(hh: int, mm: int, price: int) -> Bar:
    p = Decimal(price)
    return Bar(SAMSUNG, Timeframe.M1, seoul(hh, mm), p, p, p, p, Decimal(10_000))


def order(cid: str, side: Side = Side.BUY, qty: int = 10, price: int = 70_000) -> Order:
    return Order(
        SAMSUNG,
        side,
        OrderType.LIMIT,
        Decimal(qty),
        Decimal(price),
        seoul(9, 1),
        "paper",
        client_order_id=cid,
    )


@dataclass
class Service:
    venue: PaperVenue
    clock: SimClock
    port: Port
    served: Served | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port.number}"

    def __post_init__(self) -> None:
        self.api = build_venue_api(self.venue.execution, token=TOKEN)

    async def start(self) -> None:
        """Serve on the service's port, again after a stop (clients keep their URL)."""
        self.served = await serve(self.api, self.port.listening_socket())

    async def stop(self) -> None:
        assert self.served is not None
        await self.served.stop()
        self.served = None

    async def bar(self, hh: int, mm: int, price: int) -> None:
        self.clock.set_time(seoul(hh, mm + 1))
        await self.venue.execution.on_bar(bar(hh, mm, price))


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
        raise AssertionError(f"{len(self.seen)} reports, wanted {count}")


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    clock = SimClock(seoul(9, 1))
    venue = build_paper_venue(clock, source=[], reference_prices={SAMSUNG: Decimal(70_000)})
    venue.engine.on_bar(bar(9, 0, 70_000))
    with Port() as port:
        running = Service(venue, clock, port)
        await running.start()
        yield running
        if running.served is not None:
            await running.stop()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[tuple[RemotePaperExecutionClient, Reports]]:
    reports = Reports()
    remote = RemotePaperExecutionClient(service.url, TOKEN, poll_wait=0.5, timeout=2.0)
    remote.set_report_handler(reports)
    await remote.connect()
    yield remote, reports
    await remote.disconnect()


async def test_orders_reports_and_fills_travel_over_http(
    service: Service, client: tuple[RemotePaperExecutionClient, Reports]
) -> None:
    remote, reports = client
    await remote.submit_order(order("C1"))
    assert [r.status for r in await reports.wait(1)] == [OrderStatus.ACCEPTED]

    await service.bar(9, 1, 69_900)
    seen = await reports.wait(2)
    assert seen[1].status is OrderStatus.FILLED
    assert seen[1].fill is not None and seen[1].fill.quantity == Decimal(10)

    status = await remote.query_order("C1")
    assert status is not None and status.filled_quantity == Decimal(10)
    assert await remote.query_order("nope") is None
    assert [f.fill_id for f in await remote.fills(0)] == [seen[1].fill.fill_id]
    account = await remote.account()
    assert account.positions == {SAMSUNG: Decimal(10)}
    assert await remote.open_orders() == []


async def test_a_resubmitted_order_is_counted_not_placed_twice(
    service: Service, client: tuple[RemotePaperExecutionClient, Reports]
) -> None:
    remote, _ = client
    await remote.submit_order(order("C1"))
    await remote.submit_order(order("C1"))

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        listed = (await http.get(f"{service.url}/orders")).json()
    assert [(o["client_order_id"], o["submissions"]) for o in listed] == [("C1", 2)]
    assert len(service.venue.engine.orders()) == 1


async def test_cancel_and_unknown_orders(
    service: Service, client: tuple[RemotePaperExecutionClient, Reports]
) -> None:
    remote, reports = client
    working = order("C2", price=60_000)
    await remote.submit_order(working)
    assert len(await remote.open_orders()) == 1
    await remote.cancel_order(working)
    statuses = [r.status for r in await reports.wait(2)]
    assert statuses == [OrderStatus.ACCEPTED, OrderStatus.CANCELED]
    with pytest.raises(UnknownOrder):
        await remote.cancel_order(order("never-sent"))


async def test_bad_requests_get_a_4xx_with_a_reason(service: Service) -> None:
    async with httpx.AsyncClient(base_url=service.url) as http:
        assert (await http.get("/account")).status_code == 401
        wrong = await http.get("/account", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "token" in wrong.json()["detail"]
        bad = await http.post(
            "/orders",
            json={"client_order_id": "X", "quantity": "-1", "side": "UP"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert bad.status_code == 422
        assert "quantity" in bad.json()["detail"] and "side" in bad.json()["detail"]
        assert (await http.get("/health")).status_code == 200


async def test_a_modify_travels_over_http_and_bad_ones_get_a_4xx_with_a_reason(
    service: Service, client: tuple[RemotePaperExecutionClient, Reports]
) -> None:
    remote, reports = client
    working = order("C3", price=60_000)
    await remote.submit_order(working)
    await reports.wait(1)
    await remote.modify_order(working, price=Decimal(61_000), quantity=Decimal(6))
    [_, modified] = await reports.wait(2)
    assert (modified.status, modified.price, modified.quantity) == (
        OrderStatus.ACCEPTED,
        Decimal(61_000),
        Decimal(6),
    )
    assert modified.venue_order_id == (await remote.query_order("C3")).venue_order_id
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=service.url, headers=headers) as http:
        cases = [
            ("C3", {}, 422, "needs a new price or quantity"),
            ("C3", {"price": "-1"}, 422, "price"),
            ("C3", {"price": "61000", "side": "SELL"}, 422, "side"),
            ("C3", {"price": "61050"}, 422, "nearest valid 61,000 below"),
            ("nope", {"price": "61000"}, 404, "no order nope"),
        ]
        for cid, body, status, detail in cases:
            answer = await http.patch(f"/orders/{cid}", json=body)
            assert answer.status_code == status, body
            assert detail in answer.json()["detail"], body
        # The venue's rule refusals reach the caller as InvalidOrder; nothing changed there.
        with pytest.raises(InvalidOrder, match="nearest valid 61,000 below"):
            await remote.modify_order(working, price=Decimal(61_050))
        with pytest.raises(InvalidOrder, match="not raise it"):
            await remote.modify_order(working, quantity=Decimal(20))
        await http.delete("/orders/C3")
        closed = await http.patch("/orders/C3", json={"price": "62000"})
        assert closed.status_code == 409 and "CANCELED" in closed.json()["detail"]
    statuses = [r.status for r in await reports.wait(3)]
    assert statuses == [OrderStatus.ACCEPTED, OrderStatus.ACCEPTED, OrderStatus.CANCELED]


async def test_wrong_token_is_an_authentication_error(service: Service) -> None:
    remote = RemotePaperExecutionClient(service.url, secrets.token_urlsafe(32))
    await remote.connect()
    try:
        with pytest.raises(AuthenticationFailed):
            await remote.account()
    finally:
        await remote.disconnect()


async def test_venue_down_is_unavailable_and_the_stream_resumes_without_gaps(
    service: Service,
    client: tuple[RemotePaperExecutionClient, Reports],
    caplog: pytest.LogCaptureFixture,
) -> None:
    remote, reports = client
    asked_after: list[int] = []  # the `after` of every report poll the venue receives
    api = service.api

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/reports":
            query = dict(parse_qsl(scope["query_string"].decode()))
            asked_after.append(int(query["after"]))
        await api(scope, receive, send)

    service.api = counting
    await remote.submit_order(order("C1"))
    await reports.wait(1)
    await service.stop()

    with pytest.raises(BrokerUnavailable):
        await remote.submit_order(order("C2"))
    # Reports made while the client cannot reach the venue are fetched once it is back.
    await service.bar(9, 1, 69_900)
    await eventually(lambda: "report stream interrupted" in caplog.text)
    await service.start()

    seen = await reports.wait(2)
    # Two polls after seq 2 reached the venue: the first came back, nothing more was sent.
    await eventually(lambda: asked_after.count(2) >= 2)
    assert [(r.client_order_id, r.status) for r in seen] == [
        ("C1", OrderStatus.ACCEPTED),
        ("C1", OrderStatus.FILLED),
    ]
    assert remote.last_seq == 2


async def test_the_old_default_token_can_neither_trade_nor_cancel(
    service: Service, client: tuple[RemotePaperExecutionClient, Reports]
) -> None:
    remote, _ = client
    ours = order("C3", price=60_000)
    await remote.submit_order(ours)
    outsider = {"Authorization": "Bearer jts-paper-venue"}
    body = OrderIn.of(order("OUTSIDE1", qty=55)).model_dump(mode="json")
    async with httpx.AsyncClient(base_url=service.url, headers=outsider) as http:
        assert (await http.post("/orders", json=body)).status_code == 401
        assert (await http.delete("/orders/C3")).status_code == 401
    assert [o.client_order_id for o in service.venue.engine.orders()] == ["C3"]
    assert service.venue.engine.open_orders()[0].client_order_id == "C3"


@pytest.mark.parametrize("weak", ["jts-paper-venue", "s3cret", ""])
def test_the_venue_and_its_client_refuse_a_weak_token(weak: str) -> None:
    venue = build_paper_venue(SimClock(seoul(9, 1)), source=[])
    with pytest.raises(ConfigurationError):
        build_venue_api(venue.execution, token=weak)
    with pytest.raises(ConfigurationError):
        RemotePaperExecutionClient("http://127.0.0.1:1", weak)


def test_the_wire_order_carries_a_cash_amount_to_spend() -> None:
    spend = Order(
        "UPBIT:KRW-BTC",
        Side.BUY,
        OrderType.MARKET,
        Decimal("0.1"),
        None,
        1,
        "paper",
        quote_quantity=Decimal(500_000),
    )
    wire = OrderIn.model_validate_json(OrderIn.of(spend).model_dump_json())
    assert wire.to_order().quote_quantity == Decimal(500_000)
