"""Which one-minute bars a stored series lacks, as ranges to ask a venue for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.ports.calendar import TradingCalendar


def bar_minutes(calendar: TradingCalendar, session: date) -> tuple[int, int]:
    """``[first, end)`` of the minute bars ``session`` has: its trading minutes and the
    minute opening at its close.

    KRX's closing auction prints one price at 15:30 and brokers report it as the 15:30
    bar (the bar checks accept it for the same reason), with the day's auction volume;
    a gap detector that stopped at 15:29 would never ask for it. Where the close is
    the next session's open (a venue trading round the clock) that minute is the next
    session's, so it is not counted twice.
    """
    open_ns, close_ns = calendar.session_bounds(session)
    if calendar.session_of(close_ns) is None:
        return open_ns, close_ns + NANOS_PER_MINUTE
    return open_ns, close_ns


def missing_ranges(
    sessions: Iterable[tuple[int, int]], present: Iterable[int], *, until: int | None = None
) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of session minutes with no bar, merged, oldest first.

    ``sessions`` are ``[first, end)`` bounds of minute opens (``bar_minutes``);
    ``until`` cuts off minutes not yet complete (a live session).
    """
    have = set(present)
    ranges: list[tuple[int, int]] = []
    for open_ns, close_ns in sessions:
        end_of_day = close_ns if until is None else min(close_ns, until)
        start: int | None = None
        ts = open_ns
        while ts + NANOS_PER_MINUTE <= end_of_day:
            if ts not in have:
                start = ts if start is None else start
            elif start is not None:
                ranges.append((start, ts))
                start = None
            ts += NANOS_PER_MINUTE
        if start is not None:
            ranges.append((start, ts))
    return ranges


def minutes_in(ranges: Iterable[tuple[int, int]]) -> int:
    return sum((end - start) // NANOS_PER_MINUTE for start, end in ranges)
