"""Missing minutes of a stored series, as merged ranges."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.common.calendars import AlwaysOpenCalendar
from jts.brokers.common.calendars import known_calendar
from jts.core.bar_checks import BarChecks
from jts.core.gaps import bar_minutes
from jts.core.gaps import minutes_in
from jts.core.gaps import missing_ranges
from jts.domain.timestamps import NANOS_PER_MINUTE as M
from jts.domain.timestamps import dt_to_ns

DAY1 = (1_000 * M, 1_010 * M)
DAY2 = (2_000 * M, 2_005 * M)


def test_complete_series_has_no_gaps() -> None:
    present = [1_000 * M + i * M for i in range(10)] + [2_000 * M + i * M for i in range(5)]
    assert missing_ranges([DAY1, DAY2], present) == []


def test_gaps_are_merged_per_session() -> None:
    present = [1_000 * M, 1_001 * M, 1_005 * M, 2_004 * M]
    ranges = missing_ranges([DAY1, DAY2], present)
    assert ranges == [(1_002 * M, 1_005 * M), (1_006 * M, 1_010 * M), (2_000 * M, 2_004 * M)]
    assert minutes_in(ranges) == 3 + 4 + 4


def test_minutes_not_yet_complete_are_not_gaps() -> None:
    ranges = missing_ranges([DAY1], [1_000 * M], until=1_003 * M + 30 * 10**9)
    assert ranges == [(1_001 * M, 1_003 * M)]


KST = ZoneInfo("Asia/Seoul")


def _kst(y: int, mo: int, d: int, h: int, mi: int) -> int:
    return dt_to_ns(datetime(y, mo, d, h, mi, tzinfo=KST))


@pytest.mark.parametrize(
    ("session", "opens"),
    [
        pytest.param(date(2026, 3, 3), (9, 0), id="a day"),
        pytest.param(date(2026, 3, 31), (9, 0), id="end of a month"),
        pytest.param(date(2025, 12, 30), (9, 0), id="last session of a year"),
        pytest.param(date(2026, 1, 2), (10, 0), id="first session of a year"),
    ],
)
def test_a_krx_session_has_its_closing_auction_minute(
    session: date, opens: tuple[int, int]
) -> None:
    calendar = known_calendar("KRX")
    assert calendar is not None
    first, end = bar_minutes(calendar, session)
    y, mo, d = session.year, session.month, session.day
    assert first == _kst(y, mo, d, *opens)
    assert end == _kst(y, mo, d, 15, 31)  # the 15:30 bar is the session's last
    # The gap detector and the bar checks agree minute for minute.
    checks = BarChecks(known_calendar)
    assert checks.time_problem("KRX:005930", end - M) is None
    assert checks.time_problem("KRX:005930", end) is not None
    assert checks.time_problem("KRX:005930", first - M) is not None
    # A day's stored bars up to 15:29 still lack the closing auction.
    present = range(first, end - M, M)
    assert missing_ranges([(first, end)], present) == [(end - M, end)]


def test_a_round_the_clock_session_does_not_count_the_next_days_first_minute() -> None:
    calendar = AlwaysOpenCalendar()
    first, end = bar_minutes(calendar, date(2026, 12, 31))
    assert (first, end) == calendar.session_bounds(date(2026, 12, 31))
    assert end == bar_minutes(calendar, date(2027, 1, 1))[0]
