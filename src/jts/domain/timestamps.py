"""UTC time helpers: integer nanoseconds inside, aware datetimes at the edges."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

# Korea's time: how market time is shown to people (KRX sessions are in it).
KST = ZoneInfo("Asia/Seoul")

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MILLI = 1_000_000
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND


def dt_to_ns(value: datetime) -> int:
    """Convert an aware datetime to UTC nanoseconds; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: JTS only accepts timezone-aware times")
    delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND + delta.microseconds * 1_000


def ns_to_dt(ns: int) -> datetime:
    """Convert UTC nanoseconds to an aware UTC datetime (microsecond precision)."""
    seconds, rem = divmod(ns, NANOS_PER_SECOND)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rem // 1_000)


def ms_to_ns(ms: int) -> int:
    return ms * NANOS_PER_MILLI


def ns_to_ms(ns: int) -> int:
    return ns // NANOS_PER_MILLI


def kst_date(ns: int) -> date:
    """The calendar day in Korea at ``ns``: the day KRX rules (tick ladders, taxes) go by."""
    return ns_to_dt(ns).astimezone(KST).date()
