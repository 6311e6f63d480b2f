"""The one validation every bar passes before it is stored: files, replays, live feeds.

A bar is refused when the platform could not use it later: a price that is not
positive, finite and exactly what the store's Float64 gives back; OHLC that do
not hold together; a volume that is not a whole number within bounds; an
instrument id the platform cannot trade; a time that is not a minute of the
instrument's trading sessions (or, at an edge that may read the wall clock,
later than now). A bar that moves more than ``max_jump`` from the previous close
of its instrument is kept but flagged: splits, resumed trading and first listing
days move that far legitimately, and refusing the bar would refuse every later
bar of the instrument too (each would jump from the last one kept).

Pure: the calendars come in through the ``TradingCalendar`` port.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from jts.domain.instruments import KRX
from jts.domain.instruments import InstrumentId
from jts.domain.market import Bar
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.ports.calendar import TradingCalendar

# Sane bounds, far beyond any real market (a KRX stock trades below 10 million won).
MAX_PRICE = Decimal(10**12)
MAX_VOLUME = Decimal(10**15)  # per minute; a day of them still fits the store's UInt64 sums
DEFAULT_MAX_JUMP = Decimal("0.30")  # KRX's daily limit; a bar-to-bar move beyond it is rare
EARLIEST_NS = dt_to_ns(datetime(1970, 1, 1, tzinfo=UTC))
LATEST_NS = dt_to_ns(datetime(2200, 1, 1, tzinfo=UTC))

# Any decimal of at most 15 significant digits (not too small) survives a Float64 round trip.
_EXACT_DIGITS = 15
_MIN_EXPONENT = -300
_KRX_CODE = re.compile(r"[0-9A-Z]{6}")
_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")
_VENUE = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
# A market closed this long is beyond its calendar, not on holiday.
_CALENDAR_HORIZON = timedelta(days=31)

CalendarLookup = Callable[[str], TradingCalendar | None]


@dataclass(frozen=True, slots=True)
class Verdict:
    """``problem``: why the bar is refused; ``flag``: why a kept bar deserves a look."""

    problem: str | None = None
    flag: str | None = None


class BarChecks:
    """Checks bars in order, remembering each instrument's last close for the jump check.

    ``calendars`` maps a venue to its calendar (None: unknown venue, refused); with
    no lookup at all, sessions are not checked (a component built without calendars).
    ``not_after_ns`` refuses bars opening later (the wall clock at an import).
    """

    def __init__(
        self,
        calendars: CalendarLookup | None,
        *,
        max_jump: Decimal | None = DEFAULT_MAX_JUMP,
        not_after_ns: int | None = None,
    ) -> None:
        if max_jump is not None and not max_jump > 0:
            raise ValueError(f"max_jump must be positive, got {max_jump}")
        self._calendars = calendars
        self._cache: dict[str, TradingCalendar | None] = {}
        self._ids: dict[str, str | None] = {}  # instrument id -> its problem (few ids, many bars)
        self.max_jump = max_jump
        self.not_after_ns = not_after_ns
        self._last: dict[str, tuple[int, Decimal]] = {}

    def check_bar(self, bar: Bar) -> Verdict:
        return self.check(
            bar.instrument_id, bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume
        )

    def check(
        self,
        instrument_id: str,
        ts: int,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal,
    ) -> Verdict:
        """Refuse or accept one bar; an accepted bar becomes its instrument's previous close."""
        if instrument_id not in self._ids:
            self._ids[instrument_id] = self.instrument_problem(instrument_id)
        problem = (
            self._ids[instrument_id]
            or value_problem(open_, high, low, close, volume)
            or self.time_problem(instrument_id, ts)
        )
        if problem:
            return Verdict(problem=problem)
        flag = self._jump(instrument_id, ts, high, low)
        last = self._last.get(instrument_id)
        if last is None or ts > last[0]:
            self._last[instrument_id] = (ts, close)
        return Verdict(flag=flag)

    def instrument_problem(self, instrument_id: str) -> str | None:
        try:
            parsed = InstrumentId.parse(instrument_id)
        except ValueError as exc:
            return str(exc)
        if str(parsed) != instrument_id or not _VENUE.fullmatch(parsed.venue):
            return f"instrument id {instrument_id!r} is not a canonical VENUE:CODE"
        pattern = _KRX_CODE if parsed.venue == KRX else _CODE
        if not pattern.fullmatch(parsed.code):
            shape = (
                "6 digits or capital letters" if parsed.venue == KRX else "capitals, digits, ._-"
            )
            return f"instrument id {instrument_id!r}: a {parsed.venue} code is {shape}"
        if self._calendars is not None and self._calendar(parsed.venue) is None:
            return f"instrument id {instrument_id!r}: no trading calendar for {parsed.venue}"
        return None

    def time_problem(self, instrument_id: str, ts: int) -> str | None:
        """Why ``ts`` is no minute bar's open of ``instrument_id`` (its id already checked)."""
        problem = self._clock_problem(ts)
        if problem:
            return problem
        if self._calendars is None:
            return None
        venue = instrument_id.partition(":")[0]
        calendar = self._calendar(venue)
        if calendar is None:
            return f"no trading calendar for {venue}"
        if calendar.is_open(ts) or _closing_auction(calendar, ts):
            return None
        local = ns_in_zone(ts, calendar.timezone)
        if _beyond_calendar(calendar, local.date()):
            return (
                f"{local.date()} is beyond the range of the {venue} trading calendar "
                f"({describe_ts(ts)})"
            )
        return (
            f"{local:%Y-%m-%d %H:%M} {local:%a} ({calendar.timezone}) is not a trading "
            f"minute of {venue}"
        )

    def _clock_problem(self, ts: int) -> str | None:
        if not EARLIEST_NS <= ts < LATEST_NS:
            return f"timestamp {describe_ts(ts)} is outside the years 1970 to 2199"
        if ts % NANOS_PER_MINUTE:
            return f"timestamp {describe_ts(ts)} is not on a minute boundary"
        if self.not_after_ns is not None and ts > self.not_after_ns:
            return (
                f"timestamp {describe_ts(ts)} is later than now ({describe_ts(self.not_after_ns)})"
            )
        return None

    def _calendar(self, venue: str) -> TradingCalendar | None:
        if self._calendars is None:
            return None
        if venue not in self._cache:
            self._cache[venue] = self._calendars(venue)
        return self._cache[venue]

    def _jump(self, instrument_id: str, ts: int, high: Decimal, low: Decimal) -> str | None:
        last = self._last.get(instrument_id)
        if self.max_jump is None or last is None or ts <= last[0]:
            return None
        previous = last[1]
        move = max(high - previous, previous - low) / previous
        if move <= self.max_jump:
            return None
        return (
            f"moves {move:.1%} from the previous close {previous} "
            f"(more than {self.max_jump:.0%}; a split or a bad price?)"
        )


