"""Modify (CpTd0313), whole and partial cancel (CpTd0314), and COM failures, through HTTP.

What the adapter relies on: a modify moves the rest of an order to a new number
and the confirm and later fills name both numbers; a cancel Creon accepted is a
200 even without the canceled quantity; every error body says whether the
request reached Creon (``sent``), and a COM exception is a 502 ``COM_ERROR``
with its text, never a bare 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.creon_venue import CODE
from fakes.creon_venue import SECRET
from fakes.creon_venue import BridgeServer
from fakes.creon_venue import start_bridge
from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.app import build_bridge_app
from jts.brokers.creon.bridge.errors import com_error_text
from jts.brokers.creon.bridge.fake_com import FakeComFactory
from jts.brokers.creon.bridge.fake_com import FakeCreonMarket
from jts.brokers.creon.bridge.service import CreonBridge
from sockets import serve

AUTH = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture
async def bridge() -> AsyncIterator[BridgeServer]:
    server = await start_bridge(FakeCreonMarket())
    yield server
    await server.stop()


@pytest.fixture
async def http(bridge: BridgeServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as client:
        yield client


def buy(qty: int, price: int) -> dict[str, Any]:
    return {"side": "BUY", "code": CODE, "quantity": qty, "price": str(price)}


async def events(http: httpx.AsyncClient, after: int, count: int) -> list[dict[str, Any]]:
    """The next ``count`` journal events after ``after`` (long-polled)."""
    got: list[dict[str, Any]] = []
    while len(got) < count:
        page = await http.get("/events", params={"after": after + len(got), "wait": 5})
        new = page.json()["events"]
        if not new:
            raise AssertionError(f"only {len(got)} of {count} events: {got}")
        got.extend(new)
    return got


def shape(event: dict[str, Any]) -> tuple[Any, ...]:
    return (
        event["kind"],
        event["modify"],
        event["order_no"],
        event["orig_order_no"],
        event["quantity"],
        Decimal(event["price"]),
    )


async def test_modify_moves_the_rest_to_a_new_number_and_its_fills_name_both(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    old = (await http.post("/orders", json=buy(10, 60_000))).json()["order_no"]
    bridge.market.trade(CODE, 60_000, 4)
    modified = await http.post(f"/orders/{old}/modify", json={"code": CODE, "price": "59000"})
    assert modified.status_code == 200, modified.text
    body = modified.json()
    new = body["order_no"]
    assert new != old
    assert (body["original_order_no"], Decimal(body["price"]), body["quantity"]) == (old, 59_000, 6)
    opened = (await http.get("/orders", params={"open": "true"})).json()
    assert [(o["order_no"], o["orig_order_no"], o["open_quantity"]) for o in opened] == [
        (new, old, 6)
    ]
    bridge.market.trade(CODE, 59_000, 6)
    journal = await events(http, 0, 4)
    assert [shape(e) for e in journal] == [
        ("accepted", "normal", old, None, 10, 60_000),
        ("fill", "normal", old, None, 4, 60_000),
        ("confirm", "modify", new, old, 6, 59_000),
        ("fill", "normal", new, old, 6, 59_000),
    ]
    rows = {o["order_no"]: o for o in (await http.get("/orders")).json()}
    assert set(rows) == {old, new}
    assert (rows[old]["filled_quantity"], rows[old]["orig_order_no"]) == (4, None)
    assert (rows[new]["filled_quantity"], rows[new]["orig_order_no"]) == (6, old)
    assert rows[new]["status"] == "FILLED"
    assert bridge.market.positions[CODE] == 60


async def test_modify_refusals_say_whether_creon_saw_them(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    order_no = (await http.post("/orders", json=buy(5, 60_000))).json()["order_no"]
    requests = bridge.market.requests[com.LT_TRADE_REQUEST]
    off_ladder = await http.post(
        f"/orders/{order_no}/modify", json={"code": CODE, "price": "60050"}
    )
    assert off_ladder.status_code == 422
    assert (off_ladder.json()["code"], off_ladder.json()["sent"]) == ("INVALID", False)
    bad_body = await http.post(f"/orders/{order_no}/modify", json={"code": CODE, "price": "0"})
    assert (bad_body.status_code, bad_body.json()["sent"]) == (422, False)
    assert bridge.market.requests[com.LT_TRADE_REQUEST] == requests  # nothing reached Creon
    unknown = await http.post("/orders/99999/modify", json={"code": CODE, "price": "61000"})
    assert unknown.status_code == 400
    assert (unknown.json()["code"], unknown.json()["sent"]) == ("REJECTED", True)
    assert "원주문번호" in unknown.json()["detail"]
    too_many = await http.post(
        f"/orders/{order_no}/modify", json={"code": CODE, "price": "61000", "quantity": 6}
    )
    assert (too_many.status_code, too_many.json()["sent"]) == (400, True)
    no_secret = await httpx.AsyncClient(base_url=bridge.url).get("/health")
    assert no_secret.json() == {
        "detail": "missing or wrong bearer secret",
        "code": "UNAUTHORIZED",
        "sent": False,
    }
    missing = await http.get("/no-such-path")
    assert (missing.status_code, missing.json()["code"], missing.json()["sent"]) == (
        404,
        "NOT_FOUND",
        False,
    )


async def test_partial_cancel_lowers_the_open_quantity(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    order_no = (await http.post("/orders", json=buy(10, 60_000))).json()["order_no"]
    partial = await http.delete(f"/orders/{order_no}", params={"code": CODE, "quantity": 4})
    assert partial.status_code == 200, partial.text
    assert partial.json()["quantity"] == 4
    cancel_no = partial.json()["cancel_order_no"]
    opened = (await http.get("/orders", params={"open": "true"})).json()
    assert [(o["order_no"], o["quantity"], o["open_quantity"]) for o in opened] == [
        (order_no, 10, 6)
    ]
    too_many = await http.delete(f"/orders/{order_no}", params={"quantity": 7})
    assert too_many.status_code == 400
    assert (too_many.json()["code"], too_many.json()["sent"]) == ("REJECTED", True)
    rest = await http.delete(f"/orders/{order_no}")
    assert rest.json()["quantity"] == 6
    journal = await events(http, 0, 3)
    assert [shape(e) for e in journal] == [
        ("accepted", "normal", order_no, None, 10, 60_000),
        ("confirm", "cancel", cancel_no, order_no, 4, 0),
        ("confirm", "cancel", rest.json()["cancel_order_no"], order_no, 6, 0),
    ]
    assert (await http.get("/orders", params={"open": "true"})).json() == []


async def test_changes_made_by_hand_give_the_same_events(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    old = (await http.post("/orders", json=buy(3, 60_000))).json()["order_no"]
    requests = bridge.market.requests[com.LT_TRADE_REQUEST]
    new = bridge.market.modify_by_hand(int(old), 60_500)
    cancel_no = bridge.market.cancel_by_hand(new)
    assert bridge.market.requests[com.LT_TRADE_REQUEST] == requests  # the HTS, not the API
    journal = await events(http, 1, 2)
    assert [shape(e) for e in journal] == [
        ("confirm", "modify", str(new), old, 3, 60_500),
        ("confirm", "cancel", str(cancel_no), str(new), 3, 0),
    ]
    with pytest.raises(ValueError, match="취소가능수량"):
        bridge.market.cancel_by_hand(new)


async def test_a_trade_fills_crossing_orders_in_time_priority_up_to_its_quantity(
    bridge: BridgeServer, http: httpx.AsyncClient
) -> None:
    first = (await http.post("/orders", json=buy(5, 60_000))).json()["order_no"]
    second = (await http.post("/orders", json=buy(5, 60_500))).json()["order_no"]
    bridge.market.trade(CODE, 60_000, 7)
    rows = {o["order_no"]: o for o in (await http.get("/orders", params={"open": "true"})).json()}
    assert {n: o["filled_quantity"] for n, o in rows.items()} == {second: 2}
    assert rows[second]["open_quantity"] == 3
    assert bridge.market.order(int(first)) is not None
    assert bridge.market.order(int(first)).filled == 5  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="positive quantity"):
        bridge.market.trade(CODE, 60_000, 0)


# -- COM failures ------------------------------------------------------------------------


class FakeComError(Exception):
    """Shaped like pywintypes.com_error: (hresult, message, excepinfo, argerror)."""


def com_error(description: str) -> FakeComError:
    return FakeComError(
        -2147352567, "Exception occurred.", (0, "CpTrade", description, None, 0, -1), None
    )


class Patched:
    """A fake COM object with some members replaced."""

    def __init__(self, obj: Any, **members: Any) -> None:
        self._obj = obj
        self._members = members

    def __getattr__(self, name: str) -> Any:
        if name in self._members:
            return self._members[name]
        return getattr(self._obj, name)


class PatchingFactory(FakeComFactory):
    """Dispatches fake objects through ``patch(progid, obj)``."""

    def __init__(self, market: FakeCreonMarket, patch: Callable[[str, Any], Any]) -> None:
        super().__init__(market)
        self._patch = patch

    def dispatch(self, progid: str) -> Any:
        return self._patch(progid, super().dispatch(progid))


@asynccontextmanager
async def bridge_over(factory: FakeComFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = build_bridge_app(factory, SECRET, bridge=CreonBridge(factory))
    served = await serve(app, log_level="critical")
    try:
        url = f"http://127.0.0.1:{served.port}"
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as client:
            yield client
    finally:
        served.server.should_exit = True
        await served.task


async def test_a_com_exception_is_a_502_with_its_text_and_whether_it_was_sent() -> None:
    market = FakeCreonMarket()
    mode = {"where": ""}

    def patch(progid: str, obj: Any) -> Any:
        if progid != com.ORDER:
            return obj

        def set_input(index: int, value: Any) -> None:
            if mode["where"] == "input":
                raise com_error("입력값 오류")
            obj.SetInputValue(index, value)

        def block() -> int:
            status = obj.BlockRequest()
            if mode["where"] == "after":
                raise com_error("응답 수신 오류")
            return int(status)

        return Patched(obj, SetInputValue=set_input, BlockRequest=block)

    async with bridge_over(PatchingFactory(market, patch)) as http:
        mode["where"] = "input"
        before = await http.post("/orders", json=buy(1, 60_000))
        assert before.status_code == 502
        assert before.json()["code"] == "COM_ERROR"
        assert before.json()["sent"] is False
        assert "입력값 오류" in before.json()["detail"]
        assert market.orders() == []
        mode["where"] = "after"
        after = await http.post("/orders", json=buy(1, 60_000))
        assert (after.status_code, after.json()["code"], after.json()["sent"]) == (
            502,
            "COM_ERROR",
            True,
        )
        assert "응답 수신 오류" in after.json()["detail"]
        assert len(market.orders()) == 1  # Creon took it; the adapter must find out
        mode["where"] = ""
        assert (await http.post("/orders", json=buy(1, 60_000))).status_code == 201


async def test_a_cancel_creon_accepted_needs_only_its_cancel_number() -> None:
    market = FakeCreonMarket()
    headers: dict[int, Any] = {}

    def patch(progid: str, obj: Any) -> Any:
        if progid != com.CANCEL:
            return obj

        def header(index: int) -> Any:
            if index in headers:
                value = headers[index]
                if isinstance(value, Exception):
                    raise value
                return value
            return obj.GetHeaderValue(index)

        return Patched(obj, GetHeaderValue=header)

    async with bridge_over(PatchingFactory(market, patch)) as http:
        numbers = [
            (await http.post("/orders", json=buy(1, 60_000))).json()["order_no"] for _ in range(4)
        ]
        headers[5] = None
        no_quantity = await http.delete(f"/orders/{numbers[0]}", params={"code": CODE})
        assert no_quantity.status_code == 200, no_quantity.text
        assert no_quantity.json()["quantity"] is None
        headers[5] = com_error("no such header")
        raising = await http.delete(f"/orders/{numbers[1]}", params={"code": CODE})
        assert (raising.status_code, raising.json()["quantity"]) == (200, None)
        headers[6] = 0
        no_number = await http.delete(f"/orders/{numbers[2]}", params={"code": CODE})
        assert no_number.status_code == 502
        assert (no_number.json()["code"], no_number.json()["sent"]) == ("COMM_FAILURE", True)
        headers[6] = com_error("header read failed")
        failed = await http.delete(f"/orders/{numbers[3]}", params={"code": CODE})
        assert (failed.status_code, failed.json()["code"], failed.json()["sent"]) == (
            502,
            "COM_ERROR",
            True,
        )


def test_com_error_text_reads_pywin32s_shape() -> None:
    text = com_error_text(com_error("주문 오류"))
    assert text == "Exception occurred. CpTrade: 주문 오류 (hresult 0x80020009)"
    assert com_error_text(OSError("Invalid class string")) == "OSError: Invalid class string"
    assert com_error_text(RuntimeError()) == "RuntimeError"
