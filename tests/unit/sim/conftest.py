"""A small harness around MatchingEngine: one KRX stock, XKRX sessions, KST clock times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.common.calendars import ExchangeTradingCalendar
from jts.brokers.common.calendars import exchange_calendar
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.instruments import Instrument
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.timestamps import dt_to_ns
from jts.sim.account import SimAccount
from jts.sim.fees import FeeSchedule
from jts.sim.matching import MatchingConfig
from jts.sim.matching import MatchingEngine
from jts.sim.slippage import NoSlippage
from jts.sim.slippage import SlippageModel

KST = ZoneInfo("Asia/Seoul")
SAMSUNG = "KRX:005930"


def kst(day: str, hhmm: str, seconds: int = 0) -> int:
    """UTC ns of a Seoul wall-clock time, e.g. kst("2026-03-03", "09:01")."""
    y, m, d = (int(part) for part in day.split("-"))
    hh, mm = (int(part) for part in hhmm.split(":"))
    return dt_to_ns(datetime(y, m, d, hh, mm, seconds, tzinfo=KST))


class Harness:
    """An engine with 100M KRW, Samsung Electronics at a 70,000 previous close."""

    def __init__(
        self,
        calendar: ExchangeTradingCalendar,
        *,
        cash: Decimal = Decimal(100_000_000),
        allow_short: bool = False,
        participation: Decimal = Decimal("0.10"),
        instruments: list[Instrument] | None = None,
        slippage: SlippageModel | None = None,
    ) -> None:
        self.instrument = krx_stock("005930", "Samsung Electronics")
        self.account = SimAccount(cash, allow_short=allow_short)
        self.engine = MatchingEngine(
            "KRX",
            instruments or [self.instrument],
            calendar,
            self.account,
            FeeSchedule.default(),
            MatchingConfig(participation_rate=participation, slippage=slippage or NoSlippage()),
        )
        self.engine.set_reference(SAMSUNG, Decimal(70_000))
        self.start_cash = cash
        self._n = 0

    kst = staticmethod(kst)

    def order(
        self,
        side: Side,
        quantity: int | str,
        price: int | str | None = None,
        ts: int = 0,
        *,
        instrument_id: str = SAMSUNG,
        tif: TimeInForce = TimeInForce.DAY,
        client_order_id: str | None = None,
    ) -> Order:
        self._n += 1
        return Order(
            instrument_id=instrument_id,
            side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=Decimal(quantity),
            price=None if price is None else Decimal(price),
            created_ts=ts,
            broker="paper",
            time_in_force=tif,
            client_order_id=client_order_id or f"C{self._n}",
        )

    def submit(self, order: Order, ts: int) -> ExecutionReport:
        reports = self.engine.submit(order, ts)
        assert len(reports) == 1
        return reports[0]

    def bar(
        self,
        ts: int,
        o: int,
        h: int,
        low: int,
        c: int,
        volume: int = 1_000_000,
        instrument_id: str = SAMSUNG,
    ) -> list[ExecutionReport]:
        bar = Bar(
            instrument_id,
            Timeframe.M1,
            ts,
            Decimal(o),
            Decimal(h),
            Decimal(low),
            Decimal(c),
            Decimal(volume),
        )
        return self.engine.on_bar(bar)


@pytest.fixture(scope="session")
def xkrx() -> ExchangeTradingCalendar:
    return exchange_calendar("XKRX")


@pytest.fixture
def harness(xkrx: ExchangeTradingCalendar) -> Harness:
    return Harness(xkrx)


@pytest.fixture
def make_harness(xkrx: ExchangeTradingCalendar) -> Callable[..., Harness]:
    def make(**options: Any) -> Harness:
        return Harness(xkrx, **options)

    return make
