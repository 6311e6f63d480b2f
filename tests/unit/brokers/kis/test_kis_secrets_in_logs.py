"""Credentials and tokens never reach a log line, even at DEBUG from every library."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import kis_venue
from fakes.venue_harness import Reports
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.orders import Order


async def test_a_whole_trading_flow_logs_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with kis_venue(tmp_path) as h:
        reports = Reports()
        h.execution.set_report_handler(reports)
        order = Order(
            "KRX:005930",
            Side.BUY,
            OrderType.LIMIT,
            Decimal(1),
            Decimal(70_000),
            1,
            "kis",
            client_order_id="log-1",
        )
        await h.execution.submit_order(order)
        await reports.wait_for("log-1", OrderStatus.ACCEPTED)
        await h.set_price(Decimal(69_900))
        await reports.wait_for("log-1", OrderStatus.FILLED)
        h.fake.expire_tokens()
        await h.market.latest_price("KRX:005930")
        token = (await h.session.rest.token()).value
        approval = h.session.realtime._approval_key if h.session.realtime else None
    secrets = [APP_KEY, APP_SECRET, token, approval]
    text = caplog.text
    assert "log-1" in text or caplog.records  # logging really was captured
    for secret in secrets:
        assert secret and secret not in text
        assert secret[:12] not in text  # not even a truncated frame dump
