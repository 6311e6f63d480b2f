from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.common.calendars import AlwaysOpenCalendar
from jts.brokers.common.calendars import ExchangeTradingCalendar
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.common.calendars import exchange_calendar
from jts.domain.errors import ConfigurationError
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import dt_to_ns

SEOUL = ZoneInfo("Asia/Seoul")


def seoul(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0) -> int:
    return dt_to_ns(datetime(y, m, d, hh, mm, ss, tzinfo=SEOUL))


@pytest.fixture(scope="module")
def xkrx() -> ExchangeTradingCalendar:
    return exchange_calendar("XKRX")


def test_krx_regular_hours(xkrx: ExchangeTradingCalendar) -> None:
    assert not xkrx.is_open(seoul(2026, 3, 3, 8, 59, 59))
    assert xkrx.is_open(seoul(2026, 3, 3, 9, 0))
    assert xkrx.is_open(seoul(2026, 3, 3, 15, 29, 59))
    assert not xkrx.is_open(seoul(2026, 3, 3, 15, 30))
    assert not xkrx.is_open(seoul(2026, 3, 3, 16, 0))
    assert xkrx.session_of(seoul(2026, 3, 3, 12, 0)) == date(2026, 3, 3)
    assert xkrx.session_of(seoul(2026, 3, 3, 16, 0)) is None


def test_krx_holidays_and_the_late_first_session_of_the_year(xkrx: ExchangeTradingCalendar) -> None:
    assert not xkrx.is_open(seoul(2026, 2, 17, 10, 0))  # Seollal
    assert xkrx.sessions(date(2026, 2, 13), date(2026, 2, 20)) == [
        date(2026, 2, 13),
        date(2026, 2, 19),
        date(2026, 2, 20),
    ]
    assert xkrx.session_bounds(date(2026, 1, 2)) == (
        seoul(2026, 1, 2, 10, 0),
        seoul(2026, 1, 2, 15, 30),
    )
    assert not xkrx.is_open(seoul(2026, 1, 2, 9, 30))
    with pytest.raises(ValueError, match="not a trading session"):
        xkrx.session_bounds(date(2026, 2, 17))


def test_krx_settlement_counts_trading_sessions(xkrx: ExchangeTradingCalendar) -> None:
    assert xkrx.settlement_date(date(2026, 3, 3), 2) == date(2026, 3, 5)
    assert xkrx.settlement_date(date(2025, 12, 29), 2) == date(2026, 1, 2)  # Dec 31 is closed
    assert xkrx.settlement_date(date(2025, 12, 30), 2) == date(2026, 1, 5)
    assert xkrx.settlement_date(date(2026, 2, 13), 1) == date(2026, 2, 19)


def test_lookups_jump_between_sessions_in_any_order(xkrx: ExchangeTradingCalendar) -> None:
    times = [seoul(2026, 3, 3, 10, 0), seoul(2024, 5, 2, 10, 0), seoul(2026, 3, 3, 11, 0)]
    assert [xkrx.session_of(ts) for ts in times] == [
        date(2026, 3, 3),
        date(2024, 5, 2),
        date(2026, 3, 3),
    ]


def test_always_open_calendar_uses_utc_days() -> None:
    calendar = AlwaysOpenCalendar()
    sunday_night = dt_to_ns(datetime(2026, 2, 15, 23, 59, tzinfo=UTC))
    assert calendar.is_open(sunday_night)
    assert calendar.session_of(sunday_night) == date(2026, 2, 15)
    opened, closed = calendar.session_bounds(date(2026, 2, 15))
    assert opened == dt_to_ns(datetime(2026, 2, 15, tzinfo=UTC))
    assert closed - opened == NANOS_PER_DAY
    assert calendar.settlement_date(date(2026, 2, 15), 2) == date(2026, 2, 17)
    assert len(calendar.sessions(date(2026, 2, 1), date(2026, 2, 28))) == 28


def test_calendar_for_venue() -> None:
    krx = calendar_for_venue("KRX")
    assert isinstance(krx, ExchangeTradingCalendar) and krx.name == "XKRX"
    assert calendar_for_venue("krx") is krx  # loaded once, shared
    assert isinstance(calendar_for_venue("UPBIT"), AlwaysOpenCalendar)
    assert isinstance(calendar_for_venue("BINANCE"), AlwaysOpenCalendar)
    with pytest.raises(ConfigurationError):
        calendar_for_venue("NYSE")
    with pytest.raises(ConfigurationError, match="unknown exchange calendar"):
        ExchangeTradingCalendar("NOPE")
