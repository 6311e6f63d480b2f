"""A run asks the calendar for its sessions up front, and is refused if they are not there."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest

from jts.app.sources import session_window
from jts.brokers.common.calendars import ExchangeTradingCalendar
from jts.brokers.common.calendars import calendar_for_venue
from jts.domain.errors import ConfigurationError


@pytest.fixture(scope="module")
def krx() -> ExchangeTradingCalendar:
    calendar = calendar_for_venue("KRX")
    assert isinstance(calendar, ExchangeTradingCalendar)
    return calendar


def test_sessions_beyond_the_calendar_are_refused_before_the_run(
    krx: ExchangeTradingCalendar,
) -> None:
    start = krx.last_session - timedelta(days=10)
    with pytest.raises(ConfigurationError) as refused:
        session_window(krx, start, 30)
    message = str(refused.value)
    assert "feed.start_date" in message and "feed.sessions 30" in message


def test_the_last_sessions_need_their_settlement_days_too(krx: ExchangeTradingCalendar) -> None:
    known = krx.sessions(krx.last_session - timedelta(days=30), krx.last_session)
    start = known[-5]
    assert session_window(krx, start, 3) == known[-5:-2]
    with pytest.raises(ConfigurationError, match="T\\+2"):
        session_window(krx, start, 4)  # its last session would settle after the calendar


def test_a_window_inside_the_calendar_is_the_first_sessions(
    krx: ExchangeTradingCalendar,
) -> None:
    days = session_window(krx, date(2026, 3, 2), 3)
    assert days == [date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)]  # 2 March: a holiday


def test_all_sessions_stops_where_sales_can_still_settle(krx: ExchangeTradingCalendar) -> None:
    known = krx.sessions(krx.last_session - timedelta(days=30), krx.last_session)
    assert session_window(krx, known[-6], None) == known[-6:-2]
