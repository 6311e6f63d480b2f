"""Which one-minute bars a stored series lacks, as ranges to ask a venue for."""

from __future__ import annotations

from collections.abc import Iterable

from jts.domain.timestamps import NANOS_PER_MINUTE


def missing_ranges(
    sessions: Iterable[tuple[int, int]], present: Iterable[int], *, until: int | None = None
) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of session minutes with no bar, merged, oldest first.

    ``sessions`` are (open, close) bounds; ``until`` cuts off minutes not yet
    complete (a live session).
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
