"""TradingCalendar implementations: exchange sessions from exchange_calendars, and 24/7.

``is_open`` runs for every order and every bar, so the exchange calendar turns
the pandas schedule into plain integer arrays once, at construction, and
answers with a bisect plus a one-session cache; pandas is never touched per
call. Loading a calendar costs seconds, so calendars are shared per name.
"""

from __future__ import annotations

import warnings
from bisect import bisect_left
from bisect import bisect_right
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import numpy as np

from jts.domain.errors import ConfigurationError
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ns_to_dt
from jts.ports.calendar import TradingCalendar

_VENUE_CALENDARS = {"KRX": "XKRX"}
_ALWAYS_OPEN_VENUES = frozenset({"UPBIT", "BINANCE"})


def _ns(series: Any) -> list[int]:
    """A pandas datetime Series (UTC, any unit, NaT allowed) as UTC nanoseconds (NaT -> -1)."""
    if series.dt.tz is not None:
        series = series.dt.tz_convert(None)
    values = series.to_numpy(dtype="datetime64[ns]")
    result = values.astype("int64")
    result[np.isnat(values)] = -1
    return [int(value) for value in result]


class ExchangeTradingCalendar:
    """An exchange's sessions (``XKRX``: 09:00-15:30 KST, first day of the year from 10:00)."""

    def __init__(self, name: str = "XKRX") -> None:
        self.name = name
        calendar = _load(name)
        self.timezone = str(calendar.tz)
        self._sessions: list[date] = [ts.date() for ts in calendar.sessions]
        self._opens = _ns(calendar.opens)
        self._closes = _ns(calendar.closes)
        self._break_starts = _ns(calendar.break_starts)
        self._break_ends = _ns(calendar.break_ends)
        self._index = {session: i for i, session in enumerate(self._sessions)}
        self._hit = -1  # index of the session the last lookup fell in

    @property
    def first_session(self) -> date:
        return self._sessions[0]

    @property
    def last_session(self) -> date:
        return self._sessions[-1]

    def _locate(self, ts: int) -> int:
        """Index of the session whose [open, close) holds ``ts``, or -1."""
        hit = self._hit
        if hit >= 0 and self._opens[hit] <= ts < self._closes[hit]:
            return hit
        i = bisect_right(self._opens, ts) - 1
        if i < 0 or ts >= self._closes[i]:
            return -1
        self._hit = i
        return i

    def is_open(self, ts: int) -> bool:
        i = self._locate(ts)
        if i < 0:
            return False
        start, end = self._break_starts[i], self._break_ends[i]
        return not (start >= 0 and start <= ts < end)

    def session_of(self, ts: int) -> date | None:
        i = self._locate(ts)
        return None if i < 0 else self._sessions[i]

    def is_session(self, day: date) -> bool:
        return day in self._index

    def sessions(self, start: date, end: date) -> list[date]:
        return self._sessions[
            bisect_left(self._sessions, start) : bisect_right(self._sessions, end)
        ]

    def next_session(self, day: date) -> date:
        """The first session on or after ``day``."""
        i = bisect_left(self._sessions, day)
        if i >= len(self._sessions):
            raise ConfigurationError(f"{self.name}: no session on or after {day} in the calendar")
        return self._sessions[i]

    def session_bounds(self, session: date) -> tuple[int, int]:
        i = self._index.get(session)
        if i is None:
            raise ValueError(f"{self.name}: {session} is not a trading session")
        return self._opens[i], self._closes[i]

    def settlement_date(self, session: date, days: int) -> date:
        i = bisect_left(self._sessions, session) + days
        if not 0 <= i < len(self._sessions):
            raise ConfigurationError(
                f"{self.name}: settlement of {session} + {days} sessions is outside the calendar"
            )
        return self._sessions[i]


class AlwaysOpenCalendar:
    """Crypto: trading never stops; a session is a UTC calendar day."""

    name = "24/7"
    timezone = "UTC"

    def is_open(self, ts: int) -> bool:
        return True

    def session_of(self, ts: int) -> date | None:
        return ns_to_dt(ts).date()

    def sessions(self, start: date, end: date) -> list[date]:
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]

    def session_bounds(self, session: date) -> tuple[int, int]:
        opened = dt_to_ns(datetime(session.year, session.month, session.day, tzinfo=UTC))
        return opened, opened + NANOS_PER_DAY

    def settlement_date(self, session: date, days: int) -> date:
        return session + timedelta(days=days)


@lru_cache(maxsize=8)
def _load(name: str) -> Any:
    if name not in xcals.get_calendar_names(include_aliases=True):
        raise ConfigurationError(f"unknown exchange calendar {name!r}")
    with warnings.catch_warnings():
        # exchange_calendars itself reads Series.values, which pandas 3.1 deprecates.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xcals.get_calendar(name)


@lru_cache(maxsize=8)
def exchange_calendar(name: str = "XKRX") -> ExchangeTradingCalendar:
    """The shared calendar for an exchange code (built once per process)."""
    return ExchangeTradingCalendar(name)


def calendar_for_venue(venue: str) -> TradingCalendar:
    """KRX -> XKRX sessions; UPBIT and BINANCE trade around the clock."""
    key = venue.upper()
    if key in _VENUE_CALENDARS:
        return exchange_calendar(_VENUE_CALENDARS[key])
    if key in _ALWAYS_OPEN_VENUES:
        return AlwaysOpenCalendar()
    raise ConfigurationError(f"no trading calendar known for venue {venue!r}")


def known_calendar(venue: str) -> TradingCalendar | None:
    """The calendar of ``venue``, or None when the platform knows no calendar for it."""
    try:
        return calendar_for_venue(venue)
    except ConfigurationError:
        return None