def value_problem(
    open_: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
) -> str | None:
    """Why these OHLCV values cannot be stored and read back as a bar, or None."""
    for name, price in (("open", open_), ("high", high), ("low", low), ("close", close)):
        problem = price_problem(name, price)
        if problem:
            return problem
    if low > min(open_, close) or high < max(open_, close) or low > high:
        return f"inconsistent OHLC (o={open_} h={high} l={low} c={close})"
    return volume_problem(volume)


def price_problem(name: str, price: Decimal) -> str | None:
    """A price must be positive, finite, sane and exactly what the store's Float64 keeps."""
    if not price.is_finite():
        return f"{name} {price} is not a finite number"
    if price <= 0:
        return "prices must be positive"
    if price > MAX_PRICE:
        return f"{name} {price} is above {MAX_PRICE:,}"
    _, digits, exponent = price.as_tuple()
    if len(digits) <= _EXACT_DIGITS and isinstance(exponent, int) and exponent >= _MIN_EXPONENT:
        return None  # at most 15 significant digits: a double gives exactly these back
    stored = float(price)
    if not math.isfinite(stored) or stored <= 0 or Decimal(repr(stored)) != price:
        return f"{name} {price} has more digits than the store keeps exactly"
    return None


def volume_problem(volume: Decimal) -> str | None:
    """A volume is a whole number from 0 to ``MAX_VOLUME`` (the store keeps UInt64)."""
    if not volume.is_finite():
        return f"volume {volume} is not a finite number"
    if volume < 0:
        return "volume must not be negative"
    if volume != volume.to_integral_value():
        return f"volume {volume} is not a whole number"
    if volume > MAX_VOLUME:
        return f"volume {volume} is above {MAX_VOLUME:,}"
    return None


def describe_ts(ts: int) -> str:
    """``ts`` as ISO-8601 UTC, or as plain nanoseconds when no datetime can hold it."""
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts // 1_000)
    except OverflowError:
        return f"{ts} ns since 1970"
    return moment.isoformat()


def ns_in_zone(ts: int, zone: str) -> datetime:
    """``ts`` (within 1970..2199) as a datetime in the IANA zone ``zone``."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts // 1_000)
    return moment.astimezone(ZoneInfo(zone))


def _closing_auction(calendar: TradingCalendar, ts: int) -> bool:
    """The minute opening at a session's close: the closing auction's single print.

    KRX matches 15:20-15:30 orders at one price at 15:30; brokers report that print as
    a 15:30 bar (KIS minute candles, Creon charts), so it is a bar of the session.
    """
    session = calendar.session_of(ts - 1)
    return session is not None and calendar.session_bounds(session)[1] == ts


def _beyond_calendar(calendar: TradingCalendar, day: date) -> bool:
    return not calendar.sessions(day, day + _CALENDAR_HORIZON) or not calendar.sessions(
        day - _CALENDAR_HORIZON, day
    )
