"""Missing minutes of a stored series, as merged ranges."""

from __future__ import annotations

from jts.core.gaps import minutes_in
from jts.core.gaps import missing_ranges
from jts.domain.timestamps import NANOS_PER_MINUTE as M

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
