"""The bridge over fake COM, through HTTP: auth, look-ups, orders, events, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.creon_venue import CODE
from fakes.creon_venue import SECRET
from fakes.creon_venue import BridgeServer
from fakes.creon_venue import start_bridge
from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.fake.market import FakeCreonMarket
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns

KST = timezone(timedelta(hours=9))


@pytest.fixture
async def bridge() -> AsyncIterator[BridgeServer]:
    server = await start_bridge(FakeCreonMarket())
    yield server
    await server.stop()


@pytest.fixture
async def http(bridge: BridgeServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {SECRET}"}
    async with httpx.AsyncClient(base_url=bridge.url, headers=headers, timeout=10) as client:
        yield client


def buy(qty: int = 10, price: int = 69_000, **extra: Any) -> dict[str, Any]:
    return {"side": "BUY", "code": CODE, "quantity": qty, "price": str(price), **extra}


async def test_every_endpoint_wants_the_secret(bridge: BridgeServer) -> None:
    paths = ("/health", f"/quotes/{CODE}", "/orders", "/events", "/docs", "/openapi.json")
    async with httpx.AsyncClient(base_url=bridge.url) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SECRET}):
            for path in (*paths, "/redoc", "/no-such-path"):
                answer = await client.get(path, headers=headers)
                assert answer.status_code == 401, (path, headers)
                assert answer.json()["code"] == "UNAUTHORIZED"
            refused = await client.post("/orders", headers=headers, json={"code": CODE})
            assert refused.status_code == 401
        ok = await client.get("/health", headers={"Authorization": f"Bearer {SECRET}"})
        schema = await client.get("/openapi.json", headers={"Authorization": f"Bearer {SECRET}"})
    assert schema.status_code == 200 and "/orders" in schema.json()["paths"]
    assert ok.status_code == 200
    health = ok.json()
    assert health["connected"] and health["trade_ready"]
    assert health["account"] == bridge.market.account
    assert bridge.market.submissions == 0


async def test_quote_reads_stockmst_headers(bridge: BridgeServer, http: httpx.AsyncClient) -> None:
    bridge.market.set_price(CODE, 70_500)
    quote = (await http.get(f"/quotes/{CODE}")).json()
    assert Decimal(quote["price"]) == 70_500
    assert Decimal(quote["ask"]) == 70_600  # one tick up in the fake
    assert Decimal(quote["high"]) >= 70_500
    assert quote["name"] == "삼성전자"
    missing = await http.get("/quotes/A999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "UNKNOWN_CODE"


async def test_daily_and_minute_bars_oldest_first(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    today = bridge.market.today
    start = dt_to_ns(datetime(today.year, today.month, today.day, tzinfo=KST)) - 30 * NANOS_PER_DAY
    end = start + 31 * NANOS_PER_DAY
    page = (
        await http.get(f"/bars/{CODE}", params={"timeframe": "1d", "start": start, "end": end})
    ).json()
    bars = page["bars"]
    assert 20 <= len(bars) <= 23  # weekdays of 31 days
    stamps = [b["ts"] for b in bars]
    assert stamps == sorted(stamps)
    assert all((ts - start) % NANOS_PER_DAY == 0 for ts in stamps)  # KST midnight
    assert all(Decimal(b["low"]) <= Decimal(b["close"]) <= Decimal(b["high"]) for b in bars)

    session = dt_to_ns(datetime(today.year, today.month, today.day, 9, tzinfo=KST))
    params: dict[str, str | int] = {
        "timeframe": "5m",
        "start": session,
        "end": session + 60 * NANOS_PER_MINUTE,
    }
    minutes = (await http.get(f"/bars/{CODE}", params=params)).json()["bars"]
    assert [b["ts"] for b in minutes] == [session + 5 * k * NANOS_PER_MINUTE for k in range(12)]
    # The whole session of 1-minute bars spans several StockChart pages (Continue).
    params = {
        "timeframe": "1m",
        "start": session - 2 * NANOS_PER_DAY,
        "end": session + NANOS_PER_DAY,
    }
    assert bridge.market.page_size < 390 * 2
    one_minute = (await http.get(f"/bars/{CODE}", params=params)).json()["bars"]
    assert len(one_minute) >= 390
    bad = await http.get(f"/bars/{CODE}", params={"timeframe": "7m", "start": 0, "end": 1})
    assert bad.status_code == 422


def test_stockchart_data_index_follows_sorted_field_ids() -> None:
    market = FakeCreonMarket()
    chart = market.factory().dispatch("cpsysdib.stockchart")  # ProgIDs are case-insensitive
    for index, value in ((0, CODE), (1, ord("2")), (4, 3), (5, (8, 5, 0)), (6, ord("D"))):
        chart.SetInputValue(index, value)
    assert chart.BlockRequest() == com.RQ_OK
    assert chart.GetHeaderValue(3) == 3
    newest = market.listings[CODE].days[-1]
    assert chart.GetDataValue(0, 0) == newest[0]  # field 0 (date) first
    assert chart.GetDataValue(1, 0) == market.listings[CODE].price  # field 5 (close) second
    assert chart.GetDataValue(2, 0) == newest[5]  # field 8 (volume) third
    assert chart.GetDataValue(0, 1) < chart.GetDataValue(0, 0)  # newest first


async def test_order_accept_fill_and_event_cursor(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    placed = await http.post("/orders", json=buy(10, 69_000))
    assert placed.status_code == 201, placed.text
    order_no = placed.json()["order_no"]
    first = (await http.get("/events", params={"after": 0, "wait": 5})).json()
    assert [(e["seq"], e["kind"], e["order_no"]) for e in first["events"]] == [
        (1, "accepted", order_no)
    ]
    waiting = asyncio.create_task(http.get("/events", params={"after": 1, "wait": 5}))
    await asyncio.sleep(0.1)
    bridge.market.set_price(CODE, 69_000)
    fill = (await waiting).json()["events"]
    assert [(e["seq"], e["kind"], e["quantity"], e["filled_quantity"]) for e in fill] == [
        (2, "fill", 10, 10)
    ]
    assert fill[0]["fill_id"].endswith(f":{order_no}:10")
    orders = (await http.get("/orders")).json()
    assert [(o["order_no"], o["status"], o["filled_quantity"]) for o in orders] == [
        (order_no, "FILLED", 10)
    ]
    assert orders[0]["ts"] == placed.json()["placed_ns"]
    fills = (await http.get("/fills", params={"since_ns": 0})).json()
    assert [(f["order_no"], Decimal(f["price"])) for f in fills] == [(order_no, Decimal(69_000))]
    balance = (await http.get("/balance")).json()
    assert Decimal(balance["cash"]) == 100_000_000 - 690_000
    assert {p["code"]: p["quantity"] for p in balance["positions"]} == {CODE: 60}


async def test_cancel_and_open_orders(bridge: BridgeServer, http: httpx.AsyncClient) -> None:
    order_no = (await http.post("/orders", json=buy(5, 60_000))).json()["order_no"]
    opened = (await http.get("/orders", params={"open": "true"})).json()
    assert [(o["order_no"], o["open_quantity"], o["status"]) for o in opened] == [
        (order_no, 5, "ACCEPTED")
    ]
    balance = (await http.get("/balance")).json()
    assert Decimal(balance["reserved_cash"]) == 300_000
    cancelled = await http.delete(f"/orders/{order_no}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["quantity"] == 5
    assert (await http.get("/orders", params={"open": "true"})).json() == []
    status = {o["order_no"]: o["status"] for o in (await http.get("/orders")).json()}
    assert status == {order_no: "CANCELED"}
    events = (await http.get("/events", params={"after": 1, "wait": 5})).json()["events"]
    assert [(e["kind"], e["modify"], e["orig_order_no"]) for e in events] == [
        ("confirm", "cancel", order_no)
    ]
    again = await http.delete(f"/orders/{order_no}")
    assert again.status_code == 400
    assert "취소가능수량" in again.json()["detail"]


async def test_rejections_carry_creons_message(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    trade_requests = bridge.market.requests[com.LT_TRADE_REQUEST]
    bad_tick = await http.post("/orders", json=buy(1, 70_050))
    assert bad_tick.status_code == 422  # refused by the bridge on the shared ladder, not sent
    assert bad_tick.json()["code"] == "INVALID"
    assert bad_tick.json()["detail"].endswith("nearest valid 70,000 below, 70,100 above")
    assert bridge.market.requests[com.LT_TRADE_REQUEST] == trade_requests
    no_cash = await http.post("/orders", json=buy(10_000, 69_000))
    assert "매수가능금액" in no_cash.json()["detail"]
    market_with_price = await http.post("/orders", json=buy(1, 69_000, order_type="MARKET"))
    assert market_with_price.status_code == 422
    invalid = await http.post("/orders", json={"side": "BUY", "code": "005930", "quantity": 1})
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "INVALID"
    assert bridge.market.orders() == []


async def test_disconnected_creon_is_503(bridge: BridgeServer, http: httpx.AsyncClient) -> None:
    bridge.market.set_connected(False)
    for answer in (await http.get(f"/quotes/{CODE}"), await http.post("/orders", json=buy())):
        assert answer.status_code == 503
        assert answer.json()["code"] == "NOT_CONNECTED"
    bridge.market.set_connected(True)
    assert (await http.get(f"/quotes/{CODE}")).status_code == 200
