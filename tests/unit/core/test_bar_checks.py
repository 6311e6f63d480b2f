"""The one bar validation: what the store could not give back or the platform not trade."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.common.calendars import known_calendar
from jts.core.bar_checks import BarChecks
from jts.core.bar_checks import Verdict
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns

KST = ZoneInfo("Asia/Seoul")
# Tuesday 2026-03-03, a KRX session.
OPEN = dt_to_ns(datetime(2026, 3, 3, 9, 0, tzinfo=KST))
GOOD = ("70000", "70100", "69900", "70000", "1200")


def check(
    checks: BarChecks, ts: int = OPEN, symbol: str = "KRX:005930", values: tuple[str, ...] = GOOD
) -> Verdict:
    o, h, low, c, v = (Decimal(x) for x in values)
    return checks.check(symbol, ts, o, h, low, c, v)


def krx_ts(*args: int) -> int:
    return dt_to_ns(datetime(*args, tzinfo=KST))  # type: ignore[misc]


@pytest.fixture
def checks() -> BarChecks:
    return BarChecks(known_calendar)


def test_a_good_bar_passes(checks: BarChecks) -> None:
    assert check(checks) == Verdict()
    crypto = check(checks, krx_ts(2026, 3, 7, 3, 0), "UPBIT:KRW-BTC")
    assert crypto == Verdict(), "crypto trades on Saturdays at 03:00"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (("70000", "1E+400", "69900", "70000", "1"), "high 1E+400 is above"),
        (("70000", "70100", "69900", "Infinity", "1"), "close Infinity is not a finite number"),
        (("NaN", "70100", "69900", "70000", "1"), "open NaN is not a finite number"),
        (("0.0", "70100", "0.0", "70000", "1"), "prices must be positive"),
        (("1E-400", "70100", "1E-400", "70000", "1"), "more digits than the store keeps"),
        (("70000.00000000000000001", "70100", "69900", "70000", "1"), "more digits"),
        (("70000", "69000", "69900", "70000", "1"), "inconsistent OHLC"),
        (("70000", "70100", "69900", "70000", "10.5"), "volume 10.5 is not a whole number"),
        (("70000", "70100", "69900", "70000", "1E+30"), "volume 1E+30 is above"),
        (("70000", "70100", "69900", "70000", "-1"), "volume must not be negative"),
    ],
)
def test_values_the_store_cannot_hold_are_refused(
    checks: BarChecks, values: tuple[str, ...], reason: str
) -> None:
    verdict = check(checks, values=values)
    assert verdict.problem is not None and reason in verdict.problem


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        (krx_ts(1, 1, 1, 9, 0), "outside the years 1970 to 2199"),
        (krx_ts(5138, 11, 16, 9, 0), "outside the years 1970 to 2199"),
        (krx_ts(2026, 3, 7, 9, 0), "2026-03-07 09:00 Sat (Asia/Seoul) is not a trading minute"),
        (krx_ts(2026, 3, 3, 3, 0), "2026-03-03 03:00 Tue (Asia/Seoul) is not a trading minute"),
        (krx_ts(2026, 3, 3, 15, 31), "15:31 Tue (Asia/Seoul) is not a trading minute"),
        (krx_ts(2026, 3, 3, 8, 59), "08:59 Tue (Asia/Seoul) is not a trading minute"),
        (krx_ts(2030, 3, 5, 9, 0), "2030-03-05 is beyond the range of the KRX trading calendar"),
        (krx_ts(2001, 3, 6, 9, 0), "2001-03-06 is beyond the range of the KRX trading calendar"),
        (OPEN + 30 * 1_000_000_000, "not on a minute boundary"),
    ],
)
def test_times_outside_the_sessions_are_refused(checks: BarChecks, ts: int, reason: str) -> None:
    verdict = check(checks, ts)
    assert verdict.problem is not None and reason in verdict.problem, verdict


def test_the_last_minute_of_a_session_is_a_session_minute(checks: BarChecks) -> None:
    assert check(checks, krx_ts(2026, 3, 3, 15, 29)) == Verdict()


def test_the_closing_auction_print_at_the_close_is_a_bar_of_the_session(
    checks: BarChecks,
) -> None:
    # KRX's 15:20-15:30 single-price auction prints once at 15:30; brokers report a 15:30 bar.
    assert check(checks, krx_ts(2026, 3, 3, 15, 30)) == Verdict()


def test_bars_later_than_now_are_refused_when_now_is_given() -> None:
    checks = BarChecks(known_calendar, not_after_ns=OPEN)
    assert check(checks, OPEN).problem is None
    later = check(checks, OPEN + NANOS_PER_MINUTE).problem
    assert later is not None and "later than now" in later


@pytest.mark.parametrize(
    ("symbol", "reason"),
    [
        ('KRX:00"5930', "a KRX code is 6 digits or capital letters"),
        ("KRX:5930", "a KRX code is 6 digits or capital letters"),
        ("SAMSUNG", "not of the form VENUE:CODE"),
        ("krx:005930", "not a canonical VENUE:CODE"),
        ("NASDAQ:AAPL", "no trading calendar for NASDAQ"),
        ("UPBIT:KRW BTC", "capitals, digits"),
    ],
)
def test_invalid_instrument_ids_are_refused(checks: BarChecks, symbol: str, reason: str) -> None:
    verdict = check(checks, symbol=symbol)
    assert verdict.problem is not None and reason in verdict.problem, verdict


def test_a_jump_from_the_previous_close_is_flagged_and_the_bar_kept() -> None:
    checks = BarChecks(known_calendar, max_jump=Decimal("0.30"))
    assert check(checks) == Verdict()
    split = check(checks, OPEN + NANOS_PER_MINUTE, values=("1400", "1410", "1390", "1400", "5"))
    assert split.problem is None
    assert split.flag is not None and "from the previous close 70000" in split.flag
    # The flagged bar is the new reference: the next bar near it is not flagged again.
    after = check(checks, OPEN + 2 * NANOS_PER_MINUTE, values=("1400", "1420", "1390", "1410", "5"))
    assert after == Verdict()
    # Another instrument has its own previous close; a 29% move is within the limit.
    other = ("180000", "180000", "128000", "130000", "1")
    assert check(checks, OPEN, "KRX:000660", ("180000",) * 4 + ("1",)) == Verdict()
    assert check(checks, OPEN + NANOS_PER_MINUTE, "KRX:000660", other) == Verdict()


def test_no_jump_check_when_switched_off() -> None:
    checks = BarChecks(known_calendar, max_jump=None)
    check(checks)
    big = ("1400", "1410", "1390", "1400", "5")
    assert check(checks, OPEN + NANOS_PER_MINUTE, values=big) == Verdict()
    with pytest.raises(ValueError, match="max_jump"):
        BarChecks(known_calendar, max_jump=Decimal(0))
