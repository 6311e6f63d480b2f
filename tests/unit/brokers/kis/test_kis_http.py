"""No empty identifier reaches KIS: required fields are checked before anything is sent."""

from __future__ import annotations

import asyncio
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fakes.kis_venue import SAMSUNG
from fakes.kis_venue import KisHarness
from fakes.kis_venue import kis_venue
from fakes.venue_harness import Reports
from jts.brokers.common.requests import IncompleteRequest
from jts.brokers.kis import http as kis_http
from jts.brokers.kis.environments import Paths
from jts.brokers.kis.parsing import SEOUL
from jts.brokers.kis.schemas import REQUIRED
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import BrokerUnavailable
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.timestamps import NANOS_PER_SECOND

RVSECNCL = Paths.MODIFY_CANCEL


def order(cid: str, price: int = 60_000) -> Order:
    return Order(
        SAMSUNG,
        Side.BUY,
        OrderType.LIMIT,
        Decimal(10),
        Decimal(price),
        1,
        "kis",
        client_order_id=cid,
    )


def sent_to(h: KisHarness, path: str) -> int:
    return sum(1 for _, p, _ in h.fake.requests if p == path)


async def accepted_order(h: KisHarness, cid: str) -> Order:
    reports = Reports()
    h.execution.set_report_handler(reports)
    await h.execution.submit_order(order(cid))
    accepted = await reports.wait_for(cid, OrderStatus.ACCEPTED)
    live = order(cid)
    live.venue_order_id = accepted.venue_order_id
    return live


async def test_a_restarted_client_looks_the_branch_up_before_cancelling(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        live = await accepted_order(h, "br-1")
        restarted = await h.new_execution_client(notices=False)
        restarted.set_report_handler(Reports())
        await restarted.cancel_order(live)
        # The fake refuses a cancel whose KRX_FWDG_ORD_ORGNO is empty or not the order's.
        assert h.fake.orders[0].cancelled


async def test_a_branch_nobody_can_tell_refuses_cancel_and_modify_unsent(tmp_path: Path) -> None:
    async with kis_venue(tmp_path) as h:
        live = await accepted_order(h, "br-2")
        h.fake.list_branches = False  # today's orders listed without ord_gno_brno
        restarted = await h.new_execution_client(notices=False)
        restarted.set_report_handler(Reports())
        with pytest.raises(IncompleteRequest, match="KRX_FWDG_ORD_ORGNO") as cancel:
            await restarted.cancel_order(live)
        with pytest.raises(IncompleteRequest, match="KRX_FWDG_ORD_ORGNO"):
            await restarted.modify_order(live, price=Decimal(61_000))
        assert not isinstance(cancel.value, BrokerUnavailable)  # neither unknown nor retried
        assert sent_to(h, RVSECNCL) == 0
        assert not h.fake.orders[0].cancelled
        # The client that placed it kept the branch from the order's answer.
        await h.execution.cancel_order(live)
        assert h.fake.orders[0].cancelled


async def test_every_request_builder_refuses_a_blank_required_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request the adapter builds, with each required field blanked, is refused unsent."""
    built: list[tuple[str, str | None, dict[str, Any]]] = []
    check = kis_http.check_request

    def spy(path: str, payload: Any, *, account: str, tr_id: str | None = None) -> None:
        built.append((path, tr_id, dict(payload)))
        check(path, payload, account=account, tr_id=tr_id)

    monkeypatch.setattr(kis_http, "check_request", spy)
    async with kis_venue(tmp_path) as h:
        rest = h.session.rest
        # The token request was built at connect (the spy was already in place).
        await rest.approval_key()
        await h.market.latest_price(SAMSUNG)
        now = datetime.now(SEOUL)
        day = NANOS_PER_SECOND * 86_400
        now_ns = int(now.timestamp()) * NANOS_PER_SECOND
        await h.market.historical_bars(SAMSUNG, now_ns - 5 * day, now_ns, Timeframe.D1)
        minutes = 600 * NANOS_PER_SECOND
        await h.market.historical_bars(SAMSUNG, now_ns - minutes, now_ns, Timeframe.M1)
        yesterday = int((now - timedelta(days=1)).timestamp()) * NANOS_PER_SECOND
        await h.market.historical_bars(SAMSUNG, yesterday - minutes, yesterday, Timeframe.M1)
        live = await accepted_order(h, "walk-1")
        await h.execution.modify_order(live, quantity=Decimal(6))  # a partial cancel
        await h.execution.modify_order(live, price=Decimal(61_000))
        live.venue_order_id = h.execution.journal.get("walk-1").venue_order_id
        await h.execution.cancel_order(live)
        await h.execution.account()
        await asyncio.sleep(0)

        assert {path for path, _, _ in built} == set(REQUIRED)  # every builder was walked
        seen: set[tuple[str, str]] = set()
        for path, tr_id, payload in built:
            for name in ("tr_id", *REQUIRED[path]) if tr_id is not None else REQUIRED[path]:
                if (path, name) in seen:
                    continue
                seen.add((path, name))
                before = len(h.fake.requests)
                with pytest.raises(IncompleteRequest, match=name):
                    if tr_id is None:
                        await rest._plain_post(path, {**payload, name: ""}, what="walk")
                    elif name == "tr_id":
                        await rest.get(path, "", payload)
                    elif path in (Paths.ORDER_CASH, Paths.MODIFY_CANCEL):
                        await rest.post(path, tr_id, {**payload, name: " "}, idempotent=False)
                    else:
                        await rest.get(path, tr_id, {**payload, name: ""})
                assert len(h.fake.requests) == before, f"{path} {name} reached KIS"
        assert len(seen) == sum(len(f) for f in REQUIRED.values()) + sum(
            1 for p in REQUIRED if p.startswith("/uapi")
        )


def test_every_kis_endpoint_says_what_it_requires() -> None:
    paths = {v for k, v in vars(Paths).items() if k.isupper()} - {Paths.WEBSOCKET}
    assert paths == set(REQUIRED)
